"""The `shadowscope` command: every part has a subcommand with help; errors are one clear line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from collector.migrate import head_revision
from shadowscope.cli import app

runner = CliRunner()
SUBCOMMANDS = ["collector", "sensor", "classify", "report", "demo"]


def test_when_asked_for_help_then_every_part_is_listed() -> None:
    result = subprocess.run([sys.executable, "-m", "shadowscope", "--help"], capture_output=True, text=True)

    assert result.returncode == 0
    for name in SUBCOMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize(
    "command",
    [[name] for name in SUBCOMMANDS]
    + [
        ["collector", "serve"],
        ["collector", "migrate"],
        ["collector", "downgrade"],
        ["collector", "keys", "create"],
        ["collector", "devices", "token"],
        ["sensor", "send"],
        ["report", "usage"],
        ["report", "events"],
    ],
)
def test_every_subcommand_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])

    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_when_keys_are_managed_from_the_cli_then_they_are_created_listed_and_revoked(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]

    created = runner.invoke(app, ["collector", "keys", "create", "--scope", "sensor", "--sensor-id", "tap-1", *data])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[0]
    key_id = token.split("_")[1]
    assert token.startswith("ss_")

    listed = runner.invoke(app, ["collector", "keys", "list", *data])
    assert key_id in listed.stdout
    assert token.split("_", 2)[2] not in listed.stdout

    assert runner.invoke(app, ["collector", "keys", "revoke", key_id, *data]).exit_code == 0
    assert key_id not in runner.invoke(app, ["collector", "keys", "list", *data]).stdout
    assert key_id in runner.invoke(app, ["collector", "keys", "list", "--all", *data]).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["collector", "keys", "create", "--scope", "root"], "scope must be one of"),
        (["collector", "keys", "create", "--scope", "sensor"], "needs --sensor-id"),
        (["collector", "keys", "revoke", "feedface"], "no API key"),
    ],
)
def test_when_key_commands_get_bad_input_then_one_clear_error(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, [*args, "--data-dir", str(tmp_path)])

    assert result.exit_code == 2
    assert message in result.stderr


def test_when_migrating_from_the_cli_then_the_database_reaches_head_without_drift(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]

    assert f"revision {head_revision()}" in runner.invoke(app, ["collector", "migrate", *data]).stdout
    assert "no drift" in runner.invoke(app, ["collector", "migrate", "--check", *data]).stdout
    assert "revision base" in runner.invoke(app, ["collector", "downgrade", "base", *data]).stdout


def test_when_reporting_an_empty_database_then_json_is_an_empty_list(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "usage", "--format", "json", "--data-dir", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_when_report_times_are_reversed_then_it_says_so(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["report", "events", "--since", "2026-11-02", "--until", "2026-11-01", "--data-dir", str(tmp_path)],
    )

    assert result.exit_code == 2
    assert "--until must be later" in result.stderr


def test_when_sending_without_a_key_then_it_says_how_to_give_one(tmp_path: Path) -> None:
    batch_file = tmp_path / "b.json"
    batch_file.write_text("{}")

    result = runner.invoke(app, ["sensor", "send", str(batch_file)], env={"SHADOWSCOPE_SENSOR_API_KEY": ""})

    assert result.exit_code == 2
    assert "--api-key" in result.stderr


def test_when_a_batch_file_is_invalid_then_it_is_named_and_the_exit_code_says_failure(tmp_path: Path) -> None:
    batch_file = tmp_path / "broken.json"
    batch_file.write_text('{"schema_version": "1.0"}')

    result = runner.invoke(
        app, ["sensor", "send", str(batch_file), "--api-key", "ss_x_y", "--collector", "http://127.0.0.1:9"]
    )

    assert result.exit_code == 1
    assert "broken.json: not a valid batch" in result.stderr


def test_classify_labels_lists_the_taxonomy() -> None:
    result = runner.invoke(app, ["classify", "--list-labels"])

    assert [line.split()[0] for line in result.stdout.splitlines()] == [
        "pii",
        "phi",
        "payment_card",
        "financial",
        "legal",
        "credentials",
    ]


def test_when_the_log_level_is_unknown_then_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--log-level", "chatty", "classify", "--list-labels"])

    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "docx"], "--format takes a comma-separated list"),
        (["--from", "2026-05-01", "--to", "2026-04-01"], "--to must not be before --from"),
        (["--from", "yesterday"], "Invalid value for '--from'"),
    ],
)
def test_when_the_board_report_gets_bad_arguments_then_one_clear_error(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["report", "--out", str(tmp_path / "out"), "--data-dir", str(tmp_path), *args])

    assert result.exit_code == 2
    assert message in result.stderr


def test_when_the_board_report_runs_on_an_empty_database_then_four_files_say_so(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["report", "--out", str(out), "--data-dir", str(tmp_path), "--trials", "2000"])

    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in out.iterdir()) == ["report.csv", "report.json", "report.pdf", "report.xlsx"]
    assert "expected annual loss $0" in result.stdout
    assert "example organisation profile" in result.stderr


def test_when_devices_are_managed_from_the_cli_then_a_token_enrols_one_that_is_listed_and_revoked(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime

    from collector.enrolment import enrol_device
    from collector.settings import load_settings
    from shadowscope.database import open_sessions

    common = ["--data-dir", str(tmp_path)]
    assert runner.invoke(app, ["collector", "migrate", *common]).exit_code == 0
    issued = runner.invoke(app, ["collector", "devices", "token", "--uses", "1", *common])
    assert issued.exit_code == 0, issued.output
    with open_sessions(load_settings(data_dir=tmp_path)) as sessions, sessions.begin() as session:
        device = enrol_device(
            session, issued.stdout.strip(), device_name="laptop", extension_version="0.1.0", now=datetime.now(UTC)
        )

    assert device.device_id in runner.invoke(app, ["collector", "devices", "list", *common]).stdout
    assert runner.invoke(app, ["collector", "devices", "revoke", device.device_id, *common]).exit_code == 0
    assert device.device_id not in runner.invoke(app, ["collector", "devices", "list", *common]).stdout
    unknown = runner.invoke(app, ["collector", "devices", "revoke", "dev-nobody", *common])
    assert unknown.exit_code == 2
    assert "no enrolled device dev-nobody" in unknown.stderr
