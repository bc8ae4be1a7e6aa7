"""The run log pages through Flask's test client: filters, counts, live rows, one run's trace and
updates, replay (dry run, confirm), bulk replay jobs, roles and CSRF; on real Stripe runs."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
import stripe
from sqlalchemy import func, select

from hub.db.models import RecipeRun, User, WebhookDelivery, Workflow
from hub.services.directory import sign_in
from hub.services.processing.process import process_event
from hub.services.processing.replay import run_replay_job
from tests.conftest import last_dispatched
from tests.factories import make_user
from tests.pages.conftest import PASSWORD, csrf_of, page_csrf

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_runs_pages_test"
RECIPE = "stripe-payment-method-to-workflow"


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.with_overrides({
        "env": {"HUB_STRIPE_WEBHOOK_SECRET": SECRET, "HUB_STRIPE_API_KEY": "sk_test_x"},
        "recipes_dir": str(ROOT / "recipes"),
    })


def card_payer(event_id: str, customer: str, method: str = "card") -> dict:
    obj = {"id": customer, "object": "customer", "name": f"{customer} Inc", "email": None,
           "currency": "usd", "metadata": {}, "default_source": None,
           "invoice_settings": {"default_payment_method": {"id": f"pm_{event_id}", "type": method}}}
    return {"id": event_id, "object": "event", "type": "customer.created", "created": 1795340000,
            "livemode": False, "data": {"object": obj}}


def deliver(app, hub, event: dict) -> None:  # type: ignore[no-untyped-def]
    """A signed Stripe webhook, then the worker's processing of what it stored."""
    body = json.dumps(event).encode()
    at = int(time.time())
    sig = stripe.WebhookSignature._compute_signature(f"{at}.{body.decode()}", SECRET)
    answer = app.test_client().post("/webhooks/stripe", data=body, headers={
        "Stripe-Signature": f"t={at},v1={sig}", "Authorization": "Bearer leaked-token-xyz"})
    assert answer.status_code == 200, answer.data
    process_event(hub, last_dispatched(hub))


def rename_card_workflow(hub, name: str) -> None:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:  # the recipe names the workflow "Card payers"
        uow.session.get(Workflow, "wf_card").name = name
        uow.commit()


def run_ids(hub, **where) -> list[int]:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        stmt = select(RecipeRun.id).filter_by(**where).order_by(RecipeRun.id)
        return list(uow.session.scalars(stmt))


def run_count(hub) -> int:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return uow.session.scalar(select(func.count(RecipeRun.id))) or 0


@pytest.fixture
def runs(app, demo):  # type: ignore[no-untyped-def]
    """Two succeeded card payers, then one failing on a config error (the workflow renamed)."""
    deliver(app, demo, card_payer("evt_ok1", "cus_ok1"))
    deliver(app, demo, card_payer("evt_ok2", "cus_ok2", method="sepa_debit"))
    rename_card_workflow(demo, "Cards (old)")
    deliver(app, demo, card_payer("evt_bad", "cus_bad"))
    (failed,) = run_ids(demo, recipe_name=RECIPE, status="failed")
    return {"failed": failed, "ok": run_ids(demo, recipe_name=RECIPE, status="succeeded")}


def html(answer) -> str:  # type: ignore[no-untyped-def]
    return answer.get_data(as_text=True)


def listed(answer) -> set[int]:  # type: ignore[no-untyped-def]
    return {int(i) for i in re.findall(r'<a href="/runs/(\d+)">#', html(answer))}


def test_run_log_lists_runs_newest_first_with_counts(as_ops, runs):  # type: ignore[no-untyped-def]
    answer = as_ops.get("/runs")

    assert answer.status_code == 200
    page = html(answer)
    ids = [int(i) for i in re.findall(r'<a href="/runs/(\d+)">#', page)]
    assert ids == sorted(ids, reverse=True) and set(runs["ok"]) | {runs["failed"]} <= set(ids)
    assert re.search(r'status=failed[^"]*">.*?<span class="count">1</span>', page)
    assert re.search(r'status=succeeded[^"]*">.*?<span class="count">2</span>', page)
    assert 'hx-trigger="every 3s"' in page and "Live" in page and "live=0" in page
    assert RECIPE in page and "cus_bad" in page and "config" in page
    oldest = [int(i) for i in re.findall(r'<a href="/runs/(\d+)">#', html(as_ops.get("/runs?sort=oldest")))]
    assert oldest == sorted(ids)


def test_each_filter_narrows_the_log(as_ops, runs):  # type: ignore[no-untyped-def]
    everything = listed(as_ops.get("/runs"))
    cases = {"status=failed": {runs["failed"]}, "error_class=config": {runs["failed"]},
             "customer=cus_ok1": {runs["ok"][0]}, "recipe=" + RECIPE: set(runs["ok"]) | {runs["failed"]},
             "connection=nowhere": set(), "since=2999-01-01T00:00": set(),
             "until=2000-01-01T00:00": set(), "resolved=true": set()}
    for query, expected in cases.items():
        answer = as_ops.get(f"/runs?{query}")
        assert answer.status_code == 200, query
        assert listed(answer) == expected, query
        assert listed(answer) <= everything
    assert listed(as_ops.get("/runs?connection=stripe")) == everything


