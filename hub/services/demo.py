"""Demo data so a newcomer sees workflows, users and customers at once. Safe to run twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.models import Customer, User, Workflow
from hub.db.types import utcnow
from hub.services.assignment import AssignmentService, Cause, FieldWrite
from hub.services.hub import Hub

WORKFLOWS = [
    ("wf_card", "Card payers", "Automatic card retries, then a gentle reminder."),
    ("wf_direct_debit", "Direct debit", "Mandate-based collection: remind only on failure."),
    ("wf_standard", "Standard", "Invoice reminders at 7, 14 and 30 days."),
    ("wf_transfer_check", "Bank transfer and check", "Remittance reminders for offline payers."),
    ("wf_bad_payers", "Bad payers", "Short fuse: reminders, then escalation to collections."),
    ("wf_enterprise", "Enterprise", "Account-manager-led collection for large accounts."),
    ("wf_net_terms", "Net terms", "Invoices on agreed terms: reminders from the due date."),
]
DEMO_ADMIN = "finance.admin@example.com"
USERS = [
    ("alice.martin@example.com", "Alice Martin", "account_manager"),
    ("bob.chen@example.com", "Bob Chen", "account_manager"),
    ("carla.diaz@example.com", "Carla Diaz", "account_manager"),
    ("ae-team@example.com", "AE team", "account_manager"),
    ("collections@example.com", "Collections desk", "account_manager"),
    (DEMO_ADMIN, "Finance Admin", "admin"),
    ("ops.oncall@example.com", "Ops on call", "ops"),
]
CUSTOMERS = [
    # external id, name, email, currency, payment method, workflow, managers, custom fields
    ("cus_demo_acme", "Acme Logistics LLC", "billing@acme.example", "usd", "card", "wf_card",
     ["alice.martin@example.com"], {"segment": "smb"}),
    ("cus_demo_globex", "Globex Freight Inc", "ap@globex.example", "eur", "sepa_debit",
     "wf_direct_debit", ["bob.chen@example.com"], {"segment": "mid_market"}),
    ("cus_demo_initech", "Initech GmbH", "finance@initech.example", "eur", "bank_transfer",
     "wf_transfer_check", ["alice.martin@example.com", "carla.diaz@example.com"],
     {"segment": "enterprise"}),
    ("cus_demo_umbrella", "Umbrella Health", "ap@umbrella.example", "usd", "check",
     "wf_bad_payers", ["carla.diaz@example.com"], {"segment": "smb", "risk": "high"}),
    ("cus_demo_hooli", "Hooli", "billing@hooli.example", "usd", "ach_debit", "wf_standard",
     [], {}),
]


def seed_demo(hub: Hub) -> dict[str, int]:
    """`hub demo`: the demo data in one unit of work; how many of each kind were created."""
    with hub.uow() as uow:
        created = load_demo(uow.session)
        uow.commit()
    return created


def load_demo(session: Session) -> dict[str, int]:
    created = {"workflows": 0, "users": 0, "customers": 0}
    for wid, name, description in WORKFLOWS:
        if session.get(Workflow, wid) is None and not session.scalar(
            select(Workflow.id).where(Workflow.name == name)
        ):
            session.add(Workflow(id=wid, name=name, description=description))
            created["workflows"] += 1
    for email, name, role in USERS:
        if session.scalar(select(User.id).where(User.email == email)) is None:
            session.add(User(email=email, name=name, role=role))
            created["users"] += 1
    session.flush()
    for row in CUSTOMERS:
        created["customers"] += _demo_customer(session, *row)
    return created


def _demo_customer(session, external_id, name, email, currency, method, wf, managers, fields) -> int:  # type: ignore[no-untyped-def]
    if session.scalar(select(Customer.id).where(Customer.external_id == external_id)):
        return 0
    customer = Customer(external_id=external_id, name=name, email=email, currency=currency,
                        payment_method=method, source_system="demo", custom_fields={})
    session.add(customer)
    session.flush()
    writes = [FieldWrite("workflow", wf), FieldWrite("account_managers", tuple(managers))]
    writes += [FieldWrite(f"custom_fields.{k}", v) for k, v in fields.items()]
    AssignmentService(session).assign(
        customer.id, writes, source="manual", occurred_at=utcnow() - timedelta(days=1),
        cause=Cause(kind="demo", ref="hub demo", actor="hub demo"),
    )
    return 1
