"""The browser extension end to end: Debian's Chromium with the unpacked extension, imitation AI chat pages under
their real host names over HTTPS, and a real collector process (enrolment, policy, telemetry, storage).

Scenarios: a prompt with a (fake) SSN typed and pasted into a tolerated ChatGPT is warned about, confirmed, sent,
and stored as a prompt labelled pii from the extension's findings, with no raw text anywhere in the database; the
same data on an unsanctioned Claude is blocked before it leaves the page and the block is recorded; a financial
prompt that needs a reason goes through once the person gives one, and the reason is in the stored verdict.
Screenshots of the dialogs and the banner go to out/extension-e2e/. Health: the extension's heartbeat lists the
device in the collector's producer list right after enrolment, and reports the backlog it holds while the
collector is out of reach.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from collector.keys import Scope, create_key
from collector.producer_health import LagSource, ProducerHealth, Status, list_producers
from collector.settings import load_settings
from events.heartbeat import ProducerKind
from shadowscope.database import open_sessions
from shadowscope.local_collector import LocalCollector, free_port
from tests.extension.imitation import ImitationServer

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page, Worker

HAVE_PLAYWRIGHT = importlib.util.find_spec("playwright") is not None

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "browser-extension"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ROOT / "out" / "extension-e2e"
SSN = "536-22-8461"  # valid by the SSA's rules, issued to nobody we know of
IBAN = "GB82 WEST 1234 5698 7654 32"  # the standard's example number: passes mod-97
WAIT_S = 20.0

pytestmark = [
    pytest.mark.skipif(not HAVE_PLAYWRIGHT, reason="Playwright is not installed: `.venv/bin/pip install playwright`"),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Chromium is missing: `apt-get install -y chromium` (`make test` installs it when run as root)",
    ),
]


def wait_for(what: str, probe: Callable[[], Any], timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@dataclass
class Setup:
    collector: LocalCollector
    admin: httpx.Client
    pages: ImitationServer
    context: BrowserContext
    worker: Worker
    device_id: str
    statuses: dict[str, str]

    def events(self, tool: str, kind: str) -> list[dict[str, Any]]:
        answer = self.admin.get("/api/v1/events", params={"tool": tool, "kind": kind, "limit": 1000})
        answer.raise_for_status()
        events: list[dict[str, Any]] = answer.json()["events"]
        return events

    def flush(self) -> None:
        self.worker.evaluate("() => self.shadowscope.flush()")

    def producer(self) -> ProducerHealth | None:
        """This device as the console's "sensors and devices" page lists it (None until it is known)."""
        with open_sessions(load_settings(data_dir=self.collector.data_dir)) as sessions, sessions() as session:
            for producer in list_producers(session, datetime.now(UTC)):
                if producer.kind is ProducerKind.EXTENSION and producer.producer_id == self.device_id:
                    return producer
        return None

    def storage(self, *keys: str) -> dict[str, Any]:
        found: dict[str, Any] = self.worker.evaluate("(keys) => chrome.storage.local.get(keys)", list(keys))
        return found

    def open(self, host: str) -> Page:
        page = self.context.new_page()
        page.goto(f"https://{host}/")
        page.wait_for_function("() => document.documentElement.dataset.shadowscope === 'active'", timeout=WAIT_S * 1000)
        return page


