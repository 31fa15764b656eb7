"""Every case of every detection rule, as real events through the HTTP API (and the scheduled evaluation where the
rule counts within windows), raises exactly the alerts and counts the case says — as the pure engine does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from collector.alerts.ruleset import evaluated_on_ingest
from collector.alerts.windows import LAG, evaluate_due_windows
from collector.runtime import Runtime
from rules.detection_engine import run
from rules.detection_rules import load_detection_rules
from rules.detection_schema import Case, DetectionRule, seconds
from tests.collector.alerts.support import alerts, send, set_status, wire_event
from tests.conftest import Keys

CASES = [
    pytest.param(loaded.rule, case, id=f"{loaded.rule.title[:40]}-{number}")
    for loaded in load_detection_rules()
    for number, case in enumerate(loaded.rule.cases)
]


def _send_one_by_one(client: TestClient, keys: Keys, runtime: Runtime, case: Case) -> None:
    """On-ingest rules see the policy as it is when each event arrives, so each event goes with its status."""
    for event in sorted(case.events, key=lambda e: e.at):
        set_status(runtime, event.tool_id, event.tool_status)
        send(client, keys, wire_event(event))


def _send_then_evaluate(client: TestClient, keys: Keys, runtime: Runtime, rule: DetectionRule, case: Case) -> None:
    statuses = {(event.tool_id, event.tool_status) for event in case.events}
    assert len({tool for tool, _ in statuses}) == len(statuses), "windowed cases give each tool one status"
    for tool_id, status in statuses:
        set_status(runtime, tool_id, status)
    for event in case.events:
        send(client, keys, wire_event(event))
    now = max(event.at for event in case.events) + timedelta(seconds=seconds(rule.window)) + LAG + timedelta(hours=1)
    evaluate_due_windows(runtime, now)


@pytest.mark.parametrize(("rule", "case"), CASES)
def test_each_rule_case_raises_its_alerts_through_the_collector(
    client: TestClient, keys: Keys, runtime: Runtime, rule: DetectionRule, case: Case
) -> None:
    if evaluated_on_ingest(rule):
        _send_one_by_one(client, keys, runtime, case)
    else:
        _send_then_evaluate(client, keys, runtime, rule, case)

    raised = alerts(runtime, str(rule.id))
    assert len(raised) == case.alerts, case.description
    if case.count is not None:
        assert raised[0].event_count == case.count
    assert [alert.event_count for alert in raised] == [alert.count for alert in run(rule, case.events)]
    assert all(alert.severity == rule.level and alert.status == "new" for alert in raised)
