"""Page tests through Flask's test client: signed-in clients per role, on the demo data."""

from __future__ import annotations

import re

import pytest

from hub.services.demo import load_demo
from hub.services.directory import sign_in

PASSWORD = "correct horse battery"
USERS = {"admin": "finance.admin@example.com", "ops": "ops.oncall@example.com",
         "account_manager": "alice.martin@example.com"}


@pytest.fixture
def demo(hub):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    for email in USERS.values():
        sign_in.set_password(hub, email, PASSWORD)
    return hub


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def signed_in_client(app, role: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    form = client.get("/sign-in").get_data(as_text=True)
    answer = client.post("/sign-in", data={"email": USERS[role], "password": PASSWORD, "next": "/",
                                           "csrf_token": csrf_of(form)})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client


@pytest.fixture
def as_admin(app, demo):  # type: ignore[no-untyped-def]
    return signed_in_client(app, "admin")


@pytest.fixture
def as_ops(app, demo):  # type: ignore[no-untyped-def]
    return signed_in_client(app, "ops")


@pytest.fixture
def as_manager(app, demo):  # type: ignore[no-untyped-def]
    return signed_in_client(app, "account_manager")


def page_csrf(client, path: str = "/sign-in") -> str:  # type: ignore[no-untyped-def]
    """The CSRF token a signed-in client's pages carry."""
    return csrf_of(client.get(path).get_data(as_text=True))
