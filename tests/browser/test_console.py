"""The ops console in a real browser: sign-in, roles, CSRF, live run log, replay from the page.

Each test drives Debian's Chromium through Playwright against gunicorn and a Celery worker
(tests/browser/conftest.py). Selectors are what a person reads: labels, roles and button names.
"""

from __future__ import annotations

import re
import time

import requests
from playwright.sync_api import expect

from tests.browser.conftest import SECRET, USERS, screenshot, sign_in_as
from tests.e2e.conftest import created_event, signed


def post_stripe(url: str, n: int, method: str, customer: str) -> None:
    body, headers = signed(created_event(n, method, customer=customer, created=int(time.time())), SECRET)
    answer = requests.post(f"{url}/webhooks/stripe", data=body, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text


def test_sign_in_and_out(page_for, console):  # type: ignore[no-untyped-def]
    page = page_for(None)
    page.goto(f"{console.url}/runs?status=failed")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    screenshot(page, console, "sign-in")
    page.get_by_label("Email").fill(USERS["admin"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("wrong email or password")
    sign_in_as(page, console.url, USERS["admin"])
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    page.goto(f"{console.url}/runs")
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))


def test_a_form_posted_without_its_csrf_token_is_refused(page_for, console):  # type: ignore[no-untyped-def]
    page = page_for("admin")
    page.goto(f"{console.url}/runs")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("main")).to_contain_text("did not come from this hub")
    page.goto(f"{console.url}/runs")  # still signed in: the forged sign-out did nothing
    expect(page).to_have_url(re.compile(r"/runs$"))


def test_an_account_manager_sees_no_ops_page_and_no_other_managers_customer(page_for, console):  # type: ignore[no-untyped-def]
    page = page_for("account_manager")
    expect(page).to_have_url(re.compile(r"/customers"))
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Runs")).to_have_count(0)
    for path in ("/runs", "/events", "/connections", "/recipes"):
        answer = page.goto(f"{console.url}{path}")
        assert answer is not None and answer.status == 403, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Not for this role")
    expect_own = page.goto(f"{console.url}/customers/external:cus_demo_acme")
    assert expect_own is not None and expect_own.status == 200
    other = page.goto(f"{console.url}/customers/external:cus_demo_globex")
    assert other is not None and other.status == 404
    page.goto(f"{console.url}/customers")
    expect(page.locator("main")).to_contain_text("cus_demo_acme")
    expect(page.locator("main")).not_to_contain_text("cus_demo_globex")


def test_a_new_event_appears_live_then_a_failed_run_is_replayed_from_its_page(page_for, console):  # type: ignore[no-untyped-def]
    page = page_for("ops")
    page.goto(f"{console.url}/runs")
    post_stripe(console.url, 9001, "bacs_debit", "cus_browser_bacs")
    # No reload: the live table fetches itself; the two runs of the event appear.
    rows = page.locator("table tbody tr", has_text="cus_browser_bacs")
    expect(rows).to_have_count(2, timeout=30_000)
    expect(rows.filter(has_text="failed")).to_have_count(1)

    rows.filter(has_text="stripe-payment-method-to-workflow").locator("a[href^='/runs/']").first.click()
    expect(page.locator(".tree .taken").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("Direct debit")

    page.goto(f"{console.url}/runs?customer=cus_browser_bacs&status=failed")
    page.locator("table tbody a[href^='/runs/']").first.click()
    expect(page.locator("main")).to_contain_text("UK direct debit")
    failed_url = page.url
    screenshot(page, console, "run-detail")

    created = console.api("post", "/workflows", json={"name": "UK direct debit"})
    assert created.status_code == 201, created.text
    page.goto(failed_url)
    page.get_by_role("button", name="Preview the replay").click()
    preview = page.locator("#replay-preview")
    expect(preview).to_contain_text("UK direct debit")
    screenshot(page, console, "replay-preview")
    page.get_by_role("button", name=re.compile("^Confirm: replay")).click()
    expect(page.locator("main")).to_contain_text("succeeded")
    assert page.url != failed_url


def test_bulk_replay_of_the_current_filter_shows_progress_and_the_result(page_for, console):  # type: ignore[no-untyped-def]
    for n in range(3):
        post_stripe(console.url, 9100 + n, "card", f"cus_browser_bulk_{n}")
    page = page_for("admin")
    page.goto(f"{console.url}/runs?recipe=stripe-payment-method-to-workflow&customer=cus_browser_bulk_1")
    expect(page.locator("table tbody tr", has_text="cus_browser_bulk_1")).to_have_count(1, timeout=30_000)
    page.get_by_role("link", name=re.compile("Replay these")).click()
    expect(page.locator("main")).to_contain_text("1 run")
    page.get_by_role("button", name=re.compile("^Start replaying")).click()
    expect(page.locator("progress")).to_be_visible()
    expect(page.locator("#replay-job")).to_contain_text("Finished: 1 of 1", timeout=30_000)
    screenshot(page, console, "bulk-replay")
