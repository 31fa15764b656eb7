"""The console end to end: a real collector process over HTTP and Debian's Chromium driven by Playwright.

Alerts are raised by the collector itself from browser events posted to /api/v1/batches (pastes labelled pii to
tools the default policy leaves unsanctioned). A reviewer signs in, filters the queue, opens an alert, triages it
(new -> triaged -> resolved as remediated), comments, reads the audit trail and signs out. Every page is
screenshotted at 1366x768 into a temporary directory (its path is printed) for a person to look at.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from collector.accounts import users
from collector.accounts.roles import Role
from collector.keys import Scope, create_key
from collector.settings import load_settings
from shadowscope.database import open_sessions
from shadowscope.local_collector import LocalCollector
from tests import factories

if TYPE_CHECKING:
    from playwright.sync_api import Page

HAVE_PLAYWRIGHT = importlib.util.find_spec("playwright") is not None
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"
REASON = "Coached j.doe; the customer file was deleted from the chat history"
WAIT_MS = 15_000

pytestmark = [
    pytest.mark.skipif(not HAVE_PLAYWRIGHT, reason="Playwright is not installed: `.venv/bin/pip install playwright`"),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="Chromium is missing: `apt-get install -y chromium` (`make test` installs it when run as root)",
    ),
]


def paste(user: str, tool_id: str, host: str, labels: list[str], minutes_ago: int) -> dict[str, object]:
    """A paste as the extension reports it when text stays on the device: findings only."""
    return factories.prompt_event(
        kind="paste",
        user=user,
        device_id=f"laptop-{user.replace('.', '-')}",
        tool_id=tool_id,
        host=host,
        occurred_at=(factories.now() - timedelta(minutes=minutes_ago)).isoformat(),
        text=None,
        findings={
            "labels": labels,
            "entity_counts": {"email_address": 3, "person": 2},
            "text_hmac": f"{minutes_ago:064x}",
            "text_length": 640,
        },
    )


@dataclass
class Site:
    url: str
    shots: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    work = tmp_path_factory.mktemp("console-e2e")
    collector = LocalCollector(work / "collector")
    collector.start()
    try:
        with open_sessions(load_settings(data_dir=collector.data_dir)) as sessions, sessions.begin() as session:
            users.create(session, "rita", Role.REVIEWER, PASSWORD, actor="system", display_name="Rita Reviewer")
            browser = create_key(session, Scope.BROWSER, None, "console e2e gateway")
        events = [
            paste("j.doe", "deepseek-chat", "chat.deepseek.com", ["pii"], 30),
            paste("j.doe", "deepseek-chat", "chat.deepseek.com", ["pii", "phi"], 20),
            paste("m.curie", "anthropic-claude", "claude.ai", ["payment_card"], 10),
        ]
        answer = httpx.post(
            f"{collector.url}/api/v1/batches",
            json=factories.batch(*events),
            headers={"Authorization": f"Bearer {browser.token}"},
            timeout=30,
        )
        assert answer.status_code in (200, 201), answer.text
        shots = work / "screenshots"
        shots.mkdir()
        print(f"\nconsole screenshots: {shots}")
        yield Site(collector.url, shots)
    finally:
        collector.stop()


@pytest.fixture
def page(site: Site) -> Iterator[Page]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=site.url)
            tab = context.new_page()
            tab.set_default_timeout(WAIT_MS)
            yield tab
        finally:
            browser.close()


def shot(page: Page, site: Site, name: str) -> None:
    page.screenshot(path=site.shots / f"{name}.png", full_page=True)


def test_review_an_alert_from_sign_in_to_sign_out(page: Page, site: Site) -> None:
    from playwright.sync_api import expect

    # Signed out: the console sends the browser to the sign-in form.
    page.goto("/console/alerts")
    expect(page).to_have_url(re.compile(r"/console/login\?next=/console/alerts$"))
    shot(page, site, "01-login")
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="Alerts")).to_be_visible()

    # The overview first, as a reviewer starts the day.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="AI tools in use")).to_be_visible()
    expect(page.get_by_role("link", name="DeepSeek", exact=False).first).to_be_visible()
    shot(page, site, "02-overview")

    # The queue, filtered to one person and high severity.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    rows = page.locator("table.queue tbody tr")
    expect(rows.filter(has_text="m.curie").first).to_be_visible()
    page.get_by_label("Person or host").fill("j.doe")
    page.get_by_label("Severity").select_option("high")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"client=j.doe"))
    expect(rows.filter(has_text="m.curie")).to_have_count(0)
    exposure = rows.filter(has_text="Personal, health or card data sent to an unsanctioned AI tool")
    expect(exposure).to_have_count(1)
    expect(exposure).to_contain_text("2")  # the two pastes folded into one alert
    shot(page, site, "03-alert-queue")

    # The alert: evidence without text, then triage.
    exposure.get_by_role("link", name=re.compile("Personal, health or card data")).click()
    expect(page.get_by_role("heading", name="Evidence")).to_be_visible()
    evidence = page.locator("table.evidence tbody tr")
    expect(evidence).to_have_count(2)
    expect(evidence.first).to_contain_text("chat.deepseek.com")
    shot(page, site, "04-alert-detail")

    actions = page.get_by_role("region", name="Triage")
    actions.get_by_label("Triaged").check()
    actions.get_by_role("button", name="Change status").click()
    expect(page.get_by_role("status")).to_have_text("Status changed.")
    expect(actions.get_by_label("Triaged")).to_have_count(0)  # no longer offered: the table moves on from here

    actions.get_by_label("Resolved").check()
    actions.get_by_role("button", name="Change status").click()  # without a resolution: refused, form kept
    expect(page.get_by_role("alert")).to_contain_text("needs a resolution")
    shot(page, site, "05-refused-transition")
    actions.get_by_label("Resolved").check()
    actions.get_by_role("combobox", name="Resolution").select_option("remediated")
    actions.get_by_label("Reason").fill(REASON)
    actions.get_by_role("button", name="Change status").click()
    expect(page.get_by_role("status")).to_have_text("Status changed.")
    expect(page.locator("dl.facts").first).to_contain_text("Resolved · Remediated")

    actions.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_role("status")).to_have_text("Assignment changed.")
    page.get_by_label("Add a comment").fill("Manager informed; see ticket SEC-1042.")
    page.get_by_role("button", name="Comment").click()
    expect(page.get_by_role("status")).to_have_text("Comment added.")
    expect(page.locator(".comment")).to_contain_text("SEC-1042")

    # The audit trail: who, when, from, to, why.
    trail = page.get_by_role("table", name="Every change to this alert, newest first").locator("tbody tr")
    closing = trail.filter(has_text="alert.status").filter(has_text="resolved")
    expect(closing).to_have_count(1)
    cells = closing.locator("td")
    expect(cells.nth(0)).to_contain_text("UTC")
    expect(cells.nth(1)).to_have_text("user:rita")
    expect(cells.nth(3)).to_have_text("triaged")
    expect(cells.nth(4)).to_have_text("resolved")
    expect(cells.nth(5)).to_have_text(REASON)
    expect(trail.filter(has_text="alert.status").filter(has_text="new")).to_have_count(1)
    expect(trail.filter(has_text="alert.assigned")).to_have_count(1)
    expect(trail.filter(has_text="alert.commented")).to_have_count(1)
    shot(page, site, "06-alert-triaged")

    # The rest of the console renders too.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="AI tools").click()
    expect(page.get_by_role("table", name=re.compile("AI tools, those in use first"))).to_be_visible()
    shot(page, site, "07-tools")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sensors & devices").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sensors & devices")
    shot(page, site, "08-producers")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/console/login$"))
    page.goto("/console/")
    expect(page).to_have_url(re.compile(r"/console/login\?next=/console/$"))
