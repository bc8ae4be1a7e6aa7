"""The `make run` stack: SQLite, the filesystem broker and a real worker process, no servers."""

from __future__ import annotations

import os
import subprocess

import pytest
import requests

from tests.e2e.conftest import created_event, signed
from tests.e2e.stack import BIN, ROOT, Process, free_port, start_web, start_worker, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def embedded_env(tmp_path, is_postgres):  # type: ignore[no-untyped-def]
    if is_postgres:
        pytest.skip("the embedded stack is SQLite; it runs in the SQLite pass")
    env = {**os.environ, "HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}",
           "HUB_BROKER_URL": "filesystem://", "HUB_BROKER_FOLDER": str(tmp_path / "broker"),
           "HUB_ADMIN_API_KEY": "embedded-admin", "HUB_STRIPE_WEBHOOK_SECRET": "whsec_e2e_secret",
           "HUB_RECIPES_DIR": str(ROOT / "recipes"), "HUB_LOG_LEVEL": "WARNING"}
    env.pop("HUB_TEST_DATABASE_URL", None)
    for command in (["db", "upgrade"], ["demo"]):
        subprocess.run([str(BIN / "hub"), *command], env=env, cwd=ROOT, check=True,
                       capture_output=True)
    return env


def start_serve(env: dict[str, str], log_dir) -> tuple[Process, str]:  # type: ignore[no-untyped-def]
    """`hub serve`, as `make run` starts it: gunicorn, a worker with beat, supervised."""
    port = free_port()
    serve = Process("serve", [str(BIN / "hub"), "serve", "--port", str(port)], env, log_dir)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    wait_until(up, 60, what="hub serve")
    return serve, url


def test_signed_stripe_event_assigns_the_card_workflow_within_seconds(embedded_env, tmp_path):  # type: ignore[no-untyped-def]
    serve, url = start_serve(embedded_env, tmp_path)
    admin = {"Authorization": "Bearer embedded-admin"}
    try:
        assert requests.get(f"{url}/healthz", timeout=5).json() == {
            "status": "ok", "database": "ok", "broker": "ok", "connections": {"stripe": "ok"},
            "recipes": "ok"}
        body, headers = signed(created_event(1, "card", customer="cus_embedded"))
        assert requests.post(f"{url}/webhooks/stripe", data=body, headers=headers, timeout=10).status_code == 200

        def workflow() -> str | None:
            r = requests.get(f"{url}/api/v1/customers/external:cus_embedded", headers=admin, timeout=5)
            return r.json().get("dunningPlanId") if r.status_code == 200 else None

        wait_until(lambda: workflow() == "wf_card", 30, what="the card workflow")
        runs = requests.get(f"{url}/api/v1/runs?customer=cus_embedded", headers=admin, timeout=5).json()
        run = next(r for r in runs["runs"] if r["recipe"] and r["recipe"]["name"].startswith("stripe"))
        detail = requests.get(f"{url}/api/v1/runs/{run['id']}", headers=admin, timeout=5).json()
        branch = [t for t in detail["trace"] if t.get("kind") == "branch"]
        assert branch, detail["trace"]
        metrics = requests.get(f"{url}/metrics", timeout=5).text
        assert 'hub_webhooks_total{connection="stripe",outcome="accepted"}' in metrics
        assert serve.proc.poll() is None, serve.tail()  # every supervised process still up
    finally:
        serve.stop()


def test_try_webhook_command_drives_the_running_hub(embedded_env, tmp_path):  # type: ignore[no-untyped-def]
    web, url = start_web(embedded_env, tmp_path)
    worker = start_worker(embedded_env, tmp_path, concurrency=1, beat=False)
    try:
        out = subprocess.run([str(BIN / "hub"), "try-webhook", "--customer", "cus_try_e2e", "--method",
                              "sepa_debit", "--url", url], env=embedded_env, cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
        assert out.startswith("200")
        admin = {"Authorization": "Bearer embedded-admin"}

        def workflow() -> str | None:
            r = requests.get(f"{url}/api/v1/customers/external:cus_try_e2e", headers=admin, timeout=5)
            return r.json().get("dunningPlanId") if r.status_code == 200 else None

        wait_until(lambda: workflow() == "wf_direct_debit", 30, what="the direct debit workflow")
    finally:
        worker.stop()
        web.stop()


def test_an_import_is_applied_by_the_embedded_worker_from_the_bulk_queue(embedded_env, tmp_path):  # type: ignore[no-untyped-def]
    # Imports travel on a queue of their own; `hub serve`'s one worker consumes both queues
    # (on SQLite it applies the parts in turn inside the import task).
    serve, url = start_serve(embedded_env, tmp_path)
    admin = {"Authorization": "Bearer embedded-admin"}
    try:
        body = b"External Id,Workflow name\r\ncus_demo_acme,Standard\r\ncus_demo_nobody,Standard\r\n"
        response = requests.post(f"{url}/api/v1/imports", headers=admin, timeout=10,
                                 files={"file": ("assign.csv", body, "text/csv")})
        assert response.status_code == 202, response.text
        location = f"{url}/api/v1/imports/{response.json()['id']}"

        def status() -> str:
            return requests.get(location, headers=admin, timeout=5).json()["status"]

        wait_until(lambda: status() not in ("queued", "running"), 60, what="the import to finish")
        done = requests.get(location, headers=admin, timeout=5).json()
        assert (done["status"], done["counts"]) == ("error", {"updated": 1, "unchanged": 0, "failed": 1})
        acme = requests.get(f"{url}/api/v1/customers/external:cus_demo_acme", headers=admin, timeout=5)
        assert acme.json()["dunningPlanId"] == "wf_standard"
        assert serve.proc.poll() is None, serve.tail()
    finally:
        serve.stop()
