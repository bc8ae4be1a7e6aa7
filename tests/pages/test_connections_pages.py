"""The connections page: state and problems, the webhook URL to copy, last event, last vendor API
error; one connection misconfigured as in tests/api/test_connection_isolation.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import responses

from hub.services.processing.process import process_event
from tests.conftest import last_dispatched
from tests.pages.test_dashboard_pages import ENV, card_customer, post_stripe, stored

ROOT = Path(__file__).resolve().parents[2]
BROKEN_SALESFORCE = {
    "HUB_SALESFORCE_ORGANIZATION_ID": "not-an-org-id",
    "HUB_SALESFORCE_SESSION_ID": "00D5e!AQ0AQbrokenSessionValue",
    "HUB_SALESFORCE_INSTANCE_URL": "ftp://acme.example",
}


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.with_overrides({"env": {**ENV, **BROKEN_SALESFORCE},
                                    "recipes_dir": str(ROOT / "recipes")})


def section(html: str, name: str) -> str:
    found = re.search(rf'<section class="card" id="connection-{name}".*?</section>', html, re.S)
    assert found, f"no section for {name}"
    return found.group(0)


def test_each_connection_has_its_webhook_url_to_copy(as_ops, demo):  # type: ignore[no-untyped-def]
    html = as_ops.get("/connections").get_data(as_text=True)
    stripe = section(html, "stripe")
    assert 'id="url-stripe"' in stripe and "readonly" in stripe
    assert 'value="http://localhost/webhooks/stripe"' in stripe
    assert '<button type="button" data-copy="url-stripe">Copy</button>' in stripe
    assert "status-ok" in stripe
    assert 'value="http://localhost/webhooks/chargebee"' in section(html, "chargebee")


def test_the_url_follows_the_host_the_hub_is_reached_on(as_ops, demo):  # type: ignore[no-untyped-def]
    session = as_ops.get_cookie("hub_session")
    as_ops.set_cookie("hub_session", session.value, domain="hub.example.com")
    html = as_ops.get("/connections", base_url="https://hub.example.com:8443").get_data(as_text=True)
    assert 'value="https://hub.example.com:8443/webhooks/stripe"' in html


def test_a_misconfigured_connection_shows_its_problems_without_values(as_ops, demo):  # type: ignore[no-untyped-def]
    salesforce = section(as_ops.get("/connections").get_data(as_text=True), "salesforce")
    assert "status-misconfigured" in salesforce
    problems = re.search(r'<ul class="problems">(.*?)</ul>', salesforce, re.S)
    assert problems and "organization_id" in problems.group(1).lower()
    assert "AQbrokenSessionValue" not in salesforce  # names and fields, never the secret itself
    assert 'value="http://localhost/webhooks/salesforce"' in salesforce  # to paste once fixed


def test_the_last_event_is_shown_per_connection(as_ops, demo):  # type: ignore[no-untyped-def]
    stored(demo, as_ops, card_customer("evt_conn_1", "cus_conn_1"))
    html = as_ops.get("/connections").get_data(as_text=True)
    stripe = section(html, "stripe")
    assert "<time" in stripe and 'href="/events?connection=stripe"' in stripe
    assert "none received yet" in section(html, "chargebee")


@responses.activate
def test_the_last_vendor_api_error_names_its_class_message_and_run(as_ops, demo):  # type: ignore[no-untyped-def]
    sample = json.loads((ROOT / "tests" / "samples" / "stripe_customer_updated.json").read_text())
    responses.get("https://api.stripe.com/v1/customers/cus_TbQ8mJ2kP4xY7a", status=401,
                  json={"error": {"message": "Invalid API Key provided", "type": "invalid_request_error"}})
    answer = post_stripe(as_ops, sample)
    assert answer.status_code == 200
    assert process_event(demo, last_dispatched(demo)).status == "failed"
    stripe = section(as_ops.get("/connections").get_data(as_text=True), "stripe")
    error = re.search(r"<dt>Last vendor API error</dt>\s*<dd>(.*?)</dd>", stripe, re.S)
    assert error and "status-config" in error.group(1) and re.search(r'href="/runs/\d+"', error.group(1))
    assert "sk_test_pages" not in stripe  # the API key never reaches the page
    assert "none" in section(as_ops.get("/connections").get_data(as_text=True), "chargebee").split(
        "Last vendor API error")[1]


def test_an_unknown_parameter_is_a_400(as_ops):  # type: ignore[no-untyped-def]
    assert as_ops.get("/connections?name=stripe").status_code == 400


def test_account_managers_may_not_see_connections(as_manager):  # type: ignore[no-untyped-def]
    assert as_manager.get("/connections").status_code == 403
