"""`hub users set-password|invite` and the demo admin's printed sign-in."""

from __future__ import annotations

from hub.services.demo import DEMO_ADMIN
from tests.pages.conftest import csrf_of


def _signs_in(app, email: str, password: str) -> bool:  # type: ignore[no-untyped-def]
    client = app.test_client()
    token = csrf_of(client.get("/sign-in").get_data(as_text=True))
    return client.post("/sign-in", data={"email": email, "password": password,
                                         "csrf_token": token}).status_code == 303


def test_set_password_reads_stdin_and_the_user_can_sign_in(runner, app, demo):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["users", "set-password", "bob.chen@example.com", "--stdin"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    assert "password set for bob.chen@example.com" in result.output
    assert _signs_in(app, "bob.chen@example.com", "a long enough password")


def test_a_short_password_is_refused_and_nothing_changes(runner, app, demo):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["users", "set-password", "bob.chen@example.com", "--stdin"], input="short\n")
    assert result.exit_code != 0 and "10 to 256" in str(result.exception)
    assert not _signs_in(app, "bob.chen@example.com", "short")


def test_invite_creates_the_user_and_prints_a_working_link(runner, app, demo):  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["users", "invite", "dana@example.com", "--role", "ops", "--name", "Dana"])
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8000/invite/")
    path = link.removeprefix("http://127.0.0.1:8000")
    assert "dana@example.com" in app.test_client().get(path).get_data(as_text=True)


def test_demo_sets_the_demo_admins_password_when_make_run_gave_one(hub, app):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from hub.cli import register_commands

    hub.settings = replace(hub.settings, demo_admin_password="printed by hub serve")
    register_commands(app)
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert _signs_in(app, DEMO_ADMIN, "printed by hub serve")
