"""Accounts: operators, merchants, customers and couriers; login and tokens."""
