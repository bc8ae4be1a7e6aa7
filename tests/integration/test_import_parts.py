"""An import's parts as tasks of their own: the import task hands them out (PostgreSQL) or applies
them in turn (SQLite), each part records that it has ended, and the last one closes the import.

The part tasks are called in the test's process, in the order a test needs; they run on both
databases (on SQLite the import task never hands them out, but a part task works the same). A
run's token comes from the claim the import task makes (``_claim``), as a worker's would.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hub.db.models import AssignmentHistory, CsvImport, ImportFilePiece
from hub.errors import MalformedBody, ServiceUnavailable
from hub.queue import PROCESS_IMPORT, PROCESS_IMPORT_PART
from hub.services.hub import Hub
from hub.services.imports import run as imports_run
from hub.services.imports.run import process_import, process_import_part
from hub.services.imports.upload import create_import, enqueue_stalled_imports
from tests.factories import make_customer, make_user, make_workflow
from tests.import_workers import run_part_tasks

# Two parts by customer (crc32 of the external id): cus_1..cus_3 are part 0, cus_4 and cus_404
# part 1. Lines 2, 3, 4 and 7 are part 0's; lines 5 and 6 part 1's (cus_404 fails).
SIX_LINES = [["cus_1", "ann@example.com", "Standard"], ["cus_2", "ann@example.com", "Standard"],
             ["cus_3", "ann@example.com", "Standard"], ["cus_4", "ann@example.com", "Standard"],
             ["cus_404", "", "Standard"], ["cus_1", "", "Direct debit"]]
PART_0_LINES, PART_1_LINES = (2, 3, 4, 7), (5, 6)


@pytest.fixture
def seeded(hub):  # type: ignore[no-untyped-def]
    make_workflow(hub, "wf_std", "Standard")
    make_workflow(hub, "wf_dd", "Direct debit")
    make_user(hub, "ann@example.com")
    for ref in ("cus_1", "cus_2", "cus_3", "cus_4"):
        make_customer(hub, ref)
    return hub


def uploaded(hub: Hub, rows: list[list[str]] = SIX_LINES) -> int:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(
        [["External Id", "Account manager email", "Workflow name"], *rows])
    row = create_import(hub, io.BytesIO(out.getvalue().encode()), "assign.csv", None, "test")
    hub.queue.sent.clear()  # type: ignore[attr-defined]
    return row.id


def claimed(hub: Hub, import_id: int) -> str:
    """A fresh run's token, claimed as the import task claims it before handing out parts."""
    claim = imports_run._claim(hub, import_id)
    assert claim is not None
    return claim.token


def import_row(hub: Hub, import_id: int) -> CsvImport:
    with hub.uow() as uow:
        return uow.session.get(CsvImport, import_id)


def applied_lines(hub: Hub, import_id: int) -> dict[int, int]:
    """line number → history entries (two fields a line: 2 for a line applied once)."""
    with hub.uow() as uow:
        rows = uow.session.execute(select(AssignmentHistory.cause_id, func.count()).where(
            AssignmentHistory.cause_id.like(f"{import_id}:%")).group_by(AssignmentHistory.cause_id))
        return {int(cause.split(":")[1]): count for cause, count in rows.all()}


def fail_lines(monkeypatch, error_for: dict[int, Exception]) -> None:  # type: ignore[no-untyped-def]
    """apply_lines raises the given error for a chunk holding one of these lines."""
    real = imports_run.apply_lines

    def failing(session, lines, *args, **kwargs):  # type: ignore[no-untyped-def]
        for line in lines:
            if line.line_number in error_for:
                raise error_for[line.line_number]
        return real(session, lines, *args, **kwargs)

    monkeypatch.setattr(imports_run, "apply_lines", failing)


# -- handing the parts out -----------------------------------------------------------------


def test_on_postgresql_the_import_task_hands_out_one_part_task_per_part(seeded, queue, is_postgres):  # type: ignore[no-untyped-def]
    if not is_postgres:
        pytest.skip("SQLite applies the parts in turn (next test)")
    import_id = uploaded(seeded)

    assert process_import(seeded, import_id) == "running"

    row = import_row(seeded, import_id)
    assert queue.sent == [(PROCESS_IMPORT_PART, (import_id, 0, row.claim)),
                          (PROCESS_IMPORT_PART, (import_id, 1, row.claim))]
    assert (row.status, row.processed_lines, row.last_lines, row.finished_parts) == (
        "running", 0, [0, 0], [])
    assert run_part_tasks(seeded) == "error"
    assert applied_lines(seeded, import_id) == {2: 2, 3: 2, 4: 2, 5: 2, 7: 1}


