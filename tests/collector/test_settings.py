"""Collector settings: arguments over environment over the TOML file over defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from collector.settings import load_settings


def test_when_nothing_is_set_then_sqlite_in_the_data_dir_is_used(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)

    assert settings.resolved_database_url == f"sqlite+pysqlite:///{tmp_path / 'shadowscope.db'}"
    assert settings.store_prompt_text is False


def test_when_file_env_and_argument_disagree_then_argument_then_env_then_file_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "collector.toml"
    config.write_text('max_body_bytes = 1000\nquery_page_max = 50\ndata_dir = "/from/file"\n')
    monkeypatch.setenv("SHADOWSCOPE_COLLECTOR_QUERY_PAGE_MAX", "70")

    settings = load_settings(config, data_dir=tmp_path)

    assert settings.max_body_bytes == 1000
    assert settings.query_page_max == 70
    assert settings.data_dir == tmp_path


def test_when_the_config_file_names_an_unknown_setting_then_it_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "collector.toml"
    config.write_text("max_body_byte = 1000\n")

    with pytest.raises(ValidationError, match="max_body_byte"):
        load_settings(config)


def test_when_the_config_file_is_missing_then_the_error_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.toml"):
        load_settings(tmp_path / "nope.toml")


def test_when_prompt_text_is_kept_by_opt_in_then_it_is_stored(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from collector.app import create_app
    from collector.keys import Scope, create_key
    from collector.models import StoredEvent
    from tests.factories import batch, prompt_event

    settings = load_settings(data_dir=tmp_path, store_prompt_text=True)
    with TestClient(create_app(settings)) as client:
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        with runtime.sessions.begin() as session:
            token = create_key(session, Scope.BROWSER, None, None).token
        client.post(
            "/api/v1/batches",
            json=batch(prompt_event(text="keep me")),
            headers={"Authorization": f"Bearer {token}"},
        )
        with runtime.sessions() as session:
            assert session.query(StoredEvent).one().detail["text"] == "keep me"
