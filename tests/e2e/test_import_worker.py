"""A CSV import through the real processes: gunicorn takes the upload, Celery workers (prefork,
PostgreSQL, Redis) apply it: the import task hands each part to a part task of its own, and the
parts run side by side wherever a worker process is free, each with its own connection.
"""

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


ADMIN = {"Authorization": "Bearer e2e-admin"}


def upload_and_wait(url: str) -> dict:  # type: ignore[type-arg]
    response = requests.post(f"{url}/api/v1/imports", headers=ADMIN, timeout=30,
                             files={"file": ("assign.csv", csv_body(), "text/csv")})
    assert response.status_code == 202, response.text
    location = f"{url}/api/v1/imports/{response.json()['id']}"

    def finished() -> bool:
        return requests.get(location, headers=ADMIN, timeout=10).json()["status"] not in (
            "queued", "running")

    wait_until(finished, 120, every=0.5, what="the import to finish")
    done = requests.get(location, headers=ADMIN, timeout=10).json()
    errors = requests.get(f"{location}/errors.csv", headers=ADMIN, timeout=10).text
    assert "imp_missing" in errors and "The customer was not found" in errors
    return done


def assert_every_line_applied_once(hub, done: dict) -> None:  # type: ignore[no-untyped-def, type-arg]
    assert done["status"] == "error"
    assert done["counts"] == {"updated": LINES, "unchanged": 0, "failed": 1}
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


def parts_ended(worker, import_id: int) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """(part, process id, what the part task answered) for each part task the worker ran to its
    end: "running" while another part was left, the import's status for the last one."""
    return re.findall(rf"import {import_id}: part (\d) of 2 ended in process (\d+): (\w+)",
                      worker.log_path.read_text(errors="replace"))


def test_an_import_runs_in_parts_in_the_worker_and_applies_every_line_once(stack_factory, redis_server):  # type: ignore[no-untyped-def]
    stack = stack_factory(f"redis://127.0.0.1:{redis_server.port}/5")
    seed(stack.hub)
    url = stack.web(workers=1)
    worker = stack.worker(concurrency=2)

    done = upload_and_wait(url)

    assert_every_line_applied_once(stack.hub, done)
    # The sweeper may publish the import a second time as the worker starts: that run's part
    # tasks step aside ("superseded") once the next run has claimed it. The last run's parts
    # both ended, one of them closing the import.
    ended = [(part, answer) for part, _, answer in parts_ended(worker, done["id"])
             if answer != "superseded"]
    assert sorted(part for part, _ in ended) == ["0", "1"], worker.tail()
    assert sorted(answer for _, answer in ended) == ["error", "running"]


def test_the_parts_of_one_import_are_processed_by_two_worker_processes(stack_factory, redis_server):  # type: ignore[no-untyped-def]
    # Two workers of one process each, taking one message at a time (docker-compose.yml's bulk
    # workers): while one runs the import task, the other takes the first part; the second
    # part goes to whichever is free next. No beat, so no sweeper publishes the import twice.
    stack = stack_factory(f"redis://127.0.0.1:{redis_server.port}/7")
    seed(stack.hub)
    url = stack.web(workers=1)
    workers = [stack.worker(concurrency=1, beat=False, prefetch=1, name=f"worker{n}") for n in (1, 2)]
    wait_until(lambda: all(" ready." in w.log_path.read_text(errors="replace") for w in workers),
               60, what="both workers")

    done = upload_and_wait(url)

    assert_every_line_applied_once(stack.hub, done)
    ended = [parts_ended(worker, done["id"]) for worker in workers]
    assert [len(parts) for parts in ended] == [1, 1], [w.tail() for w in workers]
    assert sorted(parts[0][0] for parts in ended) == ["0", "1"]  # one part in each worker
    assert ended[0][0][1] != ended[1][0][1]  # two processes
    assert sorted(parts[0][2] for parts in ended) == ["error", "running"]  # the last one closed it
