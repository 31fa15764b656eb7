"""`shadowscope collector users`: local accounts for the console and API (admin, reviewer, read_only)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer

from shadowscope.options import ConfigOption, DatabaseUrlOption, DataDirOption, fail
from shadowscope.policy_cmd import open_collector_sessions

app = typer.Typer(
    help="Local accounts for the console and API: create, list, change role or password, disable.",
    no_args_is_help=True,
)
CLI_ACTOR = "cli"


class RoleChoice(StrEnum):
    # Mirrors collector.accounts.roles.Role, which cannot be imported at module load (a sensor-only install).
    admin = "admin"
    reviewer = "reviewer"
    read_only = "read_only"


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input (for scripts).")
]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise fail("no password on standard input")
        return password
    prompted: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    return prompted


@app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="Lower-case letters, digits and . _ @ -")],
    role: Annotated[RoleChoice, typer.Option(help="What the user may do.")],
    display_name: Annotated[str | None, typer.Option(help="Name shown in the console.")] = None,
    password_stdin: PasswordStdin = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create a user (asks for the password twice, or reads it from stdin)."""
    from collector.accounts import passwords, users
    from collector.accounts.roles import Role

    password = _read_password(password_stdin)
    try:
        with open_collector_sessions(config, data_dir, database_url) as sessions, sessions.begin() as session:
            users.create(session, username, Role(role.value), password, actor=CLI_ACTOR, display_name=display_name)
    except (users.AccountError, passwords.WeakPassword) as error:
        raise fail(str(error)) from error
    typer.echo(f"created {username.strip().lower()} ({role.value})")


@app.command("list")
def list_users(
    config: ConfigOption = None, data_dir: DataDirOption = None, database_url: DatabaseUrlOption = None
) -> None:
    """Users with their role and last sign-in."""
    from rich.console import Console
    from rich.table import Table

    from collector.accounts import users

    table = Table("user", "name", "role", "last sign-in", "disabled")
    with open_collector_sessions(config, data_dir, database_url) as sessions, sessions() as session:
        for user in users.list_users(session):
            table.add_row(
                user.username,
                user.display_name or "",
                user.role,
                f"{user.last_login_at:%Y-%m-%d %H:%M}" if user.last_login_at else "never",
                f"{user.disabled_at:%Y-%m-%d}" if user.disabled_at else "",
            )
    Console().print(table)


@app.command("set")
def change(
    username: Annotated[str, typer.Argument()],
    role: Annotated[RoleChoice | None, typer.Option(help="A new role.")] = None,
    password: Annotated[bool, typer.Option("--password", help="Set a new password (asked for).")] = False,
    password_stdin: PasswordStdin = False,
    disable: Annotated[bool | None, typer.Option("--disable/--enable", help="Stop or allow sign-in.")] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Change a user's role, password or whether they may sign in; their open sessions end."""
    from collector.accounts import passwords, sessions, users
    from collector.accounts.roles import Role

    if role is None and not (password or password_stdin) and disable is None:
        raise fail("say what to change: --role, --password or --disable/--enable")
    new_password = _read_password(password_stdin) if password or password_stdin else None
    now = datetime.now(UTC)
    try:
        with open_collector_sessions(config, data_dir, database_url) as factory, factory.begin() as session:
            user = users.get(session, username)
            if role is not None:
                users.set_role(session, user.username, Role(role.value), actor=CLI_ACTOR)
            if new_password is not None:
                users.set_password(session, user.username, new_password, actor=CLI_ACTOR, now=now)
            if disable is not None:
                users.set_disabled(session, user.username, disable, actor=CLI_ACTOR, now=now)
            sessions.end_all_for(session, user, now)
    except (users.AccountError, passwords.WeakPassword) as error:
        raise fail(str(error)) from error
    typer.echo(f"changed {username.strip().lower()}")
