"""Being written (this session): _certify."""
