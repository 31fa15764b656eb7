"""The layout the design card fixes, and the hyphenated extension-api/ folder importable under its mapped name."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_the_design_cards_top_level_folders_exist() -> None:
    for name in ["sensor", "collector", "classifiers", "extension-api", "rules", "migrations", "tests"]:
        assert (PROJECT_ROOT / name).is_dir(), name
    assert (PROJECT_ROOT / "pyproject.toml").is_file()
    assert (PROJECT_ROOT / "README.md").is_file()


def test_extension_api_is_importable_from_its_hyphenated_folder() -> None:
    import extension_api

    assert Path(extension_api.__file__).resolve().parent == PROJECT_ROOT / "extension-api"
