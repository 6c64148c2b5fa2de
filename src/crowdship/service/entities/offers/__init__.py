"""Matching: the rolling-horizon job, offers to couriers, and grabbing open orders."""
