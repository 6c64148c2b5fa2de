"""Who is calling: the account behind a request or a job, enough to check role and ownership
without an ORM object. Every service function takes one."""

from __future__ import annotations

from dataclasses import dataclass

from crowdship.service.entities.accounts.models import Role
from crowdship.service.errors import Forbidden


@dataclass(frozen=True)
class Actor:
    """Who is calling: enough to check role and ownership without an ORM object."""

    id: int
    role: Role
    name: str
    phone: str | None
    point_id: int | None = None  # staff: the pickup point they work at
    token_generation: int = 0  # tokens of an older generation are refused

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            wanted = " or ".join(r.value for r in roles)
            raise Forbidden(f"this needs the {wanted} role; you are {self.role.value}")
