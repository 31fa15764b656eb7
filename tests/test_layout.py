"""The layout the design card fixes, and the hyphenated extension-api/ folder importable under its mapped name."""

from __future__ import annotations

import importlib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_the_design_cards_top_level_folders_exist() -> None:
    for name in ["sensor", "collector", "classifiers", "extension-api", "rules", "migrations", "tests"]:
        assert (PROJECT_ROOT / name).is_dir(), name
    assert (PROJECT_ROOT / "pyproject.toml").is_file()
    assert (PROJECT_ROOT / "README.md").is_file()


def test_extension_api_is_importable_from_its_hyphenated_folder() -> None:
    # By name at run time: mypy cannot follow setuptools' editable mapping of a hyphenated folder.
    extension_api = importlib.import_module("extension_api")

    assert Path(str(extension_api.__file__)).resolve().parent == PROJECT_ROOT / "extension-api"
