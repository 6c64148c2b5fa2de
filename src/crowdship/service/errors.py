"""Domain errors carry their HTTP status and a message that names what went wrong; the
shapes of the bodies they answer are declared here too, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class DomainError(Exception):
    status_code = 400
    keep_changes = False  # commit what the request changed before refusing it

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return {"detail": self.message, **self.detail}

    def headers(self) -> dict[str, str] | None:
        """Headers the answer carries besides the body."""
        return None


class Unauthorized(DomainError):
    status_code = 401

    def headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    """The thing is not in a state that allows this (the body gives the current state)."""

    status_code = 409


class Invalid(DomainError):
    """Well-formed input that breaks a rule; names the field. Its body has the shape of a
    validation error (``errors``), so every 422 reads the same."""

    status_code = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field=field)
        self.problem = message

    def body(self) -> dict[str, Any]:
        field = self.detail["field"]
        error = {"field": field, "problem": self.problem, "type": "rule"}
        return {**super().body(), "errors": [error]}


class Locked(DomainError):
    status_code = 423


class TooManyRequests(DomainError):
    """Over a rate limit; ``Retry-After`` says how many seconds to wait."""

    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}


class Unavailable(DomainError):
    """The database cannot be reached or is busy for now (a restart, a held write lock):
    nothing was changed, and the same request may be sent again after ``Retry-After``."""

    status_code = 503

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)}


class WrongCode(Invalid):
    """A handover code did not match; the failed attempt is recorded."""

    keep_changes = True


class LockedNow(Locked):
    """This wrong code was the last allowed one; the lock is recorded."""

    keep_changes = True


# The bodies of refusals, as the OpenAPI document declares them.


class Problem(BaseModel):
    """A refusal: ``detail`` says what went wrong; ``field`` names the input at fault, and
    ``status`` the state that refused it (an order's, a trip's, an offer's ...)."""

    model_config = ConfigDict(extra="forbid")

    detail: str
    field: str | None = None
    status: str | None = None


class FieldProblem(BaseModel):
    field: str = Field(description="the input at fault, e.g. latest_delivery or answers.q1")
    problem: str = Field(description="what is wrong with it")
    type: str = Field(description="a machine-readable kind, e.g. missing or too_long")


class ValidationProblem(BaseModel):
    """Bad input: ``detail`` sums up every problem; ``errors`` lists them one by one."""

    model_config = ConfigDict(extra="forbid")

    detail: str
    errors: list[FieldProblem] = Field(min_length=1)
    field: str | None = None