def _choose_status(actions: dict[str, dict[str, str]], label: str, wanted: str) -> str:
    for status in ("tolerated", "unsanctioned", "sanctioned"):
        if actions.get(status, {}).get(label) == wanted:
            return status
    pytest.skip(f"the collector's action table has no status where {label} -> {wanted}")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    from playwright.sync_api import sync_playwright

    work = tmp_path_factory.mktemp("extension-e2e")
    collector = LocalCollector(work / "collector")
    collector.start()
    pages = ImitationServer(work)
    pages.start()
    try:
        with open_sessions(load_settings(data_dir=collector.data_dir)) as sessions, sessions.begin() as session:
            admin_key = create_key(session, Scope.ADMIN, None, "extension e2e admin")
        admin = httpx.Client(base_url=collector.url, headers={"Authorization": f"Bearer {admin_key.token}"}, timeout=10)
        answer = admin.post("/api/v1/enrolment-tokens", json={"uses": 1, "ttl_hours": 1})
        if answer.status_code == 404:
            pytest.skip("this collector does not serve the extension API (/api/v1/enrolment-tokens) yet")
        assert answer.status_code == 201, answer.text
        token = answer.json()["token"]
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(work / "profile"),
                executable_path=CHROMIUM,
                headless=False,  # the flag below asks for the new headless mode, which loads extensions
                args=[
                    "--headless=new",
                    "--no-sandbox",
                    f"--disable-extensions-except={EXTENSION}",
                    f"--load-extension={EXTENSION}",
                    f"--host-resolver-rules={pages.resolver_rules()}",
                    "--ignore-certificate-errors",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],
                viewport={"width": 1100, "height": 720},
            )
            try:
                worker = (
                    context.service_workers[0]
                    if context.service_workers
                    else context.wait_for_event("serviceworker", timeout=WAIT_S * 1000)
                )
                # The development fallback for settings an enterprise pushes through managed storage.
                config = {"collector_url": collector.url, "enrolment_token": token, "device_name": "e2e-laptop"}
                worker.evaluate("(config) => chrome.storage.local.set({config})", config)
                state = wait_for(
                    "the extension to enrol and fetch the policy",
                    lambda: worker.evaluate(
                        "async () => { const s = await chrome.storage.local.get(['device', 'policy']);"
                        " return s.device && s.policy ? s : null; }"
                    ),
                )
                actions: dict[str, dict[str, str]] = state["policy"]["actions"]
                assert state["policy"]["send_text"] is False, "this test expects the default: text stays on the device"
                statuses = {
                    "openai-chatgpt": _choose_status(actions, "pii", "warn"),
                    "anthropic-claude": _choose_status(actions, "pii", "block"),
                    "deepseek-chat": _choose_status(actions, "financial", "justify"),
                }
                for tool, status in statuses.items():
                    admin.put(f"/api/v1/policy/tools/{tool}", json={"status": status}).raise_for_status()
                policy = worker.evaluate("() => self.shadowscope.ensureReady(true)")
                served = {tool["id"]: tool["status"] for tool in policy["tools"]}
                assert {tool: served[tool] for tool in statuses} == statuses
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                yield Setup(collector, admin, pages, context, worker, state["device"]["device_id"], statuses)
            finally:
                context.close()
        admin.close()
    finally:
        pages.stop()
        collector.stop()


def _dialog(page: Page, kind: str) -> Any:
    box = page.locator(f"#shadowscope-dialog .box[data-kind='{kind}']")
    box.wait_for(timeout=WAIT_S * 1000)
    return box


def test_tolerated_chatgpt_warns_then_stores_findings_only(setup: Setup) -> None:
    page = setup.open("chatgpt.com")
    editor = page.locator("#prompt-textarea")
    editor.click()
    page.keyboard.type("Please fix the formatting of this HR record: ")
    # A paste of the record: a real clipboard paste (Ctrl+V) of text the page put on the clipboard.
    setup.context.grant_permissions(["clipboard-read", "clipboard-write"], origin="https://chatgpt.com")
    page.evaluate("(text) => navigator.clipboard.writeText(text)", f"Jane Roe, SSN {SSN}, start date 2024-03-01")
    page.keyboard.press("Control+V")
    box = _dialog(page, "warn")
    assert "US Social Security number" in box.inner_text()
    page.screenshot(path=SCREENSHOTS / "warn-paste-chatgpt.png")
    box.locator("button.go").click()
    wait_for("the pasted text in the editor", lambda: SSN in editor.inner_text())
    page.locator("button[data-testid='send-button']").click()  # already confirmed in the paste: no second dialog
    sent = wait_for("the prompt to reach the imitation server", lambda: setup.pages.sent("chatgpt.com"))
    assert SSN in sent[0]
    assert sent[0].startswith("Please fix")

    setup.flush()
    prompts = wait_for("the prompt event in the collector", lambda: setup.events("openai-chatgpt", "prompt"))
    pastes = wait_for("the paste event in the collector", lambda: setup.events("openai-chatgpt", "paste"))
    visits = setup.events("openai-chatgpt", "visit")
    assert visits
    assert visits[0]["source_id"] == setup.device_id
    prompt = prompts[0]["detail"]
    assert prompts[0]["source_id"] == setup.device_id
    assert prompt["host"] == "chatgpt.com"
    assert prompt["findings"]["labels"] == ["pii"]
    assert prompt["findings"]["entity_counts"]["us_ssn"] == 1
    assert prompt["findings"]["text_length"] == len(sent[0])
    assert prompt["verdict"]["action"] == "warn"
    assert prompt["verdict"]["user_choice"] == "proceeded"
    assert "text" not in prompt
    assert pastes[0]["detail"]["verdict"] == {"action": "warn", "user_choice": "proceeded", "justification": None}
    page.close()


