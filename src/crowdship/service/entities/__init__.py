"""Entities: each owns its models, its repository (all of its SQL) and, where it has states,
a transition table with one compare-and-set door. An entity imports no other entity's
repository or service; it refers to others by id."""
