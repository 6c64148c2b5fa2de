"""Notifications: an outbox of messages to people (new offers, state changes with the
tracking link, payouts), each sent once per event, retried when a send fails."""
