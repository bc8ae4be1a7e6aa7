"""Small builders for test data, written through the real services."""

from __future__ import annotations

from hub.services.hub import Hub
from hub.db.models import Customer, User, Workflow


def make_workflow(hub: Hub, wid: str, name: str) -> str:
    with hub.uow() as uow:
        uow.session.add(Workflow(id=wid, name=name))
        uow.commit()
    return wid


def make_user(hub: Hub, email: str, name: str | None = None) -> str:
    with hub.uow() as uow:
        user = User(email=email.lower(), name=name)
        uow.session.add(user)
        uow.commit()
        return user.id


def make_customer(hub: Hub, external_id: str, **fields) -> str:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        customer = Customer(external_id=external_id, custom_fields={}, **fields)
        uow.session.add(customer)
        uow.commit()
        return customer.id
