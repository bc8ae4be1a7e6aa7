"""The `hub` console script as a shell runs it: .env shared by every command of a folder, and
every error one line saying what to do, never a traceback. Each test runs `.venv/bin/hub` in a
folder of its own with no HUB_* variable from the suite's environment."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import stripe
from sqlalchemy import select

from hub.app import create_app
from hub.db.models import InboxEvent
from hub.services.processing.process import process_event

ROOT = Path(__file__).resolve().parents[2]
HUB = Path(sys.executable).with_name("hub")
NOWHERE = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # nothing listens there


def hub_cli(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    return subprocess.run([str(HUB), *args], cwd=folder, env={**clean, **env}, capture_output=True,
                          text=True, timeout=120)


def one_line_error(result: subprocess.CompletedProcess, *expected: str) -> str:
    """The command failed with exactly one line on stderr, naming each of ``expected``."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for words in expected:
        assert words in lines[0], lines[0]
    return lines[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- .env ----------------------------------------------------------------------------------


def test_init_env_writes_the_local_settings_once_and_keeps_what_is_there(tmp_path):
    (tmp_path / ".env").write_text("HUB_ADMIN_API_KEY=mine\n")

    first = hub_cli(tmp_path, "init-env")
    written = (tmp_path / ".env").read_text()
    second = hub_cli(tmp_path, "init-env")

    assert first.returncode == 0, first.stderr
    assert "added HUB_SECRET_KEY, HUB_STRIPE_WEBHOOK_SECRET, HUB_PORT" in first.stdout
    assert "Admin API key for this local hub: mine" in first.stdout
    lines = written.splitlines()
    assert lines[0] == "HUB_ADMIN_API_KEY=mine"
    assert "HUB_STRIPE_WEBHOOK_SECRET=whsec_local_demo_secret" in lines and "HUB_PORT=8000" in lines
    assert len(next(v for v in lines if v.startswith("HUB_SECRET_KEY=")).split("=", 1)[1]) >= 40
    assert second.returncode == 0 and "nothing changed" in second.stdout
    assert (tmp_path / ".env").read_text() == written


def test_commands_in_the_folder_share_the_database_and_admin_settings_of_env(  # type: ignore[no-untyped-def]
        tmp_path, monkeypatch, hub, database_url):
    (tmp_path / ".env").write_text(f"HUB_DATABASE_URL={database_url}\nHUB_RECIPES_DIR={ROOT / 'recipes'}\n")
    assert hub_cli(tmp_path, "init-env").returncode == 0
    assert hub_cli(tmp_path, "demo").returncode == 0
    key = hub_cli(tmp_path, "keys", "create", "--name", "second-terminal", "--role", "admin")
    assert key.returncode == 0, key.stderr

    # What `hub serve` runs, in the same folder, with nothing else set: the web sees the same
    # database (the key just created works), the same admin key and the same Stripe secret.
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("HUB_")]:
        monkeypatch.delenv(name)
    app = create_app()
    web = app.test_client()
    for raw in (key.stdout.strip(), "dev-admin-key"):
        assert web.get("/api/v1/runs", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    inbox_id = _post_stripe_event(web, "whsec_local_demo_secret")
    served = app.extensions["hub"]
    assert process_event(served, inbox_id).status == "processed"
    served.db.dispose()

    listed = hub_cli(tmp_path, "runs", "list", "--customer", "cus_cli")
    assert listed.returncode == 0 and "1 of 1 run(s)" in listed.stdout, listed.stdout + listed.stderr
    run_id = listed.stdout.splitlines()[1].split()[0]
    replayed = hub_cli(tmp_path, "runs", "replay", run_id)
    assert replayed.returncode == 0, replayed.stderr
    assert "succeeded" in replayed.stdout  # the Stripe connection is configured here too


def _post_stripe_event(web, secret: str) -> int:  # type: ignore[no-untyped-def]
    obj = {"id": "cus_cli", "object": "customer", "name": "CLI", "currency": "usd", "metadata": {},
           "default_source": None, "invoice_settings": {"default_payment_method": {"type": "card"}}}
    body = json.dumps({"id": "evt_cli", "object": "event", "type": "customer.created",
                       "created": 1795340000, "data": {"object": obj}})
    at = int(time.time())
    signature = stripe.WebhookSignature._compute_signature(f"{at}.{body}", secret)
    answer = web.post("/webhooks/stripe", data=body, headers={"Stripe-Signature": f"t={at},v1={signature}"})
    assert answer.status_code == 200, answer.data
    with web.application.extensions["hub"].uow() as uow:
        return uow.session.scalar(select(InboxEvent.id).where(InboxEvent.vendor_event_id == "evt_cli"))


# --- one line per error ----------------------------------------------------------------------


def test_try_webhook_where_nothing_listens_says_to_start_the_hub(tmp_path):
    result = hub_cli(tmp_path, "try-webhook", HUB_PORT=str(free_port()),
                     HUB_STRIPE_WEBHOOK_SECRET="whsec_x")
    one_line_error(result, "nothing answers at http://127.0.0.1:", "hub serve", "--url")


def test_try_webhook_without_a_secret_says_how_to_get_one(tmp_path):
    one_line_error(hub_cli(tmp_path, "try-webhook"), "HUB_STRIPE_WEBHOOK_SECRET", "hub init-env")


def test_try_webhook_refused_by_the_hub_says_which_secret_to_check(tmp_path):
    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b'{"error": {"code": "signature_invalid",\n "message": "rejected"}}')

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = hub_cli(tmp_path, "try-webhook", "--url", f"http://127.0.0.1:{server.server_port}",
                         HUB_STRIPE_WEBHOOK_SECRET="whsec_wrong")
    finally:
        server.shutdown()
    one_line_error(result, "refused the event (400", "signature_invalid", "HUB_STRIPE_WEBHOOK_SECRET")


