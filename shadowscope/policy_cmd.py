"""`shadowscope collector policy`: the organisation's AI-tool policy, edited where the collector's database is."""

from __future__ import annotations

import getpass
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shadowscope.options import ConfigOption, DatabaseUrlOption, DataDirOption, fail

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

app = typer.Typer(
    help="Sanctioned, tolerated or unsanctioned: per tool, per category, by default.", no_args_is_help=True
)

Actor = Annotated[str | None, typer.Option(help="Who makes the change (default: cli:<login name>).")]
Reason = Annotated[str | None, typer.Option(help="Why; kept in the policy history.")]
Status = Annotated[str | None, typer.Option(help="sanctioned, tolerated or unsanctioned; omit to unset.")]


def open_collector_sessions(
    config: Path | None, data_dir: Path | None, database_url: str | None
) -> AbstractContextManager[sessionmaker[Session]]:
    from collector.settings import load_settings
    from shadowscope.database import open_sessions

    return open_sessions(load_settings(config, data_dir=data_dir, database_url=database_url))


@app.command()
def show(config: ConfigOption = None, data_dir: DataDirOption = None, database_url: DatabaseUrlOption = None) -> None:
    """Print the policy in force."""
    from collector.policy import current_policy

    with open_collector_sessions(config, data_dir, database_url) as sessions, sessions() as session:
        current = current_policy(session)
    typer.echo(f"policy version {current.version}")
    typer.echo(f"default: {current.default}")
    for title, entries in (("categories", current.categories), ("tools", current.tools)):
        for subject, status in sorted(entries.items()):
            typer.echo(f"{title[:-1] if title == 'tools' else 'category'} {subject}: {status}")


@app.command("set")
def set_status(
    tool: Annotated[str | None, typer.Option(help="A catalog tool id.")] = None,
    category: Annotated[str | None, typer.Option(help="A catalog category.")] = None,
    default: Annotated[bool, typer.Option("--default", help="The status of tools not otherwise listed.")] = False,
    status: Status = None,
    actor: Actor = None,
    reason: Reason = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Set (or with no --status, unset) the status of one tool, one category, or the default."""
    from collector.policy import SubjectKind, ToolStatus, change
    from rules.catalog import CatalogError, load_catalog
    from rules.catalog_schema import Category

    chosen = [
        (SubjectKind.TOOL, tool),
        (SubjectKind.CATEGORY, category),
        (SubjectKind.DEFAULT, "*" if default else None),
    ]
    subjects = [(kind, subject) for kind, subject in chosen if subject is not None]
    if len(subjects) != 1:
        raise fail("name exactly one of --tool, --category or --default")
    kind, subject = subjects[0]
    try:
        new_status = ToolStatus(status) if status is not None else None
    except ValueError as error:
        raise fail(f"status must be one of {', '.join(s.value for s in ToolStatus)}") from error
    if kind is SubjectKind.CATEGORY and subject not in {c.value for c in Category}:
        raise fail(f"unknown category {subject!r}")
    if kind is SubjectKind.TOOL and new_status is not None:
        try:
            known = subject in load_catalog().tools
        except CatalogError as error:
            raise fail(f"the catalog does not load: {error.problems[0]}") from error
        if not known:
            raise fail(f"no tool {subject!r} in the catalog (see `shadowscope rules list`)")
    with open_collector_sessions(config, data_dir, database_url) as sessions, sessions.begin() as session:
        record = change(session, kind, subject, new_status, actor=actor or f"cli:{getpass.getuser()}", reason=reason)
        version = record.id if record is not None else None
    if version is None:
        typer.echo("no change")
    else:
        typer.echo(f"{kind} {subject}: {new_status or 'unset'} (policy version {version})")


@app.command("history")
def show_history(
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Who changed what, newest first."""
    from collector.policy import history

    with open_collector_sessions(config, data_dir, database_url) as sessions, sessions() as session:
        for change in history(session, limit):
            typer.echo(
                f"v{change.id} {change.changed_at:%Y-%m-%d %H:%M} {change.actor}: {change.subject_kind} "
                f"{change.subject} {change.old_status or 'unset'} -> {change.new_status or 'unset'}"
                + (f" ({change.reason})" if change.reason else "")
            )
