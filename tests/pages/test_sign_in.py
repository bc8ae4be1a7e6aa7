"""Sign-in, sign-out, lockout, invites and CSRF, through the pages."""

from __future__ import annotations

from hub.services.directory import sign_in
from tests.pages.conftest import PASSWORD, USERS, csrf_of


def _form(client):  # type: ignore[no-untyped-def]
    return csrf_of(client.get("/sign-in").get_data(as_text=True))


def test_a_page_without_a_session_sends_the_viewer_to_sign_in_and_back(app, demo):  # type: ignore[no-untyped-def]
    client = app.test_client()
    answer = client.get("/sign-in?next=/runs")
    assert answer.status_code == 200 and 'value="/runs"' in answer.get_data(as_text=True)
    token = _form(client)
    answer = client.post("/sign-in", data={"email": USERS["admin"].upper(), "password": PASSWORD,
                                           "next": "/runs", "csrf_token": token})
    assert answer.status_code == 303 and answer.headers["Location"] == "/runs"
    cookie = answer.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookie if c.startswith("hub_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie


def test_next_never_leaves_the_hub(app, demo):  # type: ignore[no-untyped-def]
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        client = app.test_client()
        token = _form(client)
        answer = client.post("/sign-in", data={"email": USERS["admin"], "password": PASSWORD,
                                               "next": target, "csrf_token": token})
        assert answer.headers["Location"] == "/"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(app, demo):  # type: ignore[no-untyped-def]
    client = app.test_client()
    token = _form(client)
    wrong = client.post("/sign-in", data={"email": USERS["admin"], "password": "nope-nope-nope",
                                          "csrf_token": token})
    unknown = client.post("/sign-in", data={"email": "nobody@example.com", "password": PASSWORD,
                                            "csrf_token": token})
    assert wrong.status_code == unknown.status_code == 401
    assert "wrong email or password" in wrong.get_data(as_text=True)
    assert "wrong email or password" in unknown.get_data(as_text=True)


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(app, demo):  # type: ignore[no-untyped-def]
    client = app.test_client()
    token = _form(client)
    for _ in range(5):
        client.post("/sign-in", data={"email": USERS["ops"], "password": "wrong-wrong-wrong",
                                      "csrf_token": token})
    right = client.post("/sign-in", data={"email": USERS["ops"], "password": PASSWORD, "csrf_token": token})
    assert right.status_code == 401 and "locked" in right.get_data(as_text=True)
    sign_in.set_password(demo, USERS["ops"], PASSWORD)  # an admin resets it: the lockout ends
    again = client.post("/sign-in", data={"email": USERS["ops"], "password": PASSWORD, "csrf_token": token})
    assert again.status_code == 303


def test_the_sign_in_form_without_its_csrf_token_is_refused(app, demo):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.get("/sign-in")
    answer = client.post("/sign-in", data={"email": USERS["admin"], "password": PASSWORD})
    assert answer.status_code == 403 and "csrf_refused" in answer.get_data(as_text=True)


def test_sign_out_ends_the_session_on_the_server(app, as_admin):  # type: ignore[no-untyped-def]
    token = csrf_of(as_admin.get("/sign-in").get_data(as_text=True))
    cookie = as_admin.get_cookie("hub_session").value
    assert as_admin.post("/sign-out", data={"csrf_token": "forged"}).status_code == 403
    assert as_admin.post("/sign-out", data={"csrf_token": token}).status_code == 303
    replayed = app.test_client()
    replayed.set_cookie("hub_session", cookie)  # a copy of the old cookie signs no one in
    assert replayed.get("/runs").status_code == 303


def test_an_invite_link_sets_a_password_once(app, demo):  # type: ignore[no-untyped-def]
    token = sign_in.invite(demo, USERS["account_manager"])
    client = app.test_client()
    page = client.get(f"/invite/{token}").get_data(as_text=True)
    assert USERS["account_manager"] in page
    short = client.post(f"/invite/{token}", data={"password": "short", "confirm": "short",
                                                  "csrf_token": csrf_of(page)})
    assert short.status_code == 400 and "10 to 256" in short.get_data(as_text=True)
    done = client.post(f"/invite/{token}", data={"password": "a new password", "confirm": "a new password",
                                                 "csrf_token": csrf_of(page)})
    assert done.status_code == 303
    assert app.test_client().get(f"/invite/{token}").status_code == 404


def test_an_expired_or_deactivated_session_signs_no_one_in(app, demo):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from hub.db.models import User, WebSession
    from hub.db.types import utcnow

    token = sign_in.sign_in(demo, USERS["admin"], PASSWORD)
    assert sign_in.signed_in(demo, token) is not None
    with demo.uow() as uow:
        for row in uow.session.query(WebSession):
            row.expires_at = utcnow() - timedelta(seconds=1)
        uow.commit()
    assert sign_in.signed_in(demo, token) is None
    token = sign_in.sign_in(demo, USERS["ops"], PASSWORD)
    with demo.uow() as uow:
        uow.session.query(User).filter(User.email == USERS["ops"]).one().status = "deactivated"
        uow.commit()
    assert sign_in.signed_in(demo, token) is None
    client = app.test_client()
    form = csrf_of(client.get("/sign-in").get_data(as_text=True))
    refused = client.post("/sign-in", data={"email": USERS["ops"], "password": PASSWORD, "csrf_token": form})
    assert refused.status_code == 401


def test_an_htmx_refresh_after_the_session_ended_is_told_to_go_to_sign_in(app, demo):  # type: ignore[no-untyped-def]
    answer = app.test_client().get("/sign-out-not-a-page", headers={"HX-Request": "true"})
    assert answer.status_code == 404  # unknown paths stay 404s, as a page for browsers
    answer = app.test_client().get("/runs", headers={"HX-Request": "true"})
    assert answer.status_code == 401 and answer.headers["HX-Redirect"] == "/sign-in"


def test_an_unknown_path_is_a_page_for_browsers_and_json_for_the_api(app, demo):  # type: ignore[no-untyped-def]
    client = app.test_client()
    page = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    api = client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.mimetype == "application/json"