def test_counts_ignore_the_status_filter_itself(as_ops, runs):  # type: ignore[no-untyped-def]
    page = html(as_ops.get("/runs?status=failed"))

    assert re.search(r'status=succeeded[^"]*">.*?<span class="count">2</span>', page)
    assert 'value="failed" selected' in page  # the filter is kept in the form


@pytest.mark.parametrize("query", ["colour=red", "status=exploded", "since=yesterday", "offset=-1",
                                   "sort=sideways"])
def test_an_unknown_or_invalid_parameter_is_a_400_page(as_ops, runs, query):  # type: ignore[no-untyped-def]
    answer = as_ops.get(f"/runs?{query}")

    assert answer.status_code == 400
    assert query.split("=")[0] in html(answer)


def test_live_partial_returns_only_the_rows_fragment(as_ops, runs):  # type: ignore[no-untyped-def]
    page = html(as_ops.get("/runs?status=failed&partial=rows"))

    assert page.lstrip().startswith('<div id="run-rows"') and "<html" not in page
    assert "<form" not in page and 'class="counts"' not in page
    assert listed_in(page) == {runs["failed"]}
    assert 'hx-get="/runs?status=failed&amp;partial=rows"' in page


def listed_in(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'<a href="/runs/(\d+)">#', page)}


def test_paused_or_later_pages_are_not_live(as_ops, runs):  # type: ignore[no-untyped-def]
    assert "hx-trigger" not in html(as_ops.get("/runs?live=0"))
    assert "hx-trigger" not in html(as_ops.get("/runs?offset=50"))


def test_detail_shows_the_trace_branch_and_updates_with_outcomes(as_ops, runs):  # type: ignore[no-untyped-def]
    page = html(as_ops.get(f"/runs/{runs['ok'][0]}"))

    assert f'href="/recipes/{RECIPE}"' in page and 'href="/customers/external:cus_ok1"' in page
    assert re.search(r'href="/events/\d+"', page)
    assert '<span class="taken">took cases.card</span>' in page
    assert "customer.payment_method" in page and "result-true" in page
    assert "assign_workflow" in page
    assert '<code>workflow</code>' in page and "status-applied" in page
    assert "Normalised event" in page and "Stored payload" in page


def test_secret_headers_are_never_shown(as_ops, demo, runs):  # type: ignore[no-untyped-def]
    with demo.uow() as uow:  # an older row that kept a credential must not show it either
        for delivery in uow.session.scalars(select(WebhookDelivery)):
            delivery.headers = {**delivery.headers, "Authorization": "Bearer leaked-token-xyz",
                                "Stripe-Signature": "t=1,v1=deadbeefsig", "X-Trace": "visible-one"}
        uow.commit()

    page = html(as_ops.get(f"/runs/{runs['failed']}"))

    assert "visible-one" in page
    assert "leaked-token-xyz" not in page and "deadbeefsig" not in page
    assert "stripe-signature" not in page.lower().replace("signatures are never", "")


def test_dry_run_shows_the_change_and_changes_nothing(as_ops, demo, runs):  # type: ignore[no-untyped-def]
    rename_card_workflow(demo, "Card payers")  # fixed: the replay would now go through
    before = run_count(demo)
    token = page_csrf(as_ops, f"/runs/{runs['failed']}")

    answer = as_ops.post(f"/runs/{runs['failed']}/replay",
                         data={"csrf_token": token, "version": "current", "dry_run": "1"})

    assert answer.status_code == 200
    page = html(answer)
    assert "<html" in page and "Nothing was changed" in page  # without JS: a whole page
    assert "<code>workflow</code>" in page and "Card payers" in page and "status-applied" in page
    assert "Confirm" in page and 'name="dry_run"' not in page
    assert run_count(demo) == before
    assert run_ids(demo, status="failed") == [runs["failed"]]


def test_dry_run_of_a_still_broken_run_shows_the_failure(as_ops, runs):  # type: ignore[no-untyped-def]
    answer = as_ops.post(f"/runs/{runs['failed']}/replay", headers={"HX-Request": "true"},
                         data={"csrf_token": page_csrf(as_ops, "/runs"), "dry_run": "1"})

    page = html(answer)
    assert answer.status_code == 200 and "<html" not in page  # htmx: only the preview
    assert "does not exist" in page and "Card payers" in page and "status-failed" in page


