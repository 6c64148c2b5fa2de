"""Requests sent with an ``Idempotency-Key``: the first one does the work and its answer is
kept with the key, in the same transaction; a retry with the same key and the same request
gets that answer again and changes nothing; the same key with another request is refused.

Keys belong to an account and are kept CROWDSHIP_IDEMPOTENCY_HOURS (24). A refusal that
changed nothing (a 409, a 404 ...) is not kept: the work was not done, so a retry is judged
anew. A refusal that is recorded anyway (a wrong handover code counts an attempt) is kept,
so a retry does not count a second attempt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from crowdship.service.entities.idempotency import repository
from crowdship.service.errors import Conflict, DomainError, Invalid

HEADER = "Idempotency-Key"
Answer = tuple[int, Any]  # status code, JSON body


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def once(
    session: Session,
    account_id: int,
    key: str | None,
    request: tuple[str, str, Any],
    now: datetime,
    work: Callable[[], Answer],
) -> Answer:
    """``work()``'s answer; with a key seen before for this request, the first answer."""
    if key is None:
        return work()
    method, path, body = request
    request_hash = fingerprint(method, path, body)
    described = f"{method} {path}"[:300]
    if not repository.claim(session, account_id, key, request_hash, described, now):
        first = repository.find(session, account_id, key)
        if first is None:  # pragma: no cover - claimed and gone: a concurrent delete
            raise Conflict(f"{HEADER} {key!r} is in use; retry", status="in_progress")
        if first.request_hash != request_hash:
            raise Invalid(
                HEADER,
                f"{key!r} was first sent with another request ({first.request}, or another "
                "body); use a new key for a new request",
            )
        if first.status_code is None or first.body is None:  # pragma: no cover - see claim
            raise Conflict(f"the request with {HEADER} {key!r} is still running; retry")
        return first.status_code, json.loads(first.body)
    try:
        status_code, answer = work()
    except DomainError as error:
        if error.keep_changes:  # committed anyway: keep the refusal with the key
            repository.record(session, account_id, key, error.status_code, _json(error.body()))
        raise
    repository.record(session, account_id, key, status_code, _json(answer))
    return status_code, answer


def forget_old(session: Session, now: datetime, hours: float) -> int:
    """Keys older than ``hours`` are dropped (the scheduler's tick): a request sent again
    after that is a new request."""
    return repository.forget_before(session, now - timedelta(hours=hours))


def _json(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))
