"""Domain errors carry their HTTP status and a message that names what went wrong."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    keep_changes = False  # commit what the request changed before refusing it

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return {"detail": self.message, **self.detail}


class Unauthorized(DomainError):
    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    """The thing is not in a state that allows this (the body gives the current state)."""

    status_code = 409


class Invalid(DomainError):
    """Well-formed input that breaks a rule; names the field."""

    status_code = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field=field)


class Locked(DomainError):
    status_code = 423


class WrongCode(DomainError):
    """A handover code did not match; the failed attempt is recorded."""

    status_code = 422
    keep_changes = True


class LockedNow(Locked):
    """This wrong code was the last allowed one; the lock is recorded."""

    keep_changes = True
