"""Being written (this session): _planar."""
