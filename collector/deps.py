"""Typed FastAPI dependencies: the process runtime, a read session, and the caller's API key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

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
ReaderDep = Annotated[Principal, Depends(require_scope(Scope.READ, Scope.ADMIN))]
AdminDep = Annotated[Principal, Depends(require_scope(Scope.ADMIN))]
