"""Settings of the jobs and destinations: mistakes are refused when the settings load, with a message saying which."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from collector.settings import CollectorSettings, load_settings

WEBHOOK = {"url": "https://soar.example/hook?token=t0ps3cret", "secret": {"env": "SOAR_SECRET"}}


def settings(tmp_path: Path, **values: Any) -> CollectorSettings:
    return CollectorSettings(data_dir=tmp_path, **values)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"reports": {"schedule": "every monday"}}, "not a crontab line"),
        ({"reports": {"formats": ["pdf", "docx"]}}, "unknown format docx"),
        ({"delivery": {"webhooks": [WEBHOOK, WEBHOOK]}}, "repeated: webhook"),
        ({"delivery": {"webhooks": [WEBHOOK | {"secret": {}}]}}, "exactly one of `file` or `env`"),
        ({"delivery": {"webhooks": [WEBHOOK | {"url": "ftp://soar.example/"}]}}, "http:// or https://"),
        ({"delivery": {"webhooks": [WEBHOOK | {"name": "Has Spaces"}]}}, "lower-case letters"),
        ({"delivery": {"webhooks": [WEBHOOK | {"min_severity": "urgent"}]}}, "min_severity"),
        ({"delivery": {"syslog": [{"host": "siem", "ca_file": "/ca.pem"}]}}, "only used with transport = 'tls'"),
        (
            {"delivery": {"email": [{"host": "mx", "sender": "a@b.c", "recipients": ["d@e.f"], "username": "u"}]}},
            "both username and password",
        ),
        (
            {
                "delivery": {
                    "email": [
                        {
                            "host": "mx",
                            "sender": "a@b.c",
                            "recipients": ["d@e.f"],
                            "security": "none",
                            "username": "u",
                            "password": {"env": "SMTP_PASSWORD"},
                        }
                    ]
                }
            },
            "without TLS",
        ),
        ({"delivery": {"console_url": "https://console.example/alerts"}}, "must contain {alert_id}"),
        ({"retention": {"events_days": 0}}, "events_days"),
    ],
)
def test_a_mistake_in_the_settings_is_refused_with_a_message_naming_it(
    tmp_path: Path, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as raised:
        settings(tmp_path, **values)

    assert "t0ps3cret" not in str(raised.value)


def test_the_sections_load_from_the_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "collector.toml"
    config.write_text(
        """\
run_scheduler = false

[retention]
events_days = 90

[reports]
directory = "/srv/reports"

[[delivery.webhooks]]
name = "soar"
url = "https://soar.example/hook"
secret = { file = "/etc/shadowscope/webhook.secret" }
min_severity = "medium"

[[delivery.syslog]]
host = "siem.example"
port = 6514
transport = "tls"
"""
    )

    loaded = load_settings(config, data_dir=tmp_path)

    assert not loaded.run_scheduler
    assert loaded.retention.events_days == 90
    assert loaded.retention.audit_days == 730
    assert loaded.reports.enabled
    assert [(d.name, d.min_severity) for d in loaded.delivery.destinations] == [("soar", "medium"), ("syslog", "high")]
    assert "soar.example" not in repr(loaded.delivery.webhooks[0]), "webhook URLs may carry tokens"
