"""Ratings of couriers after delivery, and the Bayesian score the matcher uses."""
