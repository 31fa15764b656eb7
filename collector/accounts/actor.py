"""Who is making a request: a signed-in person or an API key, with the role that decides what they may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from collector.accounts.roles import Permission, Role, allows


@dataclass(frozen=True, slots=True)
class Actor:
    kind: Literal["user", "api-key"]
    name: str  # username, or the API key's public id
    role: Role
    user_id: int | None = None  # set for people: assignment and comments belong to users
    via_cookie: bool = False  # cookie-authenticated writes must come from our own pages (CSRF check)

    @property
    def audit_name(self) -> str:
        return f"{self.kind}:{self.name}"

    def may(self, permission: Permission) -> bool:
        return allows(self.role, permission)
