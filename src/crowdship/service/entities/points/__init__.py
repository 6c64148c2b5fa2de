"""Pickup points (B2C): staffed places where couriers drop parcels and receivers collect."""
