"""The layout the design card fixes, and the hyphenated extension-api/ folder importable under its mapped name."""

from __future__ import annotations

import importlib
import tomllib
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


def test_every_package_in_the_tree_is_listed_for_the_wheel() -> None:
    # The package list is explicit (extension-api/ needs a mapping), so a new sub-package would silently be left out
    # of a non-editable install; the editable one the tests run from would never notice.
    listed = set(tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    roots = ["events", "exposure", "collector", "sensor", "classifiers", "rules", "migrations", "shadowscope"]
    in_tree = {
        ".".join(init.parent.relative_to(PROJECT_ROOT).parts)
        for root in roots
        for init in (PROJECT_ROOT / root).rglob("__init__.py")
    }
    assert in_tree - listed == set()
