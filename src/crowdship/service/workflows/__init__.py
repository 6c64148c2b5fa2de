"""Workflows: the only code that touches more than one entity (posting, assignment, delivery,
the matching job, settlement and payouts, trust, incidents)."""
