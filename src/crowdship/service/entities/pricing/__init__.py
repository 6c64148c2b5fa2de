"""Fees: the tariff (pure), its versions in the database, and the quote endpoint."""
