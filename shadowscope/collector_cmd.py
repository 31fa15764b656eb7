"""`shadowscope collector`: run the collector, migrate its database, manage API keys."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shadowscope import devices_cmd, policy_cmd, users_cmd
from shadowscope.options import ConfigOption, DatabaseUrlOption, DataDirOption, fail, key_dates

if TYPE_CHECKING:
    from collector.settings import CollectorSettings

app = typer.Typer(help="Run the collector, migrate its database and manage API keys.", no_args_is_help=True)
keys_app = typer.Typer(
    help="Create, list and revoke API keys for sensors, the browser gateway and readers.",
    no_args_is_help=True,
)
app.add_typer(keys_app, name="keys")
app.add_typer(policy_cmd.app, name="policy")
app.add_typer(devices_cmd.app, name="devices")
app.add_typer(users_cmd.app, name="users")


def _settings(config: Path | None, data_dir: Path | None, database_url: str | None) -> CollectorSettings:
    # Imported here so `shadowscope sensor ...` works on a tap box without the collector's dependencies.
    from collector.settings import load_settings

    try:
        return load_settings(config, data_dir=data_dir, database_url=database_url)
    except (FileNotFoundError, ValueError) as error:
        raise fail(str(error)) from error


@app.command()
def serve(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8080,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request line.")] = False,
) -> None:
    """Serve the collector's HTTP API (migrating the database to the current schema first)."""
    import uvicorn

    from collector import migrate
    from collector.db import build_engine
    from collector.settings import CONFIG_FILE_ENV, ENV_PREFIX

    settings = _settings(config, data_dir, database_url)
    # Workers are separate processes that build their own settings: hand them ours through the environment.
    os.environ[f"{ENV_PREFIX}DATA_DIR"] = str(settings.data_dir)
    os.environ[f"{ENV_PREFIX}DATABASE_URL"] = settings.resolved_database_url
    if config is not None:
        os.environ[CONFIG_FILE_ENV] = str(config)
    if settings.auto_migrate:
        # Once, here, rather than racing in every worker.
        engine = build_engine(settings)
        migrate.upgrade(engine)
        engine.dispose()
        os.environ[f"{ENV_PREFIX}AUTO_MIGRATE"] = "false"
    uvicorn.run(
        "collector.asgi:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_level="info",
    )


@app.command("scheduler")
def scheduler_command(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
    once: Annotated[
        bool, typer.Option("--once", help="Run each periodic job once, if this process gets the lease, and exit.")
    ] = False,
) -> None:
    """Run the scheduled jobs: rule windows, rollups, retention purge, reports, alert delivery (see docs/scheduler.md).

    Run it as its own process with run_scheduler = false for the serving workers. Starting more than one is safe:
    a lease in the database lets one process at a time run the jobs.
    """
    import signal
    import threading

    from collector import migrate
    from collector.runtime import Runtime
    from collector.scheduling.destinations import DestinationError
    from collector.scheduling.scheduler import CollectorScheduler
    from collector.settings import load_settings

    try:
        # This process classifies nothing: leave spaCy unloaded.
        settings = load_settings(config, data_dir=data_dir, database_url=database_url, classify_content=False)
    except (FileNotFoundError, ValueError) as error:
        raise fail(str(error)) from error
    runtime = Runtime.start(settings)
    try:
        if migrate.current_revision(runtime.engine) != migrate.head_revision():
            # Not migrated here: `collector serve` (or `collector migrate`) does it, and two migrations must not race.
            raise fail("the database schema is not current: run `shadowscope collector migrate` first")
        try:
            scheduler = CollectorScheduler(runtime, deployment_jobs=True)
        except DestinationError as error:
            raise fail(str(error)) from error
        if once:
            for job_id, result in scheduler.run_once().items():
                typer.echo(f"{job_id}: {result}")
            return
        stop = threading.Event()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signal_number, lambda *_: stop.set())
        scheduler.start()
        try:
            while not stop.wait(1.0):
                pass
        finally:
            scheduler.shutdown()
    finally:
        runtime.engine.dispose()


@app.command("migrate")
def migrate_command(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    check: Annotated[bool, typer.Option("--check", help="Only report drift between models and migrations.")] = False,
) -> None:
    """Upgrade the collector's database schema (to head unless told otherwise)."""
    from alembic.util import AutogenerateDiffsDetected, CommandError

    from collector import migrate
    from collector.db import build_engine

    engine = build_engine(_settings(config, data_dir, database_url))
    try:
        if check:
            migrate.check(engine)
            typer.echo("no drift: the models match the migrations")
            return
        migrate.upgrade(engine, revision)
        typer.echo(f"database at revision {migrate.current_revision(engine) or 'base'}")
    except (AutogenerateDiffsDetected, CommandError) as error:
        raise fail(str(error)) from error
    finally:
        engine.dispose()


@app.command()
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision; `base` drops every table.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Downgrade the collector's database schema (data in dropped tables is lost)."""
    from alembic.util import CommandError

    from collector import migrate
    from collector.db import build_engine

    engine = build_engine(_settings(config, data_dir, database_url))
    try:
        migrate.downgrade(engine, revision)
        typer.echo(f"database at revision {migrate.current_revision(engine) or 'base'}")
    except CommandError as error:
        raise fail(str(error)) from error
    finally:
        engine.dispose()


@keys_app.command("create")
def create_key(
    scope: Annotated[str, typer.Option(help="sensor, browser, device, read or admin.")],
    sensor_id: Annotated[str | None, typer.Option(help="The sensor this key speaks for (sensor keys).")] = None,
    description: Annotated[str | None, typer.Option(help="Who or what holds the key.")] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create an API key and print it once; only its hash is stored."""
    from collector.keys import Scope
    from collector.keys import create_key as create
    from shadowscope.database import open_sessions

    try:
        scope_value = Scope(scope)
    except ValueError as error:
        raise fail(f"scope must be one of {', '.join(s.value for s in Scope)}, not {scope!r}") from error
    with open_sessions(_settings(config, data_dir, database_url)) as sessions:
        try:
            with sessions.begin() as session:
                issued = create(session, scope_value, sensor_id, description)
        except ValueError as error:
            raise fail(str(error)) from error
    typer.echo(issued.token)
    typer.echo(f"key id {issued.key_id} ({scope_value}); store the key now, it cannot be shown again", err=True)


@keys_app.command("list")
def list_keys(
    all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """List API keys (ids and metadata, never secrets)."""
    from rich.console import Console
    from rich.table import Column, Table

    from collector.keys import list_keys as list_all
    from shadowscope.database import open_sessions

    table = Table("scope", "sensor", "description", "created", "last used", "revoked")
    table.columns.insert(0, Column("key id", no_wrap=True, min_width=16))
    with open_sessions(_settings(config, data_dir, database_url)) as sessions, sessions() as session:
        for key in list_all(session, include_revoked=all_keys):
            table.add_row(
                key.key_id,
                key.scope,
                key.sensor_id or "",
                key.description or "",
                *key_dates(key),
            )
    Console().print(table)


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key id shown by `keys list`.")],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Revoke an API key; the collector refuses it from the next request on."""
    from collector.keys import ApiKeyError
    from collector.keys import revoke_key as revoke
    from shadowscope.database import open_sessions

    with open_sessions(_settings(config, data_dir, database_url)) as sessions:
        try:
            with sessions.begin() as session:
                revoke(session, key_id)
        except ApiKeyError as error:
            raise fail(str(error)) from error
    typer.echo(f"revoked {key_id}")
