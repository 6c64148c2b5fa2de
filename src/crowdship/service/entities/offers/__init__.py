"""Offers: a (trip, order) pair proposed to a courier, and the matching runs that made them."""
