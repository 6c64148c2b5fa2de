"""Idempotency keys: the first answer to a request sent with an ``Idempotency-Key``, kept so
that a retry gets it again instead of doing the work twice."""
