"""The rule-evaluation job: windowed detection rules (thresholds over a time window) are evaluated by the alerts
package; this module only calls it on schedule."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from datetime import datetime
from typing import Final

from collector.runtime import Runtime

WINDOWS_MODULE: Final = "collector.alerts.windows"

Evaluate = Callable[[Runtime, datetime], int]


def windows_available() -> bool:
    """Whether this installation has windowed rule evaluation; without it the job is not scheduled."""
    try:
        return importlib.util.find_spec(WINDOWS_MODULE) is not None
    except ModuleNotFoundError:  # collector.alerts itself missing
        return False


def evaluate_rule_windows(runtime: Runtime, now: datetime) -> int:
    """Evaluate every rule window that has closed by `now`; returns what the evaluator reports (alerts raised)."""
    module = importlib.import_module(WINDOWS_MODULE)
    evaluate: Evaluate = module.evaluate_due_windows
    return evaluate(runtime, now)
