"""Bulk assign jobs on the real database: chunks applied and counted once (re-run, redelivery
after a failure mid-job, a stale cursor), cancel, a refusal failing the job, and the preview
agreeing with what the job does."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from hub.db.models import AssignmentHistory, BulkAssignJob, Customer, User
from hub.db.types import utcnow
from hub.errors import ServiceUnavailable
from hub.services.assignment import AssignmentService, Cause, FieldWrite
from hub.services.directory import bulk_jobs
from hub.services.directory.bulk_jobs import BulkChange, Selection
from hub.services.directory.customers import CustomerFilter
from tests.factories import make_customer, make_user, make_workflow

CUSTOMERS = [f"c{i:02d}" for i in range(25)]
API_OWNED = "c07"
ACTOR = "user:admin@example.com"


@pytest.fixture
def directory(hub, monkeypatch):  # type: ignore[no-untyped-def]
    """25 customers on wf_a, one of them set by the API; jobs of 10 customers per chunk."""
    monkeypatch.setattr(bulk_jobs, "INLINE_LIMIT", 5)
    monkeypatch.setattr(bulk_jobs, "JOB_CHUNK", 10)
    make_workflow(hub, "wf_a", "A")
    make_workflow(hub, "wf_b", "B")
    make_user(hub, "ann@example.com")
    ids = {external_id: make_customer(hub, external_id) for external_id in CUSTOMERS}
    with hub.uow() as uow:
        service = AssignmentService(uow.session)
        for external_id, customer_id in ids.items():
            source = "api" if external_id == API_OWNED else "manual"
            service.assign(customer_id, [FieldWrite("workflow", "wf_a")], source=source,
                           occurred_at=utcnow() - timedelta(hours=1), cause=Cause("test"))
        uow.commit()
    return hub


def start(hub, change: BulkChange = BulkChange("workflow", "wf_b"), flt: CustomerFilter | None = None) -> int:  # type: ignore[no-untyped-def]
    started = bulk_jobs.apply_or_start(hub, Selection(flt or CustomerFilter(), "q=c"), change, ACTOR)
    assert started.report is None and started.job_id is not None
    return started.job_id


def job_of(hub, job_id: int) -> BulkAssignJob:  # type: ignore[no-untyped-def]
    return bulk_jobs.get_job(hub, job_id)


def history_count(hub, job_id: int) -> int:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return uow.session.scalar(select(func.count(AssignmentHistory.id)).where(
            AssignmentHistory.cause_type == "bulk_assign",
            AssignmentHistory.cause_id == f"bulk_job:{job_id}")) or 0


def workflows(hub) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return dict(uow.session.execute(select(Customer.external_id, Customer.workflow_id)).tuples().all())


def database_down_at_call(monkeypatch, n: int) -> None:  # type: ignore[no-untyped-def]
    """The n-th batch the assignment service is asked for fails as if the database went away."""
    real = AssignmentService.assign_many
    calls = itertools.count(1)

    def flaky(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if next(calls) == n:
            raise ServiceUnavailable("the database is unavailable")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(AssignmentService, "assign_many", flaky)


def test_a_job_applies_every_chunk_and_counts_each_customer_once(directory) -> None:  # type: ignore[no-untyped-def]
    job_id = start(directory)
    assert job_of(directory, job_id).status == "queued" and history_count(directory, job_id) == 0

    assert bulk_jobs.run_bulk_assign_job(directory, job_id) == "done"

    job = job_of(directory, job_id)
    assert (job.total, job.processed, job.cursor) == (25, 25, "c24")
    assert job.outcomes == {"applied": 24, "overruled": 1} and job.overruled_by == {"api": 1}
    assert job.started_at is not None and job.finished_at is not None
    assert history_count(directory, job_id) == 25
    assert workflows(directory) == {c: ("wf_a" if c == API_OWNED else "wf_b") for c in CUSTOMERS}
    with directory.uow() as uow:
        actors = set(uow.session.scalars(select(AssignmentHistory.actor).where(
            AssignmentHistory.cause_type == "bulk_assign")))
    assert actors == {ACTOR}


def test_running_a_finished_job_again_applies_and_counts_nothing(directory) -> None:  # type: ignore[no-untyped-def]
    job_id = start(directory)
    bulk_jobs.run_bulk_assign_job(directory, job_id)

    assert bulk_jobs.run_bulk_assign_job(directory, job_id) == "done"
    assert history_count(directory, job_id) == 25
    assert job_of(directory, job_id).outcomes == {"applied": 24, "overruled": 1}


def test_a_redelivered_job_resumes_after_its_last_committed_chunk(directory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    job_id = start(directory)
    database_down_at_call(monkeypatch, 2)
    with pytest.raises(ServiceUnavailable):
        bulk_jobs.run_bulk_assign_job(directory, job_id)
    job = job_of(directory, job_id)
    assert (job.status, job.processed, job.cursor) == ("running", 10, "c09")
    assert history_count(directory, job_id) == 10

    assert bulk_jobs.run_bulk_assign_job(directory, job_id) == "done"  # the redelivery
    job = job_of(directory, job_id)
    assert (job.total, job.processed) == (25, 25)
    assert sum(job.outcomes.values()) == 25 and history_count(directory, job_id) == 25


def test_a_chunk_is_not_applied_when_another_delivery_moved_the_cursor(directory) -> None:  # type: ignore[no-untyped-def]
    job_id = start(directory)
    status, cursor = bulk_jobs._claim(directory, job_id)
    assert (status, cursor) == ("running", None)
    assert bulk_jobs._next_chunk(directory, job_id, None) == ("running", "c09")

    # a second delivery that still believes nothing was done
    assert bulk_jobs._next_chunk(directory, job_id, None) == ("running", "c09")
    assert job_of(directory, job_id).processed == 10 and history_count(directory, job_id) == 10


def test_cancel_stops_a_running_job_after_its_current_chunk(directory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    job_id = start(directory)
    database_down_at_call(monkeypatch, 2)
    with pytest.raises(ServiceUnavailable):
        bulk_jobs.run_bulk_assign_job(directory, job_id)

    assert bulk_jobs.cancel_job(directory, job_id).status == "running"  # stops at its next chunk
    assert bulk_jobs.run_bulk_assign_job(directory, job_id) == "cancelled"
    job = job_of(directory, job_id)
    assert (job.status, job.processed, job.cancel_requested) == ("cancelled", 10, True)
    assert job.finished_at is not None and history_count(directory, job_id) == 10
    changed = sorted(c for c, w in workflows(directory).items() if w == "wf_b")
    assert changed == CUSTOMERS[:7] + CUSTOMERS[8:10]  # the first chunk, but the API's customer


def test_a_queued_job_cancelled_never_runs(directory) -> None:  # type: ignore[no-untyped-def]
    job_id = start(directory)
    assert bulk_jobs.cancel_job(directory, job_id).status == "cancelled"

    assert bulk_jobs.run_bulk_assign_job(directory, job_id) == "cancelled"
    assert history_count(directory, job_id) == 0 and set(workflows(directory).values()) == {"wf_a"}


def test_a_finished_job_cannot_be_cancelled(directory) -> None:  # type: ignore[no-untyped-def]
    job_id = start(directory)
    bulk_jobs.run_bulk_assign_job(directory, job_id)

    job = bulk_jobs.cancel_job(directory, job_id)
    assert (job.status, job.cancel_requested) == ("done", False)


def test_a_user_removed_since_the_confirmation_fails_the_job_cleanly(directory) -> None:  # type: ignore[no-untyped-def]
    job_id = start(directory, BulkChange("managers", mode="add", emails=("ann@example.com",)))
    with directory.uow() as uow:
        uow.session.execute(delete(User).where(User.email == "ann@example.com"))
        uow.commit()

    assert bulk_jobs.run_bulk_assign_job(directory, job_id) == "failed"
    job = job_of(directory, job_id)
    assert "ann@example.com" in (job.message or "") and job.processed == 0
    assert history_count(directory, job_id) == 0


def test_the_preview_reads_in_pages_and_agrees_with_the_job(directory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(bulk_jobs, "PREVIEW_PAGE", 7)
    flt = CustomerFilter(dunning_plan_id="wf_a")
    change = BulkChange("managers", mode="add", emails=("ann@example.com", "ANN@example.com "))
    report = bulk_jobs.preview(directory, Selection(flt), change)
    assert (report.matched, report.outcomes, report.description) == (
        25, {"applied": 25}, "Add ann@example.com to the account managers")

    job_id = start(directory, change, flt)
    bulk_jobs.run_bulk_assign_job(directory, job_id)
    assert job_of(directory, job_id).outcomes == report.outcomes
    again = bulk_jobs.preview(directory, Selection(flt), change)
    assert again.outcomes == {"unchanged": 25}


def test_the_preview_names_the_owner_of_an_overruled_field(directory) -> None:  # type: ignore[no-untyped-def]
    report = bulk_jobs.preview(directory, Selection(CustomerFilter()), BulkChange("workflow", "wf_b"))
    assert report.outcomes == {"applied": 24, "overruled": 1}
    assert report.overruled_by == {"api": 1} and report.examples == [(API_OWNED, "overruled", "api")]
    assert set(workflows(directory).values()) == {"wf_a"}


def test_a_selection_round_trips_through_the_job_row() -> None:
    flt = CustomerFilter(dunning_plan_id="wf_a", account_manager="ann@example.com", text="acme",
                         custom_fields={"segment": "smb"}, unassigned=None)
    assert Selection.from_json(Selection(flt, "q=acme").to_json()) == Selection(flt, "q=acme")
    picked = Selection.chosen(flt, [" c01", "c02", "c01"], all_matching=False)
    assert Selection.from_json(picked.to_json()).filter == CustomerFilter(external_ids=("c01", "c02"))


def test_an_unknown_job_is_gone(hub) -> None:  # type: ignore[no-untyped-def]
    assert bulk_jobs.run_bulk_assign_job(hub, 12345) == "gone"
