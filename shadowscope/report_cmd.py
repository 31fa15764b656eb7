"""`shadowscope report`: what the collector has stored, as a table, JSON or CSV."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shadowscope.options import ConfigOption, DatabaseUrlOption, DataDirOption, fail

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from collector.queries import EventFilter

app = typer.Typer(help="Report what the collector has stored: AI-tool usage and events.", no_args_is_help=True)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


class Grouping(StrEnum):
    TOOL = "tool"
    CLIENT = "client"
    TOOL_AND_CLIENT = "tool,client"


Since = Annotated[datetime | None, typer.Option(help="From this time (UTC unless an offset is given).")]
Until = Annotated[datetime | None, typer.Option(help="Before this time.")]
Tool = Annotated[str | None, typer.Option(help="Only this AI tool id.")]
Client = Annotated[str | None, typer.Option(help="Only this client.")]
Sensor = Annotated[str | None, typer.Option(help="Only this sensor or device.")]
Format = Annotated[OutputFormat, typer.Option("--format", help="Output format.")]


def _event_filter(
    since: datetime | None, until: datetime | None, tool: str | None, client: str | None, sensor: str | None
) -> EventFilter:
    from datetime import UTC

    from collector.queries import EventFilter

    def aware(value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    if since and until and aware(until) <= aware(since):  # type: ignore[operator]
        raise fail("--until must be later than --since")
    return EventFilter(since=aware(since), until=aware(until), tool_id=tool, client=client, source_id=sensor)


@contextmanager
def _read_session(config: Path | None, data_dir: Path | None, database_url: str | None) -> Iterator[Session]:
    from collector.settings import load_settings
    from shadowscope.database import open_sessions

    settings = load_settings(config, data_dir=data_dir, database_url=database_url)
    with open_sessions(settings) as sessions, sessions() as session:
        yield session


def _emit(rows: list[dict[str, Any]], columns: list[str], output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(rows, indent=2, default=str))
    elif output is OutputFormat.CSV:
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*columns)
        for row in rows:
            table.add_row(*("" if row.get(c) is None else str(row[c]) for c in columns))
        Console().print(table)


@app.command()
def usage(
    since: Since = None,
    until: Until = None,
    tool: Tool = None,
    client: Client = None,
    sensor: Sensor = None,
    group_by: Annotated[Grouping, typer.Option(help="Group rows by tool, client or both.")] = Grouping.TOOL,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 100,
    output: Format = OutputFormat.TABLE,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """AI-tool usage: events, flows, distinct clients and bytes up/down, biggest uploaders first."""
    from collector.queries import UsageGrouping
    from collector.queries import usage as usage_query

    where = _event_filter(since, until, tool, client, sensor)
    with _read_session(config, data_dir, database_url) as session:
        rows = usage_query(session, where, UsageGrouping(group_by.value), 0, limit)
    columns = [
        *group_by.value.replace("tool", "tool_id").split(","),
        "events",
        "flows",
        "clients",
        "bytes_up",
        "bytes_down",
        "first_seen",
        "last_seen",
    ]
    _emit([asdict(row) for row in rows], columns, output)


@app.command()
def events(
    since: Since = None,
    until: Until = None,
    tool: Tool = None,
    client: Client = None,
    sensor: Sensor = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    output: Format = OutputFormat.TABLE,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Stored events in arrival order (content is never shown: only labels, hashes and sizes are stored)."""
    from collector.queries import list_events

    where = _event_filter(since, until, tool, client, sensor)
    with _read_session(config, data_dir, database_url) as session:
        page = list_events(session, where, None, limit)
        rows = [
            {
                "id": e.id,
                "kind": e.kind,
                "occurred_at": e.occurred_at,
                "source": e.source_id,
                "client": e.client,
                "tool_id": e.tool_id,
                "bytes_up": e.bytes_up,
                "bytes_down": e.bytes_down,
                "detail": e.detail,
            }
            for e in page.events
        ]
    columns = ["id", "kind", "occurred_at", "source", "client", "tool_id", "bytes_up", "bytes_down"]
    _emit(rows, columns if output is OutputFormat.TABLE else [*columns, "detail"], output)
