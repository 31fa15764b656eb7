"""Command-line options shared by the commands that open the collector's database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from collector.models import ApiKey

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="SHADOWSCOPE_COLLECTOR_DATA_DIR",
        help="Directory of the embedded SQLite database and the content-hash key.",
        file_okay=False,
    ),
]
DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="SHADOWSCOPE_COLLECTOR_DATABASE_URL",
        help="SQLAlchemy URL (postgresql+psycopg://...); default: SQLite in the data directory.",
        show_envvar=True,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        envvar="SHADOWSCOPE_COLLECTOR_CONFIG_FILE",
        help="TOML file with collector settings (environment variables win over it).",
        exists=True,
        dir_okay=False,
    ),
]


def key_dates(key: ApiKey) -> tuple[str, str, str]:
    """When a key (or a device's credential) was made, last used and revoked, as a table shows them."""
    minute = "%Y-%m-%d %H:%M"
    return (
        key.created_at.strftime(minute),
        key.last_used_at.strftime(minute) if key.last_used_at else "never",
        key.revoked_at.strftime(minute) if key.revoked_at else "",
    )


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error to stderr and return the Exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)
