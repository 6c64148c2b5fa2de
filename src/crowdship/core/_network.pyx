"""Being written (this session): _network."""
