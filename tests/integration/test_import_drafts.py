"""Drafts (the pages' two-step upload) at the service level: the preview reads headers as the
import's reader does, the guesses, the line count at start equals the worker's, progress with
rate and time left, stale drafts removed."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from hub.csvfile.preview import discarded_columns, guess_mapping, read_head
from hub.csvfile.reader import open_csv
from hub.db.models import CsvImport, ImportFilePiece
from hub.db.types import utcnow
from hub.errors import MalformedBody, PayloadTooLarge
from hub.services.imports import drafts
from hub.services.imports.upload import remove_stale_drafts
from hub.services.queries.imports import import_detail, import_history, import_progress
from tests.factories import make_customer, make_user, make_workflow
from tests.import_workers import run_import_tasks


@pytest.fixture
def seeded(hub):  # type: ignore[no-untyped-def]
    make_workflow(hub, "wf_std", "Standard")
    make_user(hub, "ann@example.com")
    for n in range(1, 6):
        make_customer(hub, f"cus_{n}")
    return hub


def draft_of(hub, body: bytes) -> CsvImport:  # type: ignore[no-untyped-def]
    return drafts.create_draft(hub, io.BytesIO(body), "assign.csv", "user:admin@example.com")


@pytest.mark.parametrize("body", [
    b"\xef\xbb\xbfExternal Id,Workflow name\r\ncus_1,Standard\r\n",
    b"\r\n\r\n  External Id , Workflow name,,\r\ncus_1,Standard,,\r\n",
    b"External Id;Workflow;Workflow;\ncus_1;Standard;x;\n",
    b"External Id\t\tWorkflow name\ncus_1\tx\tStandard\n",
    "External Id,Workflow name,Caf\u00e9\r\ncus_1,Standard,cr\u00e8me\r\n".encode("cp1252"),
    "External Id,Workflow name\r\ncus_1,Standard\r\n".encode("utf-16"),
    b'"External\nId",Workflow name\r\n"cus_1",Standard\r\n',
])
def test_the_preview_names_columns_as_the_import_reader_does(body):  # type: ignore[no-untyped-def]
    head = read_head(io.BytesIO(body))
    mapping = {"external_id": head.headers[0], "workflow_name": head.headers[-1] if
               head.headers[-1] != head.headers[0] else None, "account_manager_emails": None}
    reader = open_csv(io.BytesIO(body), mapping)
    assert head.headers == reader.headers
    assert (head.encoding, head.delimiter) == (reader.encoding, reader.delimiter)
    assert [cells[0] for cells in head.rows] == [line.raw[head.headers[0]] for line in reader]


def test_the_preview_keeps_five_lines_each_as_wide_as_the_header():  # type: ignore[no-untyped-def]
    body = b"a,b,c\r\n" + b"\r\n".join(b"%d,x" % n if n % 2 else b"%d,x,y,z" % n for n in range(9))
    head = read_head(io.BytesIO(body + b"\r\n"))
    assert head.rows == [["0", "x", "y"], ["1", "x", ""], ["2", "x", "y"], ["3", "x", ""], ["4", "x", "y"]]


@pytest.mark.parametrize("headers, expected, close", [
    (["External Id", "Account manager email", "Workflow name"],
     ("External Id", "Account manager email", "Workflow name"), set()),
    (["Customer ref", "AM email", "Dunning plan", "Note"], (None, "AM email", "Dunning plan"), set()),
    (["Extrenal Id", "Account manger emails", "Worklfow"],
     ("Extrenal Id", "Account manger emails", "Worklfow"),
     {"external_id", "account_manager_emails", "workflow_name"}),
    # Similar words that are not typos are left for the admin.
    (["Customer ID", "Email", "Workflow id"], (None, None, None), set()),
    # Two headers spelled as one target: the admin chooses.
    (["External Id", "External ref", "Workflow"], (None, None, "Workflow"), set()),
])
def test_the_mapping_is_guessed_from_known_names_then_typos(headers, expected, close):  # type: ignore[no-untyped-def]
    guess = guess_mapping(headers)
    assert tuple(guess.columns.values()) == expected
    assert guess.close_spellings == close


def test_discarded_columns_are_those_no_target_reads():  # type: ignore[no-untyped-def]
    mapping = {"external_id": "Ref", "account_manager_emails": None, "workflow_name": "Plan"}
    assert discarded_columns(["Ref", "Name", "Plan", "Owner"], mapping) == ["Name", "Owner"]


def test_starting_counts_the_lines_the_worker_processes(seeded, queue):  # type: ignore[no-untyped-def]
    body = (b"Ref,Plan,Owner\r\n\r\ncus_1,Standard,ann@example.com\r\n"
            b'cus_2,"Stan\r\ndard",\r\n'  # a quoted cell over two lines: one record
            b",,\r\n"  # only delimiters: skipped, as a blank line
            b"cus_3,Standard,not-an-email\r\ncus_4,Standard\r\ncus_9,Standard,\r\ncus_5,,\r\n")
    row = draft_of(seeded, body)
    assert (row.status, row.total_lines, queue.sent) == ("draft", 0, [])
    started = drafts.start_draft(seeded, row.id, {"external_id": "Ref", "workflow_name": "Plan",
                                                  "account_manager_emails": "Owner"})
    assert (started.status, started.total_lines) == ("queued", 6)
    assert started.mapping == {"external_id": "Ref", "account_manager_emails": "Owner",
                               "workflow_name": "Plan"}
    assert run_import_tasks(seeded, row.id) == "error"
    with seeded.uow() as uow:
        done = uow.session.get(CsvImport, row.id)
        assert (done.total_lines, done.processed_lines) == (6, 6)


def test_a_draft_refused_at_upload_leaves_nothing(seeded):  # type: ignore[no-untyped-def]
    with pytest.raises(MalformedBody, match="header but no lines"):
        draft_of(seeded, b"Ref,Plan\r\n\r\n")
    seeded.settings = seeded.settings.with_overrides({"import_max_bytes": 100})
    with pytest.raises(PayloadTooLarge):
        draft_of(seeded, b"Ref,Plan\r\n" + b"cus_1,Standard\r\n" * 20)
    with seeded.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CsvImport)) == 0
        assert uow.session.scalar(select(func.count()).select_from(ImportFilePiece)) == 0


def test_the_mapping_step_reads_the_stored_file(seeded):  # type: ignore[no-untyped-def]
    row = draft_of(seeded, b"Ref;AM email;Plan\ncus_1;ann@example.com;Standard\n")
    found = drafts.draft_mapping(seeded, row.id)
    assert found.head.headers == ["Ref", "AM email", "Plan"] and found.head.delimiter == ";"
    assert found.head.rows == [["cus_1", "ann@example.com", "Standard"]]
    assert found.guess.columns == {"external_id": None, "account_manager_emails": "AM email",
                                   "workflow_name": None}


def test_a_started_or_discarded_draft_is_no_draft(seeded):  # type: ignore[no-untyped-def]
    row = draft_of(seeded, b"External Id,Workflow\ncus_1,Standard\n")
    mapping = {"external_id": "External Id", "workflow_name": "Workflow"}
    drafts.start_draft(seeded, row.id, mapping)
    with pytest.raises(drafts.AlreadyStarted):
        drafts.start_draft(seeded, row.id, mapping)
    with pytest.raises(drafts.AlreadyStarted):
        drafts.draft_mapping(seeded, row.id)
    with pytest.raises(drafts.AlreadyStarted):
        drafts.discard_draft(seeded, row.id)


def test_stale_drafts_are_removed_and_the_others_kept(seeded):  # type: ignore[no-untyped-def]
    old, fresh = draft_of(seeded, b"Ref,Plan\nc,S\n"), draft_of(seeded, b"Ref,Plan\nc,S\n")
    started = draft_of(seeded, b"External Id,Workflow\ncus_1,Standard\n")
    drafts.start_draft(seeded, started.id, {"external_id": "External Id", "workflow_name": "Workflow"})
    with seeded.uow() as uow:
        uow.session.execute(update(CsvImport).where(CsvImport.id.in_([old.id, started.id]))
                            .values(created_at=utcnow() - timedelta(hours=25)))
        uow.commit()
    assert remove_stale_drafts(seeded) == 1
    with seeded.uow() as uow:
        assert list(uow.session.scalars(select(CsvImport.id).order_by(CsvImport.id))) == [
            fresh.id, started.id]
        pieces = uow.session.scalars(select(ImportFilePiece.import_id).order_by(ImportFilePiece.import_id))
        assert list(pieces) == [fresh.id, started.id]


def test_progress_gives_the_rate_and_the_time_left():  # type: ignore[no-untyped-def]
    now = utcnow()
    running = CsvImport(status="running", processed_lines=2000, total_lines=10_000, bytes_read=0,
                        total_bytes=500_000, started_at=now - timedelta(seconds=4))
    progress = import_progress(running, now)
    assert (progress.done_lines, progress.total_lines, progress.percent) == (2000, 10_000, 20.0)
    assert progress.lines_per_second == 500 and progress.seconds_left == 16
    assert (progress.value, progress.max_value) == (2000, 10_000)


def test_progress_without_a_line_count_estimates_from_the_bytes():  # type: ignore[no-untyped-def]
    now = utcnow()
    from_api = CsvImport(status="running", processed_lines=300, total_lines=0, bytes_read=250,
                         total_bytes=1000, started_at=now - timedelta(seconds=10))
    progress = import_progress(from_api, now)
    assert progress.total_lines is None and progress.percent == 25.0
    assert progress.lines_per_second == 30 and progress.seconds_left == 30
    queued = CsvImport(status="queued", processed_lines=0, total_lines=50, bytes_read=0, total_bytes=1)
    waiting = import_progress(queued, now)
    assert (waiting.percent, waiting.lines_per_second, waiting.seconds_left) == (0.0, None, None)


def test_progress_of_a_finished_import_is_whole(seeded):  # type: ignore[no-untyped-def]
    row = draft_of(seeded, b"External Id,Workflow\ncus_1,Standard\ncus_404,Standard\n")
    drafts.start_draft(seeded, row.id, {"external_id": "External Id", "workflow_name": "Workflow"})
    run_import_tasks(seeded, row.id)
    detail = import_detail(seeded, row.id)
    assert detail.finished and not detail.active and detail.row.status == "error"
    assert (detail.progress.done_lines, detail.progress.total_lines, detail.progress.percent) == (2, 2, 100.0)
    assert [line.line_number for line in detail.errors.items] == [3] and detail.errors.total == 1
    history = import_history(seeded, 0, 10)
    assert history.total == 1 and history.items[0].seconds_taken is not None
