"""`shadowscope rules` and `shadowscope collector policy` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shadowscope.cli import app

runner = CliRunner()


def test_rules_check_passes_on_the_shipped_catalog() -> None:
    result = runner.invoke(app, ["rules", "check"])

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("ok: ")


def test_rules_check_fails_listing_every_problem_of_a_bad_overlay(tmp_path: Path) -> None:
    overlay = tmp_path / "ours.yaml"
    overlay.write_text("schema: shadowscope/catalog/v1\ntools: []\nexamples: {match: {}, no_match: []}\n")

    result = runner.invoke(app, ["rules", "check", "--overlay", str(overlay)])

    assert result.exit_code == 1
    assert f"{overlay}:tools:" in result.stderr
    assert f"{overlay}:examples.match:" in result.stderr


def test_rules_lookup_explains_the_match_and_the_score() -> None:
    result = runner.invoke(app, ["rules", "lookup", "Files.OAIUserContent.com."])

    assert result.exit_code == 0, result.output
    assert "ChatGPT (openai-chatgpt)" in result.stdout
    assert "is under oaiusercontent.com" in result.stdout
    assert "risk score" in result.stdout


def test_rules_lookup_json_and_misses() -> None:
    result = runner.invoke(app, ["rules", "lookup", "--json", "api.openai.com", "notchatgpt.com"])

    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["tool"] == "openai-api"
    assert first["match"] == "suffix"
    assert second == {"name": "notchatgpt.com", "tool": None, "reason": "no AI tool in the catalog"}


def test_rules_list_filters_and_summarises() -> None:
    listed = runner.invoke(app, ["rules", "list", "--vendor", "openai"])
    summary = runner.invoke(app, ["rules", "list", "--summary"])
    bad = runner.invoke(app, ["rules", "list", "--category", "astrology"])

    assert {line.split()[0] for line in listed.stdout.splitlines()} >= {"openai-chatgpt", "openai-api"}
    assert "share of tools with each fact known" in summary.stdout
    assert bad.exit_code == 2
    assert "unknown category" in bad.stderr


def test_policy_cli_sets_shows_and_records_history(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]

    assert (
        runner.invoke(
            app,
            [
                "collector",
                "policy",
                "set",
                "--tool",
                "openai-chatgpt",
                "--status",
                "sanctioned",
                "--reason",
                "DPA",
                "--actor",
                "alice",
                *data,
            ],
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(app, ["collector", "policy", "set", "--default", "--status", "tolerated", *data]).exit_code == 0
    )

    shown = runner.invoke(app, ["collector", "policy", "show", *data]).stdout
    history = runner.invoke(app, ["collector", "policy", "history", *data]).stdout
    assert "default: tolerated" in shown
    assert "tool openai-chatgpt: sanctioned" in shown
    assert "alice: tool openai-chatgpt unset -> sanctioned (DPA)" in history


def test_policy_cli_refuses_unknown_tools_and_ambiguous_subjects(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]

    unknown = runner.invoke(app, ["collector", "policy", "set", "--tool", "nope", "--status", "sanctioned", *data])
    both = runner.invoke(app, ["collector", "policy", "set", "--tool", "openai-api", "--default", *data])
    status = runner.invoke(app, ["collector", "policy", "set", "--default", "--status", "maybe", *data])

    assert (unknown.exit_code, both.exit_code, status.exit_code) == (2, 2, 2)
    assert "no tool 'nope'" in unknown.stderr
    assert "exactly one of" in both.stderr
    assert "status must be one of" in status.stderr
