"""`shadowscope collector devices`: enrolment tokens for browser extensions, and the devices that enrolled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from shadowscope.options import ConfigOption, DatabaseUrlOption, DataDirOption, fail, key_dates
from shadowscope.policy_cmd import open_collector_sessions

app = typer.Typer(
    help="Enrol browser extensions: create enrolment tokens, list and revoke enrolled devices.",
    no_args_is_help=True,
)


@app.command("token")
def token(
    uses: Annotated[int, typer.Option(min=1, max=10_000, help="How many devices may enrol with it.")] = 1,
    ttl_hours: Annotated[int, typer.Option(min=1, max=24 * 90, help="Hours until it expires.")] = 72,
    description: Annotated[str | None, typer.Option(help="What it is for (e.g. the rollout wave).")] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create an enrolment token and print it once (push it to extensions through managed storage)."""
    from collector.enrolment import create_enrolment_token

    with open_collector_sessions(config, data_dir, database_url) as sessions, sessions.begin() as session:
        issued = create_enrolment_token(
            session, uses=uses, ttl=timedelta(hours=ttl_hours), now=datetime.now(UTC), description=description
        )
    typer.echo(issued.token)
    typer.echo(f"valid for {issued.uses} enrolment(s) until {issued.expires_at:%Y-%m-%d %H:%M} UTC", err=True)


@app.command("list")
def list_devices(
    all_devices: Annotated[bool, typer.Option("--all", help="Include revoked devices.")] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Enrolled devices with when they enrolled and were last seen."""
    from rich.console import Console
    from rich.table import Column, Table

    from collector.enrolment import list_devices as list_all

    table = Table(Column("device", no_wrap=True, min_width=28), "description", "enrolled", "last seen", "revoked")
    with open_collector_sessions(config, data_dir, database_url) as sessions, sessions() as session:
        for key in list_all(session, include_revoked=all_devices):
            table.add_row(
                key.sensor_id or "",
                key.description or "",
                *key_dates(key),
            )
    Console().print(table)


@app.command("revoke")
def revoke(
    device_id: Annotated[str, typer.Argument(help="The device id shown by `devices list`.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Revoke a device; its credential is refused from the next request on."""
    from collector.enrolment import revoke_device
    from collector.keys import ApiKeyError

    try:
        with open_collector_sessions(config, data_dir, database_url) as sessions, sessions.begin() as session:
            revoke_device(session, device_id)
    except ApiKeyError as error:
        raise fail(str(error)) from error
    typer.echo(f"revoked {device_id}")
