"""Couriers under control: the onboarding assessment, suspension, reliability, payout
accounts."""
