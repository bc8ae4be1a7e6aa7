"""Browser tests: Debian's Chromium driven by Playwright against the real processes.

One console per test package: gunicorn (2 workers) and a Celery worker with beat, on the
session's database (SQLite in the SQLite pass, PostgreSQL in the other) and the filesystem
broker, with the demo data and one user per role. Playwright is launched on the distribution's
browser by its path; it never downloads one (HUB_CHROMIUM overrides the path).

Screenshots go to HUB_SCREENSHOTS when it is set (`make screenshots` sets docs/screenshots),
else to a temporary folder, so every run still takes them and checks they are pictures.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from hub.bootstrap import build_hub
from hub.config import load_settings
from hub.services.demo import load_demo
from hub.services.directory import sign_in
from tests.conftest import _empty_all_tables
from tests.e2e.stack import ROOT, start_web, start_worker, wait_until

pytestmark = pytest.mark.e2e
CHROMIUM = os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium")
# As the machine notes advise: no sandbox as root, and nothing that calls out to Google's hosts.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
ADMIN_KEY = "browser-admin-key"
SECRET = "whsec_e2e_secret"
PASSWORD = "browser test password"
USERS = {"admin": "finance.admin@example.com", "ops": "ops.oncall@example.com",
         "account_manager": "alice.martin@example.com"}
# A recipe that names a workflow nobody has created yet: its runs fail with class config until
# an admin creates "UK direct debit"; the replay then succeeds (the "Must show").
MISSING_WORKFLOW_RECIPE = """\
name: stripe-bacs-to-uk-direct-debit
description: BACS payers go to the UK direct debit workflow (created by hand, later).
order: 50
trigger:
  connector: stripe
  events: [customer.created]
when: {field: customer.payment_method, equals: bacs_debit}
steps:
  - assign_workflow: UK direct debit
"""


@dataclass
class Console:
    url: str
    hub: object
    screenshots: Path

    def api(self, method: str, path: str, **kwargs: object) -> requests.Response:
        return requests.request(method, f"{self.url}/api/v1{path}", timeout=10,
                                headers={"Authorization": f"Bearer {ADMIN_KEY}"}, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="package")
def console(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does), "
                    f"or set HUB_CHROMIUM")
    work = tmp_path_factory.mktemp("console")
    recipes = work / "recipes"
    shutil.copytree(ROOT / "recipes", recipes)
    (recipes / "stripe-bacs-to-uk-direct-debit.yaml").write_text(MISSING_WORKFLOW_RECIPE)
    env = {"PATH": str(ROOT / ".venv" / "bin") + ":/usr/bin:/bin", "HUB_DATABASE_URL": database_url,
           "HUB_BROKER_URL": "filesystem://", "HUB_BROKER_FOLDER": str(work / "broker"),
           "HUB_RECIPES_DIR": str(recipes), "HUB_ADMIN_API_KEY": ADMIN_KEY,
           "HUB_STRIPE_WEBHOOK_SECRET": SECRET, "HUB_STRIPE_API_KEY": "sk_test_browser",
           "HUB_LOG_LEVEL": "WARNING", "HUB_RETRY_BASE_SECONDS": "0.2", "HUB_RETRY_MAX_SECONDS": "1"}
    settings = load_settings(environ={}, overrides={
        "database_url": database_url, "broker_url": "filesystem://",
        "broker_folder": str(work / "broker"), "recipes_dir": str(recipes)})
    hub = build_hub(settings)
    _empty_all_tables(hub)
    with hub.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    for email in USERS.values():
        sign_in.set_password(hub, email, PASSWORD)
    web, url = start_web(env, work, workers=2)
    worker = start_worker(env, work, concurrency=2, beat=True)
    wait_until(lambda: requests.get(f"{url}/healthz", timeout=2).status_code == 200, 30, what="healthz ok")
    shots = Path(os.environ.get("HUB_SCREENSHOTS") or work / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    yield Console(url=url, hub=hub, screenshots=shots)
    worker.stop()
    web.stop()
    hub.db.dispose()  # type: ignore[attr-defined]


@pytest.fixture(scope="package")
def browser(console: Console) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page_for(browser, console):  # type: ignore[no-untyped-def]
    """A new browser context signed in as a role (or not signed in with role=None)."""
    contexts = []

    def make(role: str | None = "admin", width: int = 1280, height: int = 860):  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport={"width": width, "height": height},
                                      timezone_id="Europe/Paris", locale="en-GB")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        if role is not None:
            sign_in_as(page, console.url, USERS[role])
        return page

    yield make
    for context in contexts:
        context.close()


def sign_in_as(page, url: str, email: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda u: "/sign-in" not in u)


def screenshot(page, console: Console, name: str) -> Path:  # type: ignore[no-untyped-def]
    path = console.screenshots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path
