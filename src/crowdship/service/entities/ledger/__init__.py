"""Money after delivery: the double-entry ledger, daily settlement, T+2 payouts, wallets."""