def test_unsanctioned_claude_blocks_before_the_prompt_leaves(setup: Setup) -> None:
    page = setup.open("claude.ai")
    page.locator("div.ProseMirror").click()
    page.keyboard.type(f"Summarise the case of John Smith (SSN {SSN}) for the tribunal")
    page.keyboard.press("Enter")
    banner = page.locator("#shadowscope-banner .banner[data-kind='block']")
    banner.wait_for(timeout=WAIT_S * 1000)
    assert "Not sent" in banner.inner_text()
    page.screenshot(path=SCREENSHOTS / "block-claude.png")
    page.locator("button[aria-label='Send message']").click()  # the send button is blocked too
    setup.flush()
    prompts = wait_for(
        "two blocked prompt events in the collector",
        lambda: (found := setup.events("anthropic-claude", "prompt")) and len(found) >= 2 and found,
    )
    for event in prompts:
        assert event["detail"]["verdict"]["action"] == "block"
        assert event["detail"]["findings"]["labels"] == ["pii"]
    assert page.evaluate("() => window.__submitted") == []
    assert setup.pages.sent("claude.ai") == []
    assert SSN in page.locator("div.ProseMirror").inner_text()  # still in the editor, for the person to change
    page.close()


def test_text_dropped_into_an_unsanctioned_tool_is_blocked_like_a_paste(setup: Setup) -> None:
    page = setup.open("claude.ai")
    editor = page.locator("div.ProseMirror")
    editor.click()
    # A drag-and-drop of text from another window, as the browser delivers it: a drop event carrying a DataTransfer.
    page.evaluate(
        """(text) => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            const target = document.querySelector("div.ProseMirror");
            target.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
        }""",
        f"Customer file: Mary Major, SSN {SSN}",
    )
    setup.flush()
    pastes = wait_for("the blocked drop in the collector", lambda: setup.events("anthropic-claude", "paste"))
    assert pastes[0]["detail"]["verdict"]["action"] == "block"
    assert pastes[0]["detail"]["findings"]["labels"] == ["pii"]
    assert SSN not in editor.inner_text()
    page.close()


def test_justify_and_continue_records_the_reason(setup: Setup) -> None:
    page = setup.open("chat.deepseek.com")
    page.locator("#chat-input").fill(f"Draft a payment reminder for supplier account {IBAN}, 30 days overdue")
    page.locator("#chat-input").press("Enter")
    box = _dialog(page, "justify")
    reason = "Supplier dispute, approved by finance (ticket FIN-2211)"
    page.keyboard.type(reason)  # the reason field has the focus
    page.screenshot(path=SCREENSHOTS / "justify-deepseek.png")
    box.locator("button.go").click()
    sent = wait_for("the prompt to reach the imitation server", lambda: setup.pages.sent("chat.deepseek.com"))
    assert IBAN in sent[0]
    setup.flush()
    prompts = wait_for("the justified prompt in the collector", lambda: setup.events("deepseek-chat", "prompt"))
    verdict = prompts[0]["detail"]["verdict"]
    assert verdict == {"action": "justify", "user_choice": "justified", "justification": reason}
    assert prompts[0]["detail"]["findings"]["labels"] == ["financial"]
    page.close()


def test_file_with_a_credential_is_held_back_and_reported(setup: Setup, tmp_path: Path) -> None:
    actions = setup.worker.evaluate("async () => (await chrome.storage.local.get('policy')).policy.actions")
    if actions[setup.statuses["openai-chatgpt"]].get("credentials") != "block":
        pytest.skip("the action table does not block credentials for this status")
    secret = tmp_path / "deploy.env"
    secret.write_text("AWS_ACCESS_KEY_ID=AKIAQ3EGRTLMZ5XKV7PA\nREGION=eu-west-1\n", encoding="utf-8")
    page = setup.open("chatgpt.com")
    page.locator("#upload").set_input_files(secret)
    page.locator("#shadowscope-banner .banner[data-kind='block']").wait_for(timeout=WAIT_S * 1000)
    assert page.evaluate("() => window.__uploads") == []
    assert page.locator("#upload").evaluate("(input) => input.files.length") == 0
    setup.flush()
    uploads = wait_for("the upload event in the collector", lambda: setup.events("openai-chatgpt", "upload"))
    detail = uploads[0]["detail"]
    assert detail["file_name"] == "deploy.env"
    assert detail["file_size"] == secret.stat().st_size
    assert detail["file_sha256"] == hashlib.sha256(secret.read_bytes()).hexdigest()
    assert detail["findings"]["labels"] == ["credentials"]
    assert detail["verdict"]["action"] == "block"
    page.close()


def test_no_prompt_text_in_the_database(setup: Setup) -> None:
    """Text stays on the device: none of the typed or pasted values are in any file of the collector's data."""
    setup.flush()
    stored = b"".join(path.read_bytes() for path in setup.collector.data_dir.rglob("*") if path.is_file())
    assert stored, "the collector's data directory is empty"
    for secret in (SSN, IBAN, "Jane Roe", "John Smith", "payment reminder", "AKIAQ3EGRTLMZ5XKV7PA"):
        assert secret.encode() not in stored, f"{secret!r} is stored by the collector"
    everything = json.dumps(setup.events("openai-chatgpt", "prompt"))
    assert SSN not in everything


