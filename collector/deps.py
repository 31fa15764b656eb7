"""Typed FastAPI dependencies: the process runtime, a read session, and who is calling.

Producers (sensors, the browser gateway) authenticate with API keys of their scope. People and scripts reading or
changing things authenticate as an Actor — a signed-in user (session cookie or `Bearer sess_...`) or a read/admin
API key — and every route states the Permission it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from collector.accounts import sessions as user_sessions
from collector.accounts.actor import Actor
from collector.accounts.roles import Permission, Role
from collector.accounts.signin import lifetimes
from collector.errors import ApiError
from collector.keys import ApiKeyError, Principal, Scope, authenticate
from collector.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer ss_<key id>_<secret>`.")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_read_session(runtime: RuntimeDep) -> Iterator[Session]:
    with runtime.sessions() as session:
        yield session


ReadSessionDep = Annotated[Session, Depends(get_read_session)]
CredentialsDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def require_scope(*allowed: Scope) -> Callable[[RuntimeDep, CredentialsDep], Principal]:
    def check_key(runtime: RuntimeDep, credentials: CredentialsDep) -> Principal:
        if credentials is None:
            raise ApiError(401, "missing_api_key", "send an API key as 'Authorization: Bearer <key>'")
        try:
            with runtime.sessions.begin() as session:
                principal = authenticate(session, credentials.credentials, datetime.now(UTC))
        except ApiKeyError as error:
            raise ApiError(401, "invalid_api_key", str(error)) from error
        if principal.scope not in allowed:
            wanted = " or ".join(scope.value for scope in allowed)
            raise ApiError(403, "wrong_scope", f"API key {principal.key_id} has scope {principal.scope}, not {wanted}")
        return principal

    return check_key


ProducerDep = Annotated[Principal, Depends(require_scope(Scope.SENSOR, Scope.BROWSER))]

_session_cookie = APIKeyCookie(
    name=user_sessions.COOKIE_NAME, auto_error=False, description="The console's session (set by sign-in)."
)
CookieDep = Annotated[str | None, Depends(_session_cookie)]
_KEY_ROLES = {Scope.READ: Role.READ_ONLY, Scope.ADMIN: Role.ADMIN}
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _same_origin(request: Request) -> bool:
    """A cookie-authenticated write must come from our own pages: the browser's Origin (or Referer) names us."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return False
    parsed = urlsplit(origin)
    return f"{parsed.scheme}://{parsed.netloc}" == f"{request.url.scheme}://{request.url.netloc}"


def authenticate_actor(request: Request, runtime: Runtime, bearer: str | None, cookie: str | None) -> Actor:
    """The caller as an Actor, or a 401/403 ApiError."""
    now = datetime.now(UTC)
    token, via_cookie = (bearer, False) if bearer is not None else (cookie, True)
    if token is None:
        raise ApiError(401, "not_authenticated", "sign in, or send 'Authorization: Bearer <API key or session token>'")
    if via_cookie or user_sessions.is_session_token(token):
        if via_cookie and request.method not in _SAFE_METHODS and not _same_origin(request):
            raise ApiError(403, "cross_origin", "a change made with the session cookie must come from the console")
        try:
            with runtime.sessions.begin() as session:
                user = user_sessions.resolve(session, token, now, lifetimes(runtime.settings))
                return Actor("user", user.username, Role(user.role), user_id=user.id, via_cookie=via_cookie)
        except user_sessions.SessionInvalid as error:
            raise ApiError(401, "not_authenticated", str(error)) from error
    try:
        with runtime.sessions.begin() as session:
            principal = authenticate(session, token, now)
    except ApiKeyError as error:
        raise ApiError(401, "invalid_api_key", str(error)) from error
    role = _KEY_ROLES.get(principal.scope)
    if role is None:
        raise ApiError(403, "wrong_scope", f"API key {principal.key_id} has scope {principal.scope}, not read or admin")
    return Actor("api-key", principal.key_id, role)


def require_permission(permission: Permission) -> Callable[[Request, RuntimeDep, CredentialsDep, CookieDep], Actor]:
    def check(request: Request, runtime: RuntimeDep, credentials: CredentialsDep, cookie: CookieDep) -> Actor:
        actor = authenticate_actor(request, runtime, credentials.credentials if credentials else None, cookie)
        if not actor.may(permission):
            raise ApiError(403, "forbidden", f"{actor.audit_name} ({actor.role}) may not {permission.value}")
        return actor

    return check


ReaderDep = Annotated[Actor, Depends(require_permission(Permission.READ))]
TriagerDep = Annotated[Actor, Depends(require_permission(Permission.TRIAGE))]
AdminDep = Annotated[Actor, Depends(require_permission(Permission.ADMINISTER))]
