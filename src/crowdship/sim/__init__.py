"""Simulation: scenarios (days of trips and requests), and later courier response and
strategies over a whole day."""
