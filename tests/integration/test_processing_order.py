"""Property: per-customer sequences delivered and processed in any order → the newest change wins."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest
import stripe
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from hub.db.models import Customer
from hub.services.demo import load_demo
from hub.services.processing.process import process_event
from tests.conftest import last_dispatched

ROOT = Path(__file__).resolve().parents[2]
SECRET = "whsec_order"
# Stripe type → (hub vocabulary, workflow the shipped Stripe recipe assigns)
WORKFLOW_OF = {"card": ("card", "wf_card"), "sepa_debit": ("sepa_debit", "wf_direct_debit"),
               "us_bank_account": ("ach_debit", "wf_direct_debit"),
               "customer_balance": ("bank_transfer", "wf_transfer_check"),
               "paypal": ("paypal", "wf_standard")}
_ids = itertools.count()


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.with_overrides({"env": {"HUB_STRIPE_WEBHOOK_SECRET": SECRET},
                                    "recipes_dir": str(ROOT / "recipes")})


def event(customer: str, method: str, created: int) -> dict:
    n = next(_ids)
    obj = {"id": customer, "object": "customer", "name": customer, "currency": "usd", "metadata": {},
           "default_source": None,
           "invoice_settings": {"default_payment_method": {"id": f"pm_{n}", "type": method}}}
    return {"id": f"evt_order_{n}", "object": "event", "type": "customer.created", "created": created,
            "data": {"object": obj}}


def deliver(client, hub, ev: dict) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(ev).encode()
    at = int(time.time())
    sig = stripe.WebhookSignature._compute_signature(f"{at}.{body.decode()}", SECRET)
    assert client.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": f"t={at},v1={sig}"}).status_code == 200
    process_event(hub, last_dispatched(hub))


sequences = st.lists(st.sampled_from(sorted(WORKFLOW_OF)), min_size=1, max_size=5)


@hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(plan=st.lists(sequences, min_size=1, max_size=3), data=st.data())
def test_newest_change_wins_whatever_the_order(client, hub, plan, data):  # type: ignore[no-untyped-def]
    if not getattr(hub, "_demo", False):
        with hub.uow() as uow:
            load_demo(uow.session)
            uow.commit()
        hub._demo = True
    run = next(_ids)
    customers = [f"cus_order_{run}_{i}" for i in range(len(plan))]
    events = [event(c, method, 1795000000 + step * 60)
              for c, methods in zip(customers, plan, strict=True) for step, method in enumerate(methods)]
    for ev in data.draw(st.permutations(events)):
        deliver(client, hub, ev)
    with hub.uow() as uow:
        for c, methods in zip(customers, plan, strict=True):
            customer = uow.session.scalars(select(Customer).where(Customer.external_id == c)).unique().one()
            assert (customer.payment_method, customer.workflow_id) == WORKFLOW_OF[methods[-1]]
