"""The inbox pages: notifications filtered and paged, refused webhooks without their payload,
one event with its payload, headers and runs; events posted through the real webhook route."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.services.processing.process import process_event
from tests.conftest import last_dispatched
from tests.pages.test_dashboard_pages import ENV, card_customer, post_stripe, stored

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.with_overrides({"env": ENV, "recipes_dir": str(ROOT / "recipes")})


def rows(html: str, table: str) -> list[str]:
    body = re.search(rf'<table id="{table}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert body, f"no table {table}"
    return [r for r in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S) if "colspan" not in r]


def test_the_inbox_lists_every_notification_newest_first_with_its_facts(as_ops, demo):  # type: ignore[no-untyped-def]
    first = stored(demo, as_ops, card_customer("evt_inbox_1", "cus_inbox_1"))
    stored(demo, as_ops, card_customer("evt_inbox_2", "cus_inbox_2"))
    assert process_event(demo, first).status == "processed"
    html = as_ops.get("/events").get_data(as_text=True)
    listed = rows(html, "events")
    assert len(listed) == 2
    assert "evt_inbox_2" in listed[0] and "evt_inbox_1" in listed[1]  # newest first
    assert "customer.created" in listed[1] and "stripe" in listed[1] and "cus_inbox_1" in listed[1]
    assert "status-processed" in listed[1] and "status-received" in listed[0]
    assert f'href="/events/{first}"' in listed[1]
    assert "duplicate" in html  # how duplicate deliveries are handled is said on the page


def test_a_duplicate_delivery_is_one_row(as_ops, demo):  # type: ignore[no-untyped-def]
    event = card_customer("evt_twice", "cus_twice")
    assert post_stripe(as_ops, event).status_code == post_stripe(as_ops, event).status_code == 200
    assert len(rows(as_ops.get("/events").get_data(as_text=True), "events")) == 1


def test_filters_narrow_the_list_and_are_kept_in_the_form(as_ops, demo):  # type: ignore[no-untyped-def]
    processed = stored(demo, as_ops, card_customer("evt_f1", "cus_f1"))
    stored(demo, as_ops, card_customer("evt_f2", "cus_f2"))
    process_event(demo, processed)
    by_status = as_ops.get("/events?status=processed").get_data(as_text=True)
    assert [("evt_f1" in r) for r in rows(by_status, "events")] == [True]
    assert '<option value="processed" selected>' in by_status
    # The customer is known once the event is processed (normalised)
    by_customer = as_ops.get("/events?customer=cus_f1&connection=stripe&type=customer.created")
    assert [("evt_f1" in r) for r in rows(by_customer.get_data(as_text=True), "events")] == [True]
    by_type = as_ops.get("/events?type=invoice.paid").get_data(as_text=True)
    assert rows(by_type, "events") == []
    future = as_ops.get("/events?since=2999-01-01T00:00").get_data(as_text=True)
    assert "No notification matches" in future and 'value="2999-01-01T00:00"' in future
    past = as_ops.get("/events?until=2000-01-01T00:00").get_data(as_text=True)
    assert "No notification matches" in past


def test_the_inbox_pages_by_50(as_ops, demo):  # type: ignore[no-untyped-def]
    for i in range(51):
        stored(demo, as_ops, card_customer(f"evt_page_{i:02d}", f"cus_page_{i:02d}"))
    first = as_ops.get("/events?connection=stripe").get_data(as_text=True)
    assert len(rows(first, "events")) == 50 and "1–50 of 51" in first
    assert 'href="?connection=stripe&amp;offset=50"' in first
    second = as_ops.get("/events?connection=stripe&offset=50").get_data(as_text=True)
    listed = rows(second, "events")
    assert len(listed) == 1 and "evt_page_00" in listed[0]


def test_refusals_show_connection_reason_and_address_never_the_payload(as_ops, demo):  # type: ignore[no-untyped-def]
    forged = card_customer("evt_forged", "cus_secret_payload_marker")
    answer = post_stripe(as_ops, forged, secret="whsec_not_the_secret")
    assert answer.status_code == 400
    html = as_ops.get("/events/refusals").get_data(as_text=True)
    [refusal] = rows(html, "refusals")
    assert "stripe" in refusal and "signature_invalid" in refusal and "127.0.0.1" in refusal
    assert "cus_secret_payload_marker" not in html and "evt_forged" not in html
    assert "No refused webhook matches" in as_ops.get("/events/refusals?connection=chargebee").get_data(
        as_text=True)
    assert rows(as_ops.get("/events").get_data(as_text=True), "events") == []  # nothing was stored


def test_one_event_shows_facts_payload_safe_headers_and_runs(as_ops, demo):  # type: ignore[no-untyped-def]
    answer = post_stripe(as_ops, card_customer("evt_detail", "cus_detail"), **{"X-Trace": "trace-123"})
    assert answer.status_code == 200
    inbox_id = last_dispatched(demo)
    process_event(demo, inbox_id)
    html = as_ops.get(f"/events/{inbox_id}").get_data(as_text=True)
    assert "evt_detail" in html and "cus_detail" in html and "status-processed" in html
    assert "Vendor payload as stored" in html and "pm_evt_detail" in html  # the payload, collapsible
    assert "Normalised form" in html and "payment_method" in html
    headers = re.search(r'<dl class="facts" id="headers">(.*?)</dl>', html, re.S)
    assert headers and "x-trace" in headers.group(1) and "trace-123" in headers.group(1)
    assert "stripe-signature" not in headers.group(1) and "v1=" not in html  # the signature is never shown
    runs = rows(html, "event-runs")
    assert runs and all("status-succeeded" in r or "status-skipped" in r for r in runs)
    assert re.search(r'href="/runs/\d+"', runs[0])
    assert f'href="/runs?event={inbox_id}"' in html
    assert f'href="/recipes?event={inbox_id}"' in html


def test_an_unknown_event_is_a_404_page(as_ops, demo):  # type: ignore[no-untyped-def]
    assert as_ops.get("/events/999999").status_code == 404


def test_unknown_or_invalid_parameters_are_a_400(as_ops):  # type: ignore[no-untyped-def]
    assert as_ops.get("/events?colour=red").status_code == 400
    assert as_ops.get("/events?status=lost").status_code == 400
    assert as_ops.get("/events?since=yesterday").status_code == 400
    assert as_ops.get("/events/refusals?status=failed").status_code == 400


def test_account_managers_may_not_read_the_inbox(as_manager, demo):  # type: ignore[no-untyped-def]
    inbox_id = stored(demo, as_manager, card_customer("evt_am", "cus_am"))
    for path in ("/events", "/events/refusals", f"/events/{inbox_id}"):
        assert as_manager.get(path).status_code == 403, path