def test_on_sqlite_the_import_task_applies_every_part_in_turn(seeded, queue, is_postgres):  # type: ignore[no-untyped-def]
    if is_postgres:
        pytest.skip("PostgreSQL hands the parts out (previous test)")
    import_id = uploaded(seeded)

    assert process_import(seeded, import_id) == "error"

    assert queue.sent == []
    row = import_row(seeded, import_id)
    assert (row.last_lines, row.finished_parts, row.processed_lines) == ([7, 6], [0, 1], 6)


def test_an_import_of_one_part_is_applied_by_the_import_task_itself(seeded, queue):  # type: ignore[no-untyped-def]
    seeded.settings = seeded.settings.with_overrides({"import_parallelism": 1})
    import_id = uploaded(seeded)

    assert process_import(seeded, import_id) == "error"
    assert queue.sent == []


def test_a_broker_that_refuses_the_parts_leaves_the_import_to_the_sweeper(seeded, queue, is_postgres):  # type: ignore[no-untyped-def]
    if not is_postgres:
        pytest.skip("only PostgreSQL hands parts out")
    import_id = uploaded(seeded)
    queue.up = False

    assert process_import(seeded, import_id) == "running"  # claimed, no part handed out

    queue.up = True
    assert enqueue_stalled_imports(seeded, lost_after=timedelta(0)) == 1  # silent since its claim
    assert queue.sent == [(PROCESS_IMPORT, (import_id,))]
    assert process_import(seeded, import_id) == "running"
    assert run_part_tasks(seeded) == "error"
    assert import_row(seeded, import_id).attempts == 2


# -- parts ending, the last one closing ---------------------------------------------------


def test_the_part_that_ends_last_closes_the_import_and_announces_it_once(seeded, caplog):  # type: ignore[no-untyped-def]
    import_id = uploaded(seeded)
    token = claimed(seeded, import_id)

    with caplog.at_level(logging.INFO, logger="hub.services.imports.run"):
        assert process_import_part(seeded, import_id, 1, token) == "running"
        halfway = import_row(seeded, import_id)
        assert (halfway.status, halfway.finished_parts, halfway.processed_lines) == ("running", [1], 2)
        assert halfway.finished_at is None and set(applied_lines(seeded, import_id)) == {5}
        assert process_import_part(seeded, import_id, 0, token) == "error"

    done = import_row(seeded, import_id)
    assert (done.status, done.updated, done.unchanged, done.failed) == ("error", 5, 0, 1)
    assert (done.finished_parts, done.total_lines, done.message) == ([0, 1], 6, None)
    assert applied_lines(seeded, import_id) == {2: 2, 3: 2, 4: 2, 5: 2, 7: 1}
    with seeded.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ImportFilePiece)) == 0
    summaries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("CSV import")]
    assert len(summaries) == 1 and "finished with errors: 5 updated" in summaries[0]


def test_a_redelivered_part_task_changes_nothing(seeded):  # type: ignore[no-untyped-def]
    import_id = uploaded(seeded)
    token = claimed(seeded, import_id)
    assert process_import_part(seeded, import_id, 0, token) == "running"
    before = applied_lines(seeded, import_id)

    assert process_import_part(seeded, import_id, 0, token) == "running"  # part 0 has ended
    assert applied_lines(seeded, import_id) == before
    assert process_import_part(seeded, import_id, 1, token) == "error"
    assert process_import_part(seeded, import_id, 1, token) == "error"  # the import is finished
    assert process_import_part(seeded, import_id, 0, token) == "error"
    assert applied_lines(seeded, import_id) == {2: 2, 3: 2, 4: 2, 5: 2, 7: 1}


def test_a_second_copy_of_a_running_part_commits_nothing_twice(seeded, monkeypatch):  # type: ignore[no-untyped-def]
    # The broker delivers part 0 again while its first copy runs (a visibility timeout): the
    # copy starts from the committed progress and runs to the end of the part; the first
    # copy's next chunk then finds the part's progress moved and steps aside.
    import_id = uploaded(seeded)
    token = claimed(seeded, import_id)
    real = imports_run._apply_chunk
    copy: list[str] = []
    delivered: list[bool] = []

    def delivered_again(hub, claim, part, after_line, *args):  # type: ignore[no-untyped-def]
        if after_line == 3 and not delivered:  # the first copy's second chunk
            delivered.append(True)
            copy.append(process_import_part(hub, import_id, 0, token, chunk_lines=2))
        return real(hub, claim, part, after_line, *args)

    monkeypatch.setattr(imports_run, "_apply_chunk", delivered_again)
    assert process_import_part(seeded, import_id, 0, token, chunk_lines=2) == "superseded"

    assert copy == ["running"]
    row = import_row(seeded, import_id)
    assert (row.last_lines, row.finished_parts, row.processed_lines) == ([7, 0], [0], 4)
    assert applied_lines(seeded, import_id) == {2: 2, 3: 2, 4: 2, 7: 1}  # each line once


