"""Money after delivery: the double-entry ledger, settlement and payout runs, payouts, the
T+2 calendar."""