def test_replay_of_an_unknown_run_says_where_the_ids_are(tmp_path, hub, database_url):  # type: ignore[no-untyped-def]
    result = hub_cli(tmp_path, "runs", "replay", "987654", HUB_DATABASE_URL=database_url)
    one_line_error(result, "run 987654 not found", "hub runs list")


@pytest.mark.parametrize("args", [
    ("runs", "list"), ("runs", "replay", "1"), ("keys", "create", "--name", "x"), ("demo",),
    ("recipes", "reload"), ("db", "upgrade"), ("import", "--no-wait", "{csv}"),
], ids=lambda a: " ".join(a[:2]))
def test_unreachable_database_is_one_line_for_every_command(tmp_path, args):
    (tmp_path / "a.csv").write_text("External Id,Workflow\ncus_1,Card payers\n")
    args = tuple(str(tmp_path / "a.csv") if a == "{csv}" else a for a in args)
    result = hub_cli(tmp_path, *args, HUB_DATABASE_URL=NOWHERE, HUB_RECIPES_DIR=str(ROOT / "recipes"))
    message = one_line_error(result, "cannot reach the database at", "HUB_DATABASE_URL")
    assert "nobody@127.0.0.1:1/none" in message


def test_database_not_migrated_says_to_upgrade(tmp_path, database_url):  # type: ignore[no-untyped-def]
    from tests.conftest import _create_postgres_database, _drop_postgres_database

    server = os.environ.get("HUB_TEST_DATABASE_URL", "")
    empty = _create_postgres_database(server) if server.startswith("postgresql") else None
    (tmp_path / "var").mkdir()
    try:
        urls = [f"sqlite:///{tmp_path / 'var' / 'empty.db'}", *([empty] if empty else [])]
        for url in urls:
            one_line_error(hub_cli(tmp_path, "runs", "list", HUB_DATABASE_URL=url),
                           "is not migrated", "run `hub db upgrade`")
    finally:
        if empty:
            _drop_postgres_database(server, empty)


def test_fresh_folder_says_to_upgrade_to_create_the_database(tmp_path):
    one_line_error(hub_cli(tmp_path, "keys", "create", "--name", "x"),
                   "cannot open the database at sqlite:///var/hub.db", "run `hub db upgrade`")


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("HUB_PORT", "abc", "HUB_PORT='abc' is not a whole number"),
    ("HUB_RETRY_BASE_SECONDS", "soon", "HUB_RETRY_BASE_SECONDS='soon' is not a number"),
    ("HUB_DATABASE_URL", "not a url", "HUB_DATABASE_URL is not a database URL"),
])
def test_unreadable_setting_names_the_variable(tmp_path, variable, value, expected):
    (tmp_path / ".env").write_text(f"{variable}={value}\n" if " " not in value else f"{variable}='{value}'\n")
    one_line_error(hub_cli(tmp_path, "runs", "list"), expected)


def test_help_with_an_unreadable_setting_still_helps(tmp_path):
    result = hub_cli(tmp_path, "--help", HUB_PORT="abc")
    assert result.returncode == 0 and "init-env" in result.stdout
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == ["Error: HUB_PORT='abc' is not a whole number: fix it "
                                                  "in the environment or in .env"]


def test_unknown_revision_is_one_line(tmp_path):
    one_line_error(hub_cli(tmp_path, "db", "upgrade", "nope"), "'nope'", "hub db upgrade")