MANIFEST_VERSION = json.loads((EXTENSION / "manifest.json").read_text(encoding="utf-8"))["version"]


def test_after_enrolment_the_device_is_listed_with_its_version(setup: Setup) -> None:
    """The heartbeat sent right after enrolment: the collector knows the device's version before any event."""
    listed = wait_for(
        "the enrolment heartbeat in the collector",
        lambda: (found := setup.producer()) and found.heartbeat_sent_at is not None and found,
    )
    assert listed.version == MANIFEST_VERSION
    assert listed.spool_batches is not None  # a heartbeat arrived: the backlog is known, not None
    assert listed.status is Status.OK
    alarm = setup.worker.evaluate("() => chrome.alarms.get('heartbeat')")
    assert alarm["periodInMinutes"] == 5  # the default interval


def test_the_heartbeat_interval_follows_the_setting(setup: Setup) -> None:
    config = setup.storage("config")["config"]
    setup.worker.evaluate("(config) => chrome.storage.local.set({config})", {**config, "heartbeat_minutes": "7"})
    try:
        wait_for(
            "the heartbeat alarm at 7 minutes",
            lambda: (setup.worker.evaluate("() => chrome.alarms.get('heartbeat')") or {}).get("periodInMinutes") == 7,
        )
    finally:
        setup.worker.evaluate("(config) => chrome.storage.local.set({config})", config)
    wait_for(
        "the heartbeat alarm back at 5 minutes",
        lambda: (setup.worker.evaluate("() => chrome.alarms.get('heartbeat')") or {}).get("periodInMinutes") == 5,
    )


def test_a_backlog_held_while_the_collector_is_unreachable_is_reported(setup: Setup) -> None:
    """Telemetry fails for real (the collector's address points at a closed port), the worker keeps the batch, and
    the next heartbeat, once the collector is back, reports it; after delivery the backlog is reported empty."""
    saved = setup.storage("device", "config")
    unreachable = f"http://127.0.0.1:{free_port()}"
    setup.worker.evaluate(
        "([device, config]) => chrome.storage.local.set({device, config})",
        [{**saved["device"], "collector_url": unreachable}, {**saved["config"], "collector_url": unreachable}],
    )
    try:
        for _ in range(3):
            answer = setup.worker.evaluate(
                "() => self.shadowscope.record({type: 'record', kind: 'visit', host: 'chatgpt.com',"
                " tool_id: 'openai-chatgpt'})"
            )
            assert answer["queued"] is True, answer
        setup.flush()
        failed = wait_for(
            "a failed delivery that keeps the batch",
            lambda: (
                (state := setup.storage("inflight", "retry"))
                and state.get("inflight")
                and (state.get("retry") or {}).get("failures")
                and state
            ),
        )
        # Hold the worker's next retry, so the backlog is still there when the heartbeat looks at it.
        setup.worker.evaluate(
            "(retry) => chrome.storage.local.set({retry: {...retry, next_at: Date.now() + 600000}})", failed["retry"]
        )
    finally:
        setup.worker.evaluate(
            "([device, config]) => chrome.storage.local.set({device, config})",
            [
                saved["device"],
                saved["config"],
            ],
        )

    beat = setup.worker.evaluate("() => self.shadowscope.onAlarm({name: 'heartbeat'})")
    assert "receipt" in beat, beat
    assert beat["receipt"]["current"] is True
    sent = beat["sent"]
    assert sent["spool_batches"] >= 1
    assert sent["spool_bytes"] > 0
    assert sent["oldest_spooled_at"] is not None
    assert sent["events"] >= 3
    assert set(sent) <= {
        "producer_id", "kind", "version", "sent_at", "spool_batches", "spool_bytes", "oldest_spooled_at",
        "dropped_for_space", "rejected", "events",
    }  # fmt: skip
    listed = setup.producer()
    assert listed is not None
    assert listed.spool_batches == sent["spool_batches"]
    assert listed.oldest_spooled_at is not None
    assert listed.oldest_spooled_at <= datetime.fromisoformat(sent["sent_at"])
    assert listed.lag_source is LagSource.SPOOL
    assert listed.version == MANIFEST_VERSION

    # The collector is reachable again: release the retry, deliver, and the next heartbeat reports nothing waiting.
    setup.worker.evaluate("() => chrome.storage.local.set({retry: {}})")

    def delivered() -> bool:
        setup.flush()
        state = setup.storage("inflight", "queue")
        return not state.get("inflight") and not state.get("queue")

    wait_for("the backlog to be delivered", delivered)
    after = setup.worker.evaluate("() => self.shadowscope.sendHeartbeat()")
    assert "receipt" in after, after
    listed = setup.producer()
    assert listed is not None
    assert (listed.spool_batches, listed.oldest_spooled_at) == (0, None)
