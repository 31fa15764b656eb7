"""Who is looking at a console page: the signed-in user from the session cookie, or a redirect to the sign-in page.

The JSON API answers a missing session with 401; a browser following a link wants the sign-in form instead, and
after signing in, the page it asked for. Writes need the TRIAGE permission and a same-origin form (deps checks the
Origin header for cookie-authenticated writes).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from collector.accounts.actor import Actor
from collector.accounts.roles import Permission
from collector.deps import CookieDep, RuntimeDep, authenticate_actor
from collector.errors import ApiError


class SignInRequired(Exception):
    """Not signed in (or the session lapsed): send the browser to the sign-in page, then back to `next_path`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class ConsoleRefused(Exception):
    """Signed in, but this may not be done (role, or a form from another site): an HTML error page."""

    def __init__(self, status: int, message: str, actor: Actor | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.actor = actor


def safe_next(path: str | None) -> str:
    """Only our own console paths: a `next` pointing elsewhere would make sign-in an open redirect."""
    if path and path.startswith("/console/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/console/"


def sign_in_url(next_path: str) -> str:
    return f"/console/login?next={quote(safe_next(next_path), safe='/')}"


def console_actor(request: Request, runtime: RuntimeDep, cookie: CookieDep) -> Actor:
    """The signed-in reader. The console is for people: only the session cookie counts, never an API key."""
    try:
        actor = authenticate_actor(request, runtime, None, cookie)
    except ApiError as error:
        if error.status == 401:
            wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInRequired(wanted if request.method == "GET" else request.url.path) from error
        raise ConsoleRefused(error.status, error.message) from error
    if not actor.may(Permission.READ):
        raise ConsoleRefused(403, "your role may not read the console", actor)
    return actor


ConsoleActor = Annotated[Actor, Depends(console_actor)]


def triager(actor: ConsoleActor) -> Actor:
    if not actor.may(Permission.TRIAGE):
        raise ConsoleRefused(403, f"{actor.name} ({actor.role}) may read alerts but not change them", actor)
    return actor


def administrator(actor: ConsoleActor) -> Actor:
    if not actor.may(Permission.ADMINISTER):
        raise ConsoleRefused(403, f"{actor.name} ({actor.role}) may not change the policy", actor)
    return actor


TriagerActor = Annotated[Actor, Depends(triager)]
AdminActor = Annotated[Actor, Depends(administrator)]
