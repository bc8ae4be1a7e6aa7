"""Every page renders with real data in the browser, is reachable by keyboard, and is
photographed for docs/screenshots (`make screenshots`)."""

from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import SECRET, screenshot
from tests.e2e.conftest import created_event, signed


@pytest.fixture(scope="module")
def some_traffic(console):  # type: ignore[no-untyped-def]
    """Real events through the webhook, and one refused signature, before the pictures."""
    for n, method in enumerate(["card", "sepa_debit", "check", "card", "bank_transfer"]):
        body, headers = signed(created_event(9200 + n, method, customer=f"cus_shot_{n}",
                                             created=int(time.time())), SECRET)
        assert requests.post(f"{console.url}/webhooks/stripe", data=body, headers=headers,
                             timeout=10).status_code == 200
    body, headers = signed(created_event(9299, "card"), "whsec_wrong")
    refused = requests.post(f"{console.url}/webhooks/stripe", data=body, headers=headers, timeout=10)
    assert refused.status_code == 400

    def processed() -> bool:
        runs = console.api("get", "/runs?customer=cus_shot_4").json()["runs"]
        return bool(runs)

    deadline = time.monotonic() + 30
    while not processed():
        assert time.monotonic() < deadline, "the worker did not process the events"
        time.sleep(0.3)
    return console


PAGES = [
    ("dashboard", "/"),
    ("runs", "/runs"),
    ("events", "/events"),
    ("connections", "/connections"),
    ("recipes", "/recipes"),
    ("recipe-detail", "/recipes/stripe-payment-method-to-workflow"),
    ("customers", "/customers"),
    ("customer", "/customers/external:cus_demo_initech"),
    ("imports", "/imports"),
    ("workflows", "/workflows"),
    ("users", "/users"),
]


@pytest.mark.parametrize(("name", "path"), PAGES, ids=[name for name, _ in PAGES])
def test_each_page_renders_with_real_data(page_for, some_traffic, name, path):  # type: ignore[no-untyped-def]
    console = some_traffic
    page = page_for("admin")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    answer = page.goto(f"{console.url}{path}")
    assert answer is not None and answer.status == 200
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.wait_for_load_state("networkidle")
    screenshot(page, console, name)
    assert errors == [], errors  # no CSP refusal, no script error


def test_times_are_shown_in_the_viewers_zone_with_utc_on_hover(page_for, some_traffic):  # type: ignore[no-untyped-def]
    page = page_for("admin")
    page.goto(f"{some_traffic.url}/runs")
    first = page.locator("time[datetime]").first
    expect(first).to_have_attribute("title", __import__("re").compile(r"Z \(UTC\)$"))
    expect(first).not_to_contain_text("UTC")  # the browser's zone (Europe/Paris here) replaced it


def test_the_run_log_is_readable_on_a_phone(page_for, some_traffic):  # type: ignore[no-untyped-def]
    page = page_for("admin", width=390, height=844)
    page.goto(f"{some_traffic.url}/runs")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, f"the page scrolls sideways on a phone ({width}px)"
    screenshot(page, some_traffic, "runs-phone")


def test_the_navigation_and_filters_are_reachable_by_keyboard(page_for, some_traffic):  # type: ignore[no-untyped-def]
    page = page_for("admin")
    page.goto(f"{some_traffic.url}/runs")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to content")
    seen = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        seen.add(page.evaluate(
            "document.activeElement.getAttribute('href') || document.activeElement.name || ''"))
    assert {"/", "/runs", "/events"} <= seen
    assert "status" in seen  # the status filter
