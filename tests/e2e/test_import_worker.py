"""A CSV import through the real processes: gunicorn takes the upload, a Celery worker (prefork,
PostgreSQL, Redis) applies it in parts side by side, each part in a process of its own (forked from the prefork
child, which multiprocessing would refuse) with its own connection."""

from __future__ import annotations

import re

import pytest
import requests
from sqlalchemy import func, select

from hub.db.models import AssignmentHistory, Customer, User, Workflow
from tests.e2e.stack import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("postgres_only")]
LINES = 3000  # three chunks per part with the default split in two


def seed(hub) -> None:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        uow.session.add_all([Workflow(id="wf_e2e_a", name="E2E card payers"),
                             Workflow(id="wf_e2e_b", name="E2E direct debit"),
                             User(email="e2e.one@example.com"), User(email="e2e.two@example.com")])
        uow.session.add_all([Customer(external_id=f"imp_{n:05d}", custom_fields={})
                             for n in range(LINES)])
        uow.commit()


def csv_body() -> bytes:
    rows = ["External Id;Account manager email;Workflow name"]
    for n in range(LINES):
        workflow = "E2E card payers" if n % 2 else "E2E direct debit"
        managers = "e2e.one@example.com" + (", e2e.two@example.com" if n % 3 == 0 else "")
        rows.append(f"imp_{n:05d};{managers};{workflow}")
    rows.append("imp_missing;e2e.one@example.com;E2E card payers")
    return ("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8")


def test_an_import_runs_in_parts_in_the_worker_and_applies_every_line_once(stack_factory, redis_server):  # type: ignore[no-untyped-def]
    stack = stack_factory(f"redis://127.0.0.1:{redis_server.port}/5")
    hub = stack.hub
    seed(hub)
    url = stack.web(workers=1)
    worker = stack.worker(concurrency=2)
    admin = {"Authorization": "Bearer e2e-admin"}
    response = requests.post(f"{url}/api/v1/imports", headers=admin, timeout=30,
                             files={"file": ("assign.csv", csv_body(), "text/csv")})
    assert response.status_code == 202, response.text
    location = f"{url}/api/v1/imports/{response.json()['id']}"

    def finished() -> bool:
        return requests.get(location, headers=admin, timeout=10).json()["status"] not in (
            "queued", "running")

    wait_until(finished, 120, every=0.5, what="the import to finish")
    done = requests.get(location, headers=admin, timeout=10).json()
    assert done["status"] == "error"
    assert done["counts"] == {"updated": LINES, "unchanged": 0, "failed": 1}
    errors = requests.get(f"{location}/errors.csv", headers=admin, timeout=10).text
    assert "imp_missing" in errors and "The customer was not found" in errors
    with hub.uow() as uow:
        history = uow.session.scalar(select(func.count(AssignmentHistory.id)).where(
            AssignmentHistory.cause_type == "import_line"))
        assert history == 2 * LINES  # two fields per line, every line exactly once
        card = uow.session.scalar(select(func.count(Customer.id)).where(
            Customer.workflow_id == "wf_e2e_a"))
        assert card == LINES // 2
        owned = uow.session.scalar(select(Customer).where(Customer.external_id == "imp_00003"))
        assert [(a.field, a.source) for a in owned.assignments] == [
            ("account_managers", "csv"), ("workflow", "csv")]
        assert [u.email for u in owned.account_managers] == [
            "e2e.one@example.com", "e2e.two@example.com"]
    # Each part ran in a process of its own, forked from the prefork child that ran the task.
    done_lines = re.findall(r"import part (\d) done in process (\d+) \(forked from (\d+)\)",
                            worker.log_path.read_text(errors="replace"))
    # The sweeper may publish the import a second time as the worker starts: that run's parts
    # also log, then it steps aside ("superseded"). Whichever ran them, one prefork child forked
    # a process per part.
    parts_by_parent: dict[str, dict[str, str]] = {}
    for part, process, parent in done_lines:
        parts_by_parent.setdefault(parent, {})[part] = process
    assert any(set(parts) == {"0", "1"} and len({*parts.values(), parent}) == 3
               for parent, parts in parts_by_parent.items()), worker.tail()
