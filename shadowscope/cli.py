"""The `shadowscope` command: one entry point with a subcommand per part of the system."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from shadowscope import classify_cmd, collector_cmd, report_cmd, rules_cmd, sensor_cmd

app = typer.Typer(
    name="shadowscope",
    help="Find and price shadow AI: company data sent to public AI tools.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(collector_cmd.app, name="collector")
app.add_typer(sensor_cmd.app, name="sensor")
app.command("classify")(classify_cmd.classify)
app.add_typer(report_cmd.app, name="report")
app.add_typer(rules_cmd.app, name="rules")


@app.callback()
def configure(
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "warning",
) -> None:
    level = logging.getLevelNamesMapping().get(log_level.upper())
    if level is None:
        raise typer.BadParameter(f"unknown log level {log_level!r}", param_hint="--log-level")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo's database goes (emptied first).")] = Path(".demo"),
) -> None:
    """Run the main job on embedded defaults: a real collector on SQLite fed the bundled sample data."""
    from shadowscope.demo import run_demo

    run_demo(workdir.resolve())


def main() -> None:
    app()