def test_a_part_of_a_run_taken_over_steps_aside_before_applying_anything(seeded):  # type: ignore[no-untyped-def]
    import_id = uploaded(seeded)
    old = claimed(seeded, import_id)
    new = claimed(seeded, import_id)  # the import task delivered again

    assert process_import_part(seeded, import_id, 0, old) == "superseded"
    assert applied_lines(seeded, import_id) == {}
    assert process_import_part(seeded, import_id, 0, new) == "running"
    assert process_import_part(seeded, import_id, 1, old) == "superseded"
    assert process_import_part(seeded, import_id, 1, new) == "error"


# -- failures ---------------------------------------------------------------------------------


def test_a_part_stopped_by_an_error_does_not_stop_the_other_which_closes_the_import_failed(  # type: ignore[no-untyped-def]
    seeded, monkeypatch
):
    import_id = uploaded(seeded)
    token = claimed(seeded, import_id)
    fail_lines(monkeypatch, {5: MalformedBody("The quoted cell that starts on line 5 is never closed")})

    assert process_import_part(seeded, import_id, 1, token) == "running"  # stopped, not closed
    stopped = import_row(seeded, import_id)
    assert (stopped.status, stopped.finished_parts) == ("running", [1])
    assert stopped.message == ("The file could not be processed: The quoted cell that starts on "
                               "line 5 is never closed")
    assert process_import_part(seeded, import_id, 0, token) == "failed"  # it still ran to the end

    done = import_row(seeded, import_id)
    assert (done.status, done.updated, done.processed_lines) == ("failed", 4, 4)
    assert done.message == stopped.message
    assert applied_lines(seeded, import_id) == {2: 2, 3: 2, 4: 2, 7: 1}


def test_of_two_parts_stopped_by_errors_the_first_to_stop_names_the_cause_the_other_is_logged(  # type: ignore[no-untyped-def]
    seeded, monkeypatch, caplog
):
    import_id = uploaded(seeded)
    token = claimed(seeded, import_id)
    fail_lines(monkeypatch, {6: MalformedBody("part 1 broke"), 2: MalformedBody("part 0 broke")})

    with caplog.at_level(logging.ERROR, logger="hub.services.imports.run"):
        assert process_import_part(seeded, import_id, 1, token) == "running"
        assert process_import_part(seeded, import_id, 0, token) == "failed"

    assert import_row(seeded, import_id).message == "The file could not be processed: part 1 broke"
    logged = [r.getMessage() for r in caplog.records if r.name == "hub.services.imports.run"]
    assert len(logged) == 1 and "part 0 broke" in logged[0], logged


def test_a_part_that_crashes_is_resumed_alone_by_the_next_run(seeded, monkeypatch, queue, is_postgres):  # type: ignore[no-untyped-def]
    import_id = uploaded(seeded)
    token = claimed(seeded, import_id)
    fail_lines(monkeypatch, {7: RuntimeError("worker killed")})
    with pytest.raises(RuntimeError):
        process_import_part(seeded, import_id, 0, token, chunk_lines=2)
    assert process_import_part(seeded, import_id, 1, token) == "running"
    crashed = import_row(seeded, import_id)
    assert (crashed.status, crashed.last_lines, crashed.finished_parts) == ("running", [3, 6], [1])

    monkeypatch.undo()
    status = process_import(seeded, import_id, chunk_lines=2)  # the sweeper's redelivery

    if is_postgres:
        assert status == "running"
        assert [args[1] for _, args in queue.sent] == [0]  # only the part that had not ended
        status = run_part_tasks(seeded, chunk_lines=2)
    assert status == "error"
    assert applied_lines(seeded, import_id) == {2: 2, 3: 2, 4: 2, 5: 2, 7: 1}


def test_a_database_hiccup_in_a_part_is_retried_by_the_same_part_task(seeded, monkeypatch):  # type: ignore[no-untyped-def]
    import_id = uploaded(seeded)
    token = claimed(seeded, import_id)
    fail_lines(monkeypatch, {7: ServiceUnavailable("database unavailable")})
    with pytest.raises(ServiceUnavailable):  # Celery retries the task (autoretry_for)
        process_import_part(seeded, import_id, 0, token, chunk_lines=2)
    assert import_row(seeded, import_id).status == "running"

    monkeypatch.undo()
    assert process_import_part(seeded, import_id, 0, token, chunk_lines=2) == "running"
    assert process_import_part(seeded, import_id, 1, token, chunk_lines=2) == "error"
    assert import_row(seeded, import_id).attempts == 1  # the same run all along
