"""Incidents and disputes: reported by a party, resolved by the operator."""
