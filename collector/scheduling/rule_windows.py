"""The rule-evaluation job: windowed detection rules (thresholds over a time window) are evaluated by the alerts
package (collector/alerts/windows.py); this module only calls it on schedule."""

from __future__ import annotations

from datetime import datetime

from collector.runtime import Runtime


def evaluate_rule_windows(runtime: Runtime, now: datetime) -> int:
    """Evaluate every rule window that has closed by `now`; returns the alerts raised or folded into."""
    # Imported here: the alerts package loads the detection rules, which only the lease holder needs.
    from collector.alerts.windows import evaluate_due_windows  # noqa: PLC0415

    return evaluate_due_windows(runtime, now)