def test_confirmed_replay_runs_through_once_the_workflow_exists(as_ops, demo, runs):  # type: ignore[no-untyped-def]
    rename_card_workflow(demo, "Card payers")
    token = page_csrf(as_ops, "/runs")

    answer = as_ops.post(f"/runs/{runs['failed']}/replay", data={"csrf_token": token, "version": "current"})

    assert answer.status_code == 303
    new_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    page = html(as_ops.get(f"/runs/{new_id}"))
    assert "status-succeeded" in page and f'href="/runs/{runs["failed"]}"' in page
    assert f'resolved by <a href="/runs/{new_id}">' in html(as_ops.get(f"/runs/{runs['failed']}"))


def test_replay_needs_a_csrf_token(as_ops, demo, runs):  # type: ignore[no-untyped-def]
    before = run_count(demo)

    answer = as_ops.post(f"/runs/{runs['failed']}/replay", data={"version": "current"})

    assert answer.status_code == 403
    assert run_count(demo) == before


def test_account_managers_cannot_see_or_replay_runs(as_manager, demo, runs):  # type: ignore[no-untyped-def]
    assert as_manager.get("/runs").status_code == 403
    assert as_manager.get(f"/runs/{runs['failed']}").status_code == 403
    assert as_manager.get("/runs/replay").status_code == 403


def test_the_replay_form_is_shown_to_replayers_only(app, as_ops, demo, runs):  # type: ignore[no-untyped-def]
    assert "Preview the replay" in html(as_ops.get(f"/runs/{runs['failed']}"))
    make_user(demo, "watcher@example.com")
    with demo.uow() as uow:
        uow.session.scalar(select(User).filter_by(email="watcher@example.com")).role = "viewer"
        uow.commit()
    sign_in.set_password(demo, "watcher@example.com", PASSWORD)
    watcher = app.test_client()
    form = html(watcher.get("/sign-in"))
    watcher.post("/sign-in", data={"email": "watcher@example.com", "password": PASSWORD, "next": "/",
                                   "csrf_token": csrf_of(form)})
    page = html(watcher.get(f"/runs/{runs['failed']}"))
    assert "Preview the replay" not in page and "Replay these runs" not in html(watcher.get("/runs"))
    refused = watcher.post(f"/runs/{runs['failed']}/replay",
                           data={"csrf_token": csrf_of(page), "dry_run": "1"})
    assert refused.status_code == 403


def test_bulk_replay_previews_the_count_starts_a_job_and_shows_progress(as_ops, demo, runs):  # type: ignore[no-untyped-def]
    rename_card_workflow(demo, "Card payers")
    assert "Replay these runs" in html(as_ops.get("/runs?status=failed"))
    preview = html(as_ops.get("/runs/replay?status=failed"))
    assert '<span class="bulk-total">1</span>' in preview
    assert '<span class="bulk-total">3</span>' in html(as_ops.get(f"/runs/replay?recipe={RECIPE}"))

    started = as_ops.post("/runs/replay", data={"csrf_token": csrf_from(preview), "status": "failed",
                                                "version": "current", "rate": "1000"})

    assert started.status_code == 303
    job_id = int(started.headers["Location"].rsplit("/", 1)[1])
    queued = html(as_ops.get(f"/runs/replay/{job_id}"))
    assert 'hx-trigger="every 1s"' in queued and "<progress" in queued and "Cancel the job" in queued
    assert run_replay_job(demo, job_id) == "done"  # the worker's part
    done = html(as_ops.get(f"/runs/replay/{job_id}", headers={"HX-Request": "true"}))
    assert "<html" not in done and "hx-trigger" not in done
    assert '<span class="job-done">1/1</span>' in done and '<span class="job-succeeded">1</span>' in done
    assert "See the runs since it started" in done
    assert run_ids(demo, status="failed", resolved_by_id=None) == []


def csrf_from(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_a_bulk_replay_job_can_be_cancelled(as_ops, demo, runs):  # type: ignore[no-untyped-def]
    token = page_csrf(as_ops, "/runs")
    started = as_ops.post("/runs/replay", data={"csrf_token": token, "error_class": "config"})
    job_path = started.headers["Location"]

    cancelled = as_ops.post(f"{job_path}/cancel", data={"csrf_token": token})

    assert cancelled.status_code == 303
    page = html(as_ops.get(job_path))
    assert "status-cancelled" in page or ">cancelled<" in page
    assert "hx-trigger" not in page and "Cancel the job" not in page
    assert run_replay_job(demo, int(job_path.rsplit("/", 1)[1])) == "gone"


def test_a_bulk_replay_with_a_bad_rate_is_refused(as_ops, runs):  # type: ignore[no-untyped-def]
    token = page_csrf(as_ops, "/runs")
    assert as_ops.post("/runs/replay", data={"csrf_token": token, "rate": "fast"}).status_code == 400
    assert as_ops.post("/runs/replay", data={"csrf_token": token, "rate": "0"}).status_code == 422
