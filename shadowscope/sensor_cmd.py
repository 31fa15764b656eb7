"""`shadowscope sensor`: deliver AI-tool usage events to the collector."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shadowscope.options import fail

app = typer.Typer(help="Network sensor: deliver AI-tool usage seen on taps to the collector.", no_args_is_help=True)

CollectorUrl = Annotated[
    str, typer.Option("--collector", envvar="SHADOWSCOPE_COLLECTOR_URL", help="Collector base URL.")
]
ApiKey = Annotated[
    str,
    typer.Option(
        "--api-key",
        envvar="SHADOWSCOPE_SENSOR_API_KEY",
        help="This sensor's API key.",
        show_default=False,
        prompt=False,
    ),
]


@app.command()
def send(
    batch_files: Annotated[
        list[Path],
        typer.Argument(
            help="Event batch JSON files (the contract in events/).",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    collector: CollectorUrl = "http://127.0.0.1:8080",
    api_key: ApiKey = "",
) -> None:
    """Validate event batch files against the contract and deliver them, retrying transient failures."""
    from pydantic import ValidationError

    from events.models import EventBatch
    from sensor.delivery import CollectorClient, DeliveryFailed, DeliveryRefused

    if not api_key:
        raise fail("no API key: pass --api-key or set SHADOWSCOPE_SENSOR_API_KEY")
    failures = 0
    with CollectorClient(collector, api_key) as client:
        for path in batch_files:
            try:
                batch = EventBatch.model_validate_json(path.read_bytes())
                receipt = client.send(batch)
            except ValidationError as error:
                failures += 1
                first = error.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                typer.echo(f"{path}: not a valid batch: {where}: {first['msg']}", err=True)
            except (DeliveryRefused, DeliveryFailed) as error:
                failures += 1
                typer.echo(f"{path}: {error}", err=True)
            else:
                note = " (already delivered)" if receipt.duplicate_batch else ""
                typer.echo(f"{path}: {receipt.received} events, {receipt.stored} new{note}")
    if failures:
        raise typer.Exit(1)
