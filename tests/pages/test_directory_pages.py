"""The workflows page (ids to copy, customers per workflow, admins create workflows with unique
names) and the users page (admins only: who can sign in, invites whose link is shown once)."""

from __future__ import annotations

import html
import re
from dataclasses import replace

from sqlalchemy import func, select

from hub.db.models import User, Workflow
from hub.services.assignment import Cause
from hub.services.directory.customer_writes import CustomerWrite, create_or_update_customer
from tests.pages.conftest import csrf_of, page_csrf


def text_of(page: str) -> str:
    """The page as its reader sees it: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def row_of(page: str, attribute: str, key: str) -> str:
    found = re.search(rf'<tr {attribute}="{re.escape(key)}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, f"no row for {key}"
    return found.group(0)


def workflow_count(hub) -> int:  # type: ignore[no-untyped-def]
    with hub.uow(read_only=True) as uow:
        return int(uow.session.scalar(select(func.count(Workflow.id))) or 0)


def user_of(hub, email: str) -> User | None:  # type: ignore[no-untyped-def]
    with hub.uow(read_only=True) as uow:
        return uow.session.scalar(select(User).where(User.email == email))


def invite_link_of(page: str) -> str:
    found = re.search(r'<input id="invite-link" type="text" readonly value="([^"]+)"', page)
    assert found, "no invite link on the page"
    return html.unescape(found.group(1))


def post_invite(client, **fields: str):  # type: ignore[no-untyped-def]
    return client.post("/users/invite", data={**fields, "csrf_token": page_csrf(client, "/users")})


def test_workflows_are_listed_with_their_ids_and_customer_counts(as_admin, demo):  # type: ignore[no-untyped-def]
    write = CustomerWrite.from_payload({"externalId": "cus_page_second_card", "dunningPlanId": "wf_card"})
    create_or_update_customer(demo, write, Cause(kind="api", ref="test"))
    answer = as_admin.get("/workflows")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    by_name = ["wf_bad_payers", "wf_transfer_check"]
    assert re.findall(r'<tr data-workflow="([^"]+)"', page)[:2] == by_name
    card = row_of(page, "data-workflow", "wf_card")
    assert 'class="dunning-plan-id">wf_card</code>' in card
    copy_target = re.search(r'data-copy="([^"]+)"', card)
    assert copy_target and f'id="{copy_target.group(1)}" class="dunning-plan-id">wf_card<' in card
    assert 'href="/customers?workflow=wf_card"' in card and ">2</a>" in card
    assert "Automatic card retries" in card
    assert ">1</a>" in row_of(page, "data-workflow", "wf_standard")
    assert ">0</a>" in row_of(page, "data-workflow", "wf_enterprise")
    assert 'id="new-workflow"' in page and "Customers" in text_of(page)


def test_an_account_manager_counts_only_their_customers_and_gets_no_form(as_manager):  # type: ignore[no-untyped-def]
    answer = as_manager.get("/workflows")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert ">1</a>" in row_of(page, "data-workflow", "wf_card")  # Acme is Alice's
    assert ">0</a>" in row_of(page, "data-workflow", "wf_direct_debit")  # Globex is Bob's
    assert ">0</a>" in row_of(page, "data-workflow", "wf_standard")
    assert "Your customers" in page
    assert 'id="new-workflow"' not in page and 'id="wf-create"' not in page


def test_an_admin_creates_a_workflow_and_finds_it_highlighted_with_its_id(as_admin, demo):  # type: ignore[no-untyped-def]
    answer = as_admin.post("/workflows", data={"name": " Late\u00a0  payers ", "description": "Chase hard.",
                                               "csrf_token": page_csrf(as_admin, "/workflows")})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    new_id = answer.headers["Location"].split("created=")[1]
    assert answer.headers["Location"] == f"/workflows?created={new_id}"
    page = as_admin.get(answer.headers["Location"]).get_data(as_text=True)
    row = row_of(page, "data-workflow", new_id)
    assert 'class="just-created"' in row and ">Late payers</th>" in row and "Chase hard." in row
    assert f'<code id="created-id">{new_id}</code>' in page and 'data-copy="created-id"' in page
    assert workflow_count(demo) == 8


def test_a_duplicate_name_is_refused_on_the_form_whatever_its_case(as_admin, demo):  # type: ignore[no-untyped-def]
    token = page_csrf(as_admin, "/workflows")
    answer = as_admin.post("/workflows", data={"name": "card  PAYERS", "description": "again",
                                               "csrf_token": token})
    assert answer.status_code == 409
    page = answer.get_data(as_text=True)
    assert "a workflow named 'Card payers' already exists" in text_of(page)
    assert 'value="card  PAYERS"' in page and ">again</textarea>" in page
    empty = as_admin.post("/workflows", data={"name": "  ", "csrf_token": token})
    assert empty.status_code == 422 and "name is required" in empty.get_data(as_text=True)
    assert workflow_count(demo) == 7


def test_only_admins_create_workflows(as_ops, as_manager, demo):  # type: ignore[no-untyped-def]
    for client in (as_ops, as_manager):
        token = page_csrf(client, "/workflows")
        answer = client.post("/workflows", data={"name": "Sneaky", "csrf_token": token})
        assert answer.status_code == 403 and "not open to the" in answer.get_data(as_text=True)
    assert workflow_count(demo) == 7


def test_creating_a_workflow_needs_the_csrf_token(as_admin, demo):  # type: ignore[no-untyped-def]
    answer = as_admin.post("/workflows", data={"name": "No token"})
    assert answer.status_code == 403 and "csrf_refused" in answer.get_data(as_text=True)
    assert workflow_count(demo) == 7


def test_an_unknown_parameter_of_the_workflows_page_is_a_400(as_admin):  # type: ignore[no-untyped-def]
    answer = as_admin.get("/workflows?creatd=wf_card")
    assert answer.status_code == 400 and "did you mean created?" in answer.get_data(as_text=True)


def test_the_users_page_is_for_admins_only(as_ops, as_manager):  # type: ignore[no-untyped-def]
    for client in (as_ops, as_manager):
        assert client.get("/users").status_code == 403
        assert post_invite_without_page(client).status_code == 403


def post_invite_without_page(client):  # type: ignore[no-untyped-def]
    return client.post("/users/invite", data={"email": "x@example.com", "role": "admin",
                                              "csrf_token": page_csrf(client, "/workflows")})


def test_users_are_listed_with_role_sign_in_and_customers_managed(as_admin):  # type: ignore[no-untyped-def]
    page = as_admin.get("/users").get_data(as_text=True)
    alice = text_of(row_of(page, "data-user", "alice.martin@example.com"))
    assert alice == "Alice Martin alice.martin@example.com account_manager active yes 2"
    bob = row_of(page, "data-user", "bob.chen@example.com")
    assert "account_manager active no 1 New invite link" in text_of(bob)
    assert 'name="email" value="bob.chen@example.com"' in bob
    admin = text_of(row_of(page, "data-user", "finance.admin@example.com"))
    assert admin == "Finance Admin finance.admin@example.com admin active yes 0"
    roles = re.findall(r'<option value="([^"]+)"', page)
    assert roles == ["admin", "ops", "account_manager", "viewer"]


def test_an_invite_creates_the_user_with_the_role_and_a_link_that_signs_them_in(app, as_admin, demo):  # type: ignore[no-untyped-def]
    answer = post_invite(as_admin, email=" Dana@Example.com ", name="Dana Scully", role="ops")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    page = answer.get_data(as_text=True)
    link = invite_link_of(page)
    assert link.startswith("http://localhost/invite/") and 'data-copy="invite-link"' in page
    assert "expires in 72 hours" in text_of(page) and "not shown again" in text_of(page)
    row = text_of(row_of(page, "data-user", "dana@example.com"))
    assert row.startswith("Dana Scully dana@example.com ops invited invite expires")
    dana = user_of(demo, "dana@example.com")
    assert dana is not None and dana.role == "ops" and dana.password_hash is None

    visitor = app.test_client()
    form = visitor.get(link.removeprefix("http://localhost"))
    assert form.status_code == 200 and "dana@example.com" in form.get_data(as_text=True)
    accepted = visitor.post(link.removeprefix("http://localhost"),
                            data={"password": "dana's own password", "confirm": "dana's own password",
                                  "csrf_token": csrf_of(form.get_data(as_text=True))})
    assert accepted.status_code == 303
    assert visitor.get("/runs").status_code == 200  # signed in, as ops
    assert "ops active yes" in text_of(row_of(as_admin.get("/users").get_data(as_text=True),
                                              "data-user", "dana@example.com"))


def test_a_new_invite_replaces_the_old_link_and_keeps_the_role(app, as_admin, demo):  # type: ignore[no-untyped-def]
    first = invite_link_of(post_invite(as_admin, email="bob.chen@example.com").get_data(as_text=True))
    again = post_invite(as_admin, email="bob.chen@example.com", name="Robert", role="admin")
    assert again.status_code == 200
    page = again.get_data(as_text=True)
    second = invite_link_of(page)
    assert second != first
    assert "their role stays account_manager" in text_of(page)
    visitor = app.test_client()
    assert visitor.get(first.removeprefix("http://localhost")).status_code == 404
    assert visitor.get(second.removeprefix("http://localhost")).status_code == 200
    bob = user_of(demo, "bob.chen@example.com")
    assert bob is not None and bob.role == "account_manager" and bob.name == "Bob Chen"


def test_the_link_is_on_the_public_url_when_one_is_set(as_admin, demo):  # type: ignore[no-untyped-def]
    demo.settings = replace(demo.settings, public_url="https://hub.example.com/")
    page = post_invite(as_admin, email="eve@example.com", role="viewer").get_data(as_text=True)
    assert invite_link_of(page).startswith("https://hub.example.com/invite/")


def test_a_bad_email_or_role_is_refused_on_the_form_and_creates_no_one(as_admin, demo):  # type: ignore[no-untyped-def]
    answer = post_invite(as_admin, email="not-an-email", name="Nobody", role="ops")
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "not a valid email: 'not-an-email'" in text_of(page) and 'id="invite-error"' in page
    assert 'value="not-an-email"' in page and 'value="Nobody"' in page and 'id="invite-link"' not in page
    wrong_role = post_invite(as_admin, email="new@example.com", role="owner")
    assert wrong_role.status_code == 400
    assert "role: 'owner' is not valid" in text_of(wrong_role.get_data(as_text=True))
    no_role = post_invite(as_admin, email="new@example.com")
    assert no_role.status_code == 422 and "choose a role" in no_role.get_data(as_text=True)
    assert user_of(demo, "not-an-email") is None and user_of(demo, "new@example.com") is None


def test_inviting_needs_the_csrf_token(as_admin, demo):  # type: ignore[no-untyped-def]
    answer = as_admin.post("/users/invite", data={"email": "mallory@example.com", "role": "admin"})
    assert answer.status_code == 403 and "csrf_refused" in answer.get_data(as_text=True)
    assert user_of(demo, "mallory@example.com") is None


def statements_for(hub, client, path: str) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(hub.db.engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(hub.db.engine, "before_cursor_execute", count)
    return len(seen)


def test_the_counts_take_the_same_queries_however_many_rows(as_admin, demo):  # type: ignore[no-untyped-def]
    before = {path: statements_for(demo, as_admin, path) for path in ("/workflows", "/users")}
    for n in range(5):
        write = CustomerWrite.from_payload({"externalId": f"cus_page_more_{n}", "dunningPlanId": "wf_card",
                                            "accountManagers": ["bob.chen@example.com"]})
        create_or_update_customer(demo, write, Cause(kind="api", ref="test"))
        token = page_csrf(as_admin, "/workflows")
        as_admin.post("/workflows", data={"name": f"More {n}", "csrf_token": token})
        post_invite(as_admin, email=f"more{n}@example.com", role="viewer")
    after = {path: statements_for(demo, as_admin, path) for path in ("/workflows", "/users")}
    assert after == before
    page = as_admin.get("/users").get_data(as_text=True)
    assert text_of(row_of(page, "data-user", "bob.chen@example.com")).endswith("no 6 New invite link")
