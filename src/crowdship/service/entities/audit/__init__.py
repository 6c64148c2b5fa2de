"""The audit log: every state-changing request an operator makes (who, what, when)."""
