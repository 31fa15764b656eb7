"""`shadowscope collector users`: create the first admin, list users, change a role or password, disable."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from collector.models import AuditEntry, User
from collector.settings import load_settings
from shadowscope.cli import app
from tests.support.people_and_alerts import PASSWORD, cheap_password_hashing

runner = CliRunner()


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


def _users(tmp_path: Path, *args: str, password: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(
        app, ["collector", "users", *args, "--data-dir", str(tmp_path)], input=f"{password}\n" if password else None
    )
    return result.exit_code, result.stdout, result.stderr


def _rows(tmp_path: Path) -> dict[str, tuple[str, str, bool]]:
    engine = create_engine(load_settings(None, data_dir=tmp_path).resolved_database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(User.username, User.role, User.password_hash, User.disabled_at)).all()
            return {name: (role, hashed, disabled is not None) for name, role, hashed, disabled in rows}
    finally:
        engine.dispose()


def _audit_actions(tmp_path: Path) -> list[tuple[str, str, str]]:
    engine = create_engine(load_settings(None, data_dir=tmp_path).resolved_database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(AuditEntry.actor, AuditEntry.action, AuditEntry.subject_id).order_by(AuditEntry.id)
            ).all()
            return [(actor, action, subject) for actor, action, subject in rows]
    finally:
        engine.dispose()


def test_when_users_are_managed_from_the_cli_then_they_are_created_listed_changed_and_audited(tmp_path: Path) -> None:
    created = _users(tmp_path, "create", "Admin", "--role", "admin", "--password-stdin", password=PASSWORD)
    _users(
        tmp_path,
        "create",
        "alice",
        "--role",
        "reviewer",
        "--display-name",
        "Alice A.",
        "--password-stdin",
        password=PASSWORD,
    )

    assert created[0] == 0, created
    assert "created admin (admin)" in created[1]
    listed = _users(tmp_path, "list")
    assert listed[0] == 0
    assert "admin" in listed[1]
    assert "Alice A." in listed[1]
    assert PASSWORD not in listed[1]
    assert "argon2" not in listed[1]
    stored = _rows(tmp_path)
    assert stored["alice"][0] == "reviewer"
    assert stored["alice"][1].startswith("$argon2id$")

    assert _users(tmp_path, "set", "alice", "--role", "read_only")[0] == 0
    assert _users(tmp_path, "set", "alice", "--password-stdin", password="a new long passphrase")[0] == 0
    assert _users(tmp_path, "set", "alice", "--disable")[0] == 0

    changed = _rows(tmp_path)["alice"]
    assert changed[0] == "read_only"
    assert changed[1] != stored["alice"][1]
    assert changed[2] is True
    assert _audit_actions(tmp_path) == [
        ("cli", "user.created", "admin"),
        ("cli", "user.created", "alice"),
        ("cli", "user.role", "alice"),
        ("cli", "user.password", "alice"),
        ("cli", "user.disabled", "alice"),
    ]


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["create", "bob", "--role", "reviewer", "--password-stdin"], "short", "at least 12"),
        (["create", "bob", "--role", "reviewer", "--password-stdin"], "bob-has-a-long-password", "username"),
        (["create", "b", "--role", "reviewer", "--password-stdin"], PASSWORD, "2-64 characters"),
        (["create", "bob", "--role", "root", "--password-stdin"], PASSWORD, "root"),
        (["set", "nobody", "--disable"], None, "no user named"),
        (["set", "admin"], None, "say what to change"),
        (["set", "admin", "--role", "reviewer"], None, "last active admin"),
        (["set", "admin", "--disable"], None, "last active admin"),
    ],
)
def test_when_a_user_command_is_refused_then_one_clear_error_and_no_password_echoed(
    tmp_path: Path, args: list[str], password: str | None, message: str
) -> None:
    _users(tmp_path, "create", "admin", "--role", "admin", "--password-stdin", password=PASSWORD)

    code, stdout, stderr = _users(tmp_path, *args, password=password)

    assert code == 2
    assert message in stderr
    if password:
        assert password not in stdout + stderr
    assert _rows(tmp_path)["admin"][0] == "admin"
    assert "bob" not in _rows(tmp_path)


def test_when_no_password_comes_on_stdin_then_it_says_so(tmp_path: Path) -> None:
    code, _, stderr = _users(tmp_path, "create", "admin", "--role", "admin", "--password-stdin")

    assert code == 2
    assert "no password" in stderr
