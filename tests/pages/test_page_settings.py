"""The page settings read from the environment as a deployment sets them, and bad form values."""

from __future__ import annotations

from hub.app import create_app
from hub.config import load_settings
from hub.services.directory import sign_in
from tests.pages.conftest import PASSWORD, USERS, csrf_of, page_csrf


def _session_cookie(app, base_url: str = "http://localhost") -> str:  # type: ignore[no-untyped-def]
    client = app.test_client()
    form = client.get("/sign-in", base_url=base_url).get_data(as_text=True)
    answer = client.post("/sign-in", base_url=base_url, data={
        "email": USERS["admin"], "password": PASSWORD, "csrf_token": csrf_of(form)})
    assert answer.status_code == 303
    return next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith("hub_session="))


def test_cookies_are_secure_over_https_and_with_hub_secure_cookies(hub, app, demo):  # type: ignore[no-untyped-def]
    assert "Secure" not in _session_cookie(app)
    assert "Secure" in _session_cookie(app, base_url="https://localhost")
    settings = load_settings(environ={"HUB_SECURE_COOKIES": "true", "HUB_SESSION_HOURS": "2",
                                      "HUB_DATABASE_URL": hub.settings.database_url})
    behind_proxy = create_app(hub=type(hub)(**{**hub.__dict__, "settings": settings}))
    cookie = _session_cookie(behind_proxy)
    assert "Secure" in cookie and "Max-Age=7200" in cookie


def test_hub_public_url_and_invite_hours_shape_the_invite(runner, hub, demo):  # type: ignore[no-untyped-def]
    settings = load_settings(environ={"HUB_PUBLIC_URL": "https://hub.example.com/", "HUB_INVITE_HOURS": "1",
                                      "HUB_DATABASE_URL": hub.settings.database_url})
    assert settings.public_url == "https://hub.example.com/" and settings.invite_hours == 1
    hub.settings = settings
    result = runner.invoke(args=["users", "invite", USERS["ops"]])
    assert result.output.startswith("https://hub.example.com/invite/"), result.output


def test_lockout_settings_from_the_environment(hub, app, demo):  # type: ignore[no-untyped-def]
    hub.settings = load_settings(environ={"HUB_SIGN_IN_ATTEMPTS": "2", "HUB_LOCKOUT_MINUTES": "1",
                                          "HUB_DATABASE_URL": hub.settings.database_url})
    for _ in range(2):
        try:
            sign_in.sign_in(hub, USERS["ops"], "wrong wrong wrong")
        except sign_in.AuthenticationRequired as refused:
            last = refused
    assert isinstance(last, sign_in.AccountLocked) and "1 minutes" in last.message


def test_bad_form_values_are_4xx_pages_never_5xx(as_admin):  # type: ignore[no-untyped-def]
    token = page_csrf(as_admin, "/runs")
    for path, data in (("/runs/1/replay", {"version": "bogus"}), ("/runs/999999/replay", {}),
                       ("/runs/replay", {"version": "current", "rate": "fast"}),
                       ("/runs/replay", {"version": "current", "rate": "1e9"}),
                       ("/runs/replay", {"version": "current", "status": "nope"})):
        answer = as_admin.post(path, data={**data, "csrf_token": token})
        assert 400 <= answer.status_code < 500, (path, data, answer.status_code)
    for path in ("/recipes/stripe-payment-method-to-workflow?from=abc&to=1", "/invite/" + "x" * 5000,
                 "/events?since=yesterday", "/runs?offset=-1", "/customers?q=" + "x" * 500):
        answer = as_admin.get(path)
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
