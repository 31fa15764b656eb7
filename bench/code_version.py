"""Which code a benchmark measured: the git commit and the files under test that differ from it."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def git_state(root: Path, paths: Sequence[str]) -> dict[str, Any]:
    """{"commit": short hash or None, "modified": paths under `paths` with uncommitted changes}; never raises."""
    state: dict[str, Any] = {"commit": None, "modified": []}
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        git = ["git", "-C", str(root)]
        state["commit"] = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], check=True, capture_output=True, text=True
        ).stdout.strip()
        status = subprocess.run(
            [*git, "status", "--porcelain", "--", *paths], check=True, capture_output=True, text=True
        ).stdout
        state["modified"] = [line[3:] for line in status.splitlines()]
    return state
