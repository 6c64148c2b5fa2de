"""Being written (this session): _sphere."""
