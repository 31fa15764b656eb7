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

app = typer.Typer(
    help="Report what the collector has stored: the board exposure report (--out DIR), AI-tool usage and events.",
    no_args_is_help=True,
)
EXPORT_FORMATS = ("pdf", "xlsx", "csv", "json")


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


def _formats(value: str) -> list[str]:
    chosen = [part.strip().lower() for part in value.split(",") if part.strip()]
    unknown = [part for part in chosen if part not in EXPORT_FORMATS]
    if unknown or not chosen:
        raise fail(f"--format takes a comma-separated list of {', '.join(EXPORT_FORMATS)} (got {value!r})")
    return chosen


@app.callback(invoke_without_command=True)
def exposure(
    context: typer.Context,
    out: Annotated[Path | None, typer.Option("--out", help="Write the board report here.", file_okay=False)] = None,
    start: Annotated[
        datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (default: first stored).")
    ] = None,
    end: Annotated[
        datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day (default: last stored).")
    ] = None,
    org: Annotated[
        Path | None,
        typer.Option("--org", exists=True, dir_okay=False, help="Organisation profile YAML (default: example)."),
    ] = None,
    formats: Annotated[str, typer.Option("--format", help="Any of pdf,xlsx,csv,json.")] = ",".join(EXPORT_FORMATS),
    seed: Annotated[int, typer.Option(min=0, help="Random seed: same data and seed, same figures.")] = 20261125,
    trials: Annotated[int, typer.Option(min=1000, max=5_000_000, help="Monte Carlo trials.")] = 100_000,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Dollar exposure per regulation from stored events: the board report as PDF, XLSX, CSV and JSON."""
    if context.invoked_subcommand is not None:
        if out is not None:
            raise fail("--out makes the board report; it does not go with a subcommand")
        return
    if out is None:
        raise fail("give --out DIR for the board report, or a subcommand (see --help)")
    chosen = _formats(formats)
    if start and end and end < start:
        raise fail("--to must not be before --from")
    from collector.exposure_report import InvalidWindow, exposure_report
    from exposure.exports import write_exports
    from rules.catalog import load_catalog
    from rules.exposure_parameters import ExposureRulesError, load_parameters, load_profile

    try:
        profile = load_profile(org) if org else load_profile()
        load_parameters(profile)
    except ExposureRulesError as error:
        raise fail(str(error)) from error
    with _read_session(config, data_dir, database_url) as session:
        try:
            report = exposure_report(
                session,
                load_catalog(),
                profile,
                start=start.date() if start else None,
                end=end.date() if end else None,
                trials=trials,
                seed=seed,
            )
        except InvalidWindow as error:
            raise fail(str(error)) from error
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = write_exports(report, out, chosen)
    except OSError as error:
        raise fail(f"{out}: {error.strerror or error}") from error
    total = report.total
    typer.echo(
        f"expected annual loss ${total.mean:,.0f} (median ${total.p50:,.0f}; "
        f"80% interval, P10 to P90: ${total.p10:,.0f} to ${total.p90:,.0f}) from "
        f"{report.evidence.labelled_events:,} labelled of {report.evidence.events:,} events, "
        f"{report.window_from} to {report.window_to}, seed {report.seed}"
    )
    for path in written:
        typer.echo(f"wrote {path}")
    if not org:
        typer.echo("note: the example organisation profile was used; give yours with --org", err=True)


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
