"""Sign-in, sign-out and who am I (/api/v1/session), and user management for admins (/api/v1/users)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from collector.accounts import passwords, sessions, signin, users
from collector.accounts.roles import Role
from collector.deps import AdminDep, CookieDep, CredentialsDep, ReaderDep, ReadSessionDep, RuntimeDep
from collector.errors import ApiError, ErrorResponse
from collector.models import User

session_router = APIRouter(prefix="/api/v1/session", tags=["accounts"])
users_router = APIRouter(prefix="/api/v1/users", tags=["accounts"])

Username = Annotated[str, Path(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")]
_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse, "description": "The body is not valid JSON."},
    401: {"model": ErrorResponse, "description": "Not signed in, or wrong credentials."},
    403: {"model": ErrorResponse, "description": "Your role may not do this."},
}


class SignInRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"username": "alice", "password": "…"}]})
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=passwords.MAX_LENGTH)


class SessionOut(BaseModel):
    username: str
    role: Role
    display_name: str | None
    token: str = Field(description="Send as `Authorization: Bearer <token>`; browsers get it as a cookie too.")
    expires_at: datetime


class Me(BaseModel):
    kind: str = Field(description="`user` or `api-key`.")
    name: str
    role: Role


class UserOut(BaseModel):
    username: str
    display_name: str | None
    role: Role
    created_at: datetime
    last_login_at: datetime | None
    disabled: bool

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            username=user.username,
            display_name=user.display_name,
            role=Role(user.role),
            created_at=user.created_at,
            last_login_at=user.last_login_at,
            disabled=user.disabled_at is not None,
        )


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2, max_length=64)
    role: Role
    password: str = Field(min_length=1, max_length=passwords.MAX_LENGTH)
    display_name: str | None = Field(default=None, max_length=128)


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role | None = None
    disabled: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=passwords.MAX_LENGTH)


@session_router.post(
    "", status_code=201, response_model=SessionOut, responses=_ERRORS, summary="Sign in with a username and password"
)
async def sign_in(body: SignInRequest, request: Request, response: Response, runtime: RuntimeDep) -> SessionOut:
    try:
        signed_in = await run_in_threadpool(
            signin.sign_in, runtime.sessions, runtime.settings, body.username, body.password, datetime.now(UTC)
        )
    except users.SignInRefused as error:
        raise ApiError(401, "sign_in_refused", str(error)) from error
    set_session_cookie(response, request, signed_in)
    return SessionOut(
        username=signed_in.username,
        role=signed_in.role,
        display_name=signed_in.display_name,
        token=signed_in.token,
        expires_at=signed_in.expires_at,
    )


def set_session_cookie(response: Response, request: Request, signed_in: signin.SignedIn) -> None:
    """HttpOnly (no script reads it), SameSite=Strict (no other site sends it), Secure whenever served over TLS."""
    response.set_cookie(
        sessions.COOKIE_NAME,
        signed_in.token,
        expires=signed_in.expires_at,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


@session_router.delete("", status_code=204, responses=_ERRORS, summary="Sign out (ends this session)")
def sign_out(_actor: ReaderDep, runtime: RuntimeDep, credentials: CredentialsDep, cookie: CookieDep) -> Response:
    token = credentials.credentials if credentials is not None else cookie
    if token is not None and sessions.is_session_token(token):
        signin.sign_out(runtime.sessions, token, datetime.now(UTC))
    response = Response(status_code=204)
    response.delete_cookie(sessions.COOKIE_NAME, path="/")
    return response


@session_router.get("", response_model=Me, responses=_ERRORS, summary="Who is signed in, with which role")
def me(actor: ReaderDep) -> Me:
    return Me(kind=actor.kind, name=actor.name, role=actor.role)


@users_router.get("", response_model=list[UserOut], responses=_ERRORS, summary="List users (admin)")
def list_users(_admin: AdminDep, session: ReadSessionDep) -> list[UserOut]:
    return [UserOut.of(user) for user in users.list_users(session)]


@users_router.post(
    "",
    status_code=201,
    response_model=UserOut,
    responses={**_ERRORS, 409: {"model": ErrorResponse, "description": "The username is taken."}},
    summary="Create a user (admin)",
)
def create_user(body: UserCreate, admin: AdminDep, runtime: RuntimeDep) -> UserOut:
    try:
        with runtime.sessions.begin() as session:
            user = users.create(
                session, body.username, body.role, body.password, actor=admin.audit_name, display_name=body.display_name
            )
            return UserOut.of(user)
    except passwords.WeakPassword as error:
        raise ApiError(422, "weak_password", str(error)) from error
    except users.AccountError as error:
        raise ApiError(409, "account_conflict", str(error)) from error


@users_router.patch(
    "/{username}",
    response_model=UserOut,
    responses={
        **_ERRORS,
        404: {"model": ErrorResponse, "description": "No such user."},
        409: {"model": ErrorResponse, "description": "The last active admin cannot be demoted or disabled."},
    },
    summary="Change a user's role, password or whether they may sign in (admin); ends their sessions",
)
def change_user(username: Username, body: UserChange, admin: AdminDep, runtime: RuntimeDep) -> UserOut:
    now = datetime.now(UTC)
    try:
        with runtime.sessions.begin() as session:
            user = users.find(session, username)
            if user is None:
                raise ApiError(404, "no_such_user", f"no user named {username!r}")
            if body.role is not None:
                users.set_role(session, user.username, body.role, actor=admin.audit_name)
            if body.password is not None:
                users.set_password(session, user.username, body.password, actor=admin.audit_name, now=now)
            if body.disabled is not None:
                users.set_disabled(session, user.username, body.disabled, actor=admin.audit_name, now=now)
            if body.model_fields_set - {"display_name"}:
                # A changed role, password or access takes effect now, not when the old session lapses.
                sessions.end_all_for(session, user, now)
            return UserOut.of(user)
    except passwords.WeakPassword as error:
        raise ApiError(422, "weak_password", str(error)) from error
    except users.AccountError as error:
        raise ApiError(409, "account_conflict", str(error)) from error
