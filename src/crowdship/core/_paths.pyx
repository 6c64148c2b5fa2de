"""Being written (this session): _paths."""
