"""Processing an import in the worker: stream the stored file, one transaction per chunk of lines.

The lines are split into parts by customer (``hub.services.imports.parts``). The import task
first *claims* the import (a fresh token). On PostgreSQL it then hands each unfinished part to a
part task of its own, so the parts run side by side on whichever workers are free, on one
machine or several; on SQLite (one writer at a time) it applies the parts in turn itself.

Each chunk commits its assignments, its failed lines and its part's progress (``last_lines``)
together, so a crashed part resumes after its last committed chunk and never applies a line
twice. A chunk commits only if, holding the import's row lock, it finds the claim still its
run's and its part's progress where it left it: when a redelivered import task takes over, the
older run's chunks roll back and its parts stop, and a second copy of one part task (a
redelivery) steps aside the same way. A part that has ended records itself in
``finished_parts``, in one transaction with the closing when it is the last: the import's status,
counts and message, then the summary announced. A part stopped by an error in the file does not
stop the others; the first such error is the import's message. A finished import is left alone:
a redelivery changes nothing.
"""

from __future__ import annotations

import gc
import logging
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, cast

import requests
from sqlalchemy import Table
from sqlalchemy.orm import Session

from hub.csvfile.columns import TARGETS
from hub.csvfile.reader import ImportLine, open_csv
from hub.db import bulk
from hub.db.models import CsvImport, ImportLineError
from hub.db.models.imports import (
    IMPORT_DRAFT,
    IMPORT_ERROR,
    IMPORT_FAILED,
    IMPORT_FINISHED,
    IMPORT_RUNNING,
    IMPORT_SUCCESS,
)
from hub.db.types import utcnow
from hub.errors import HubError
from hub.queue import PROCESS_IMPORT_PART
from hub.services.hub import Hub
from hub.services.imports.files import StoredFile, delete_file
from hub.services.imports.lines import ChunkResult, LineContext, WorkflowNames, apply_lines
from hub.services.imports.parts import part_chunks, part_of_id

log = logging.getLogger(__name__)

CHUNK_LINES = 1000
MAX_ATTEMPTS = 5  # runs that may start an import before it is given up as failed
NOTIFY_TIMEOUT_SECONDS = 5
SUPERSEDED = "superseded"


@dataclass(frozen=True)
class Claim:
    """What one run knows about the import it processes."""

    import_id: int
    token: str
    last_lines: tuple[int, ...]  # per part: the last line already committed
    finished_parts: frozenset[int]
    mapping: dict[str, str | None]
    context: LineContext

    @property
    def parts_left(self) -> list[int]:
        return [part for part in range(len(self.last_lines)) if part not in self.finished_parts]


def process_import(hub: Hub, import_id: int, chunk_lines: int = CHUNK_LINES) -> str:
    """Claim (or resume) an import and process it; safe to call any number of times.

    On PostgreSQL an import split into parts hands each part left to a part task and answers
    "running"; otherwise its parts are applied here, in turn, and the answer is the import's
    status (or "superseded" when a newer run took it over meanwhile).
    """
    claim = _claim(hub, import_id)
    if claim is None:
        return _status(hub, import_id)
    if hub.db.dialect == "sqlite" or len(claim.last_lines) == 1:
        return _apply_and_finish(hub, claim, claim.parts_left, chunk_lines, only=None)
    return _hand_out(hub, claim, claim.parts_left)


def process_import_part(
    hub: Hub, import_id: int, part: int, token: str, chunk_lines: int = CHUNK_LINES
) -> str:
    """Apply one part of the import claimed as `token`, reading the stored file itself, and
    record the part as ended; safe to call any number of times.

    The call that ends the last part closes the import and answers its status; the others
    answer "running", and a part whose run was taken over answers "superseded".
    """
    claim = _claimed(hub, import_id, token)
    if claim is None:
        status = _status(hub, import_id)
        return status if status in IMPORT_FINISHED else SUPERSEDED
    if part in claim.finished_parts:
        return IMPORT_RUNNING  # a redelivery of a part that has ended: nothing left to do
    status = _apply_and_finish(hub, claim, [part], chunk_lines, only=part)
    log.info("import %s: part %s of %s ended in process %s: %s", import_id, part,
             len(claim.last_lines), os.getpid(), status)
    return status


def _apply_and_finish(
    hub: Hub, claim: Claim, parts: list[int], chunk_lines: int, only: int | None
) -> str:
    """Apply `only` that part (or every part), then record `parts` as ended: also when an error
    in the file stopped them, which the import then reports; a database hiccup is raised for
    the task to retry."""
    try:
        with _rare_garbage_collection():
            if not _apply_parts(hub, claim, chunk_lines, only):
                log.info("import %s: taken over by a newer run (or another copy of the part); "
                         "this one stops", claim.import_id)
                return SUPERSEDED
    except HubError as exc:
        if exc.retryable:  # database hiccup: a retry of the task (or the sweeper) resumes it
            raise
        return _finish_parts(hub, claim, parts, f"The file could not be processed: {exc.message}")
    return _finish_parts(hub, claim, parts, None)


@contextmanager
def _rare_garbage_collection() -> Iterator[None]:
    """Let the collector run every 50,000 allocations instead of every 700 while lines flow.

    A chunk allocates tens of thousands of short-lived containers (lines, rows, outcomes); with
    CPython's default thresholds that triggers older-generation collections which walk the
    whole worker heap (SQLAlchemy, Celery, the recipes) many times per chunk: measured, half of
    the import's Python time. The objects die with their chunk, so collecting rarely keeps
    memory as flat. The thresholds are restored afterwards.
    """
    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _claim(hub: Hub, import_id: int) -> Claim | None:
    with hub.uow() as uow:
        row = uow.session.get(CsvImport, import_id, with_for_update=True)
        if row is None or row.status in IMPORT_FINISHED or row.status == IMPORT_DRAFT:
            return None
        row.attempts += 1
        now = utcnow()
        if row.attempts > MAX_ATTEMPTS:
            _finish_row(uow.session, row, IMPORT_FAILED,
                        f"Gave up after {MAX_ATTEMPTS} attempts; {row.processed_lines} lines "
                        "were processed")
            summary = _summary(row)
            uow.after_commit(lambda: announce(hub, summary))
            uow.commit()
            return None
        row.status, row.claim, row.heartbeat_at = IMPORT_RUNNING, str(uuid.uuid4()), now
        row.started_at = row.started_at or now
        if not row.last_lines:  # the split is fixed once: a resumed run must split alike
            row.last_lines = [0] * max(1, hub.settings.import_parallelism)
            row.finished_parts = []
        uow.commit()
        return _claim_of(row)


def _claimed(hub: Hub, import_id: int, token: str) -> Claim | None:
    """The run `token` as it stands, if the import is still running as that run's."""
    with hub.uow(read_only=True) as uow:
        row = uow.session.get(CsvImport, import_id)
        if row is None or row.claim != token or row.status != IMPORT_RUNNING:
            return None
        return _claim_of(row)


def _claim_of(row: CsvImport) -> Claim:
    mapping = {target: row.column_map.get(target) for target in TARGETS}
    return Claim(row.id, cast(str, row.claim), tuple(row.last_lines), frozenset(row.finished_parts),
                 mapping, LineContext(row.id, row.created_at, row.requested_by))


def _hand_out(hub: Hub, claim: Claim, parts: Sequence[int]) -> str:
    """One part task per part left (the claim is committed): each runs wherever a worker is
    free. A part the broker refused is handed out again once the import has been silent for
    HUB_LOST_AFTER_SECONDS: the sweeper publishes the import, whose next run claims it."""
    if not parts:
        return _finish_parts(hub, claim, [], None)
    for part in parts:
        if not hub.queue.enqueue(PROCESS_IMPORT_PART, claim.import_id, part, claim.token):
            log.warning("import %s: part %s not handed out; the sweeper resumes it",
                        claim.import_id, part)
    return IMPORT_RUNNING


def _apply_parts(hub: Hub, claim: Claim, chunk_lines: int, only: int | None = None) -> bool:
    """Stream the stored file from the start and apply one part's lines (`only`) or every
    part's in turn, skipping lines committed by an earlier run; False once superseded."""
    stream = cast(BinaryIO, StoredFile(hub.db, claim.import_id))
    reader = open_csv(stream, claim.mapping, max_bytes=None)
    if only is not None:
        parts = len(claim.last_lines)
        reader.where_external_id(lambda external_id: part_of_id(external_id, parts) == only)
    with hub.uow() as uow:
        workflows = WorkflowNames.load(uow.session)
    progress = list(claim.last_lines)
    for part, chunk in part_chunks(reader, claim.last_lines, chunk_lines, only):
        if not _apply_chunk(hub, claim, part, progress[part], workflows, chunk, reader.bytes_read):
            return False
        progress[part] = chunk[-1].line_number
    return True


def _apply_chunk(
    hub: Hub, claim: Claim, part: int, after_line: int, workflows: WorkflowNames,
    chunk: list[ImportLine], bytes_read: int,
) -> bool:
    """Apply one chunk of one part and commit it with its progress, if the claim is still ours
    and the part's progress is where this run left it (`after_line`).

    The import's row is locked last, just before the commit, so parts only queue for it
    briefly; checking under that lock orders this commit against a newer claim, and against a
    second copy of this part's task committing the same lines.
    """
    with hub.uow() as uow:
        result = apply_lines(uow.session, chunk, workflows, claim.context)
        row = uow.session.get(CsvImport, claim.import_id, with_for_update=True,
                              populate_existing=True)
        if (row is None or row.claim != claim.token or row.status != IMPORT_RUNNING
                or row.last_lines[part] != after_line):
            return False  # leaving the block rolls the chunk back
        _store_failures(uow.session, claim.import_id, result)  # its lines are ours alone now
        row.processed_lines += len(chunk)
        last_lines = list(row.last_lines)
        last_lines[part] = chunk[-1].line_number
        row.last_lines = last_lines
        row.updated += result.updated
        row.unchanged += result.unchanged
        row.failed += len(result.failures)
        row.bytes_read, row.heartbeat_at = max(row.bytes_read, bytes_read), utcnow()
        uow.commit()
    return True


def _store_failures(session: Session, import_id: int, result: ChunkResult) -> None:
    rows = [{"import_id": import_id, "line_number": line.line_number, "raw": line.raw,
             "error": message} for line, message in result.failures]
    bulk.insert_rows(session, cast(Table, ImportLineError.__table__), rows)


def _finish_parts(hub: Hub, claim: Claim, parts: list[int], error: str | None) -> str:
    """Record `parts` as ended, stopped by `error` if given; the call that ends the last part
    closes the import (failed with the first error, else error or success by its lines), in
    the same transaction, then logs and notifies."""
    with hub.uow() as uow:
        row = uow.session.get(CsvImport, claim.import_id, with_for_update=True,
                              populate_existing=True)
        if row is None or row.claim != claim.token or row.status != IMPORT_RUNNING:
            return SUPERSEDED
        row.finished_parts = sorted({*row.finished_parts, *parts})
        if error is not None and row.message is None:
            row.message = error
        elif error is not None:
            log.error("import %s: part %s failed as well: %s", claim.import_id, parts, error)
        if len(row.finished_parts) < len(row.last_lines):
            row.heartbeat_at = utcnow()
            uow.commit()
            return IMPORT_RUNNING
        status = (IMPORT_FAILED if row.message is not None
                  else IMPORT_ERROR if row.failed else IMPORT_SUCCESS)
        _finish_row(uow.session, row, status, row.message)
        summary = _summary(row)
        uow.after_commit(lambda: announce(hub, summary))
        uow.commit()
        return row.status


def _finish_row(session: Session, row: CsvImport, status: str, message: str | None) -> None:
    row.status, row.message, row.finished_at = status, message, utcnow()
    row.total_lines = row.processed_lines
    if status != IMPORT_FAILED:
        row.bytes_read = row.total_bytes
    delete_file(session, row.id)


def _status(hub: Hub, import_id: int) -> str:
    with hub.uow() as uow:
        row = uow.session.get(CsvImport, import_id)
        return row.status if row else "missing"


# -- telling people ------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    import_id: int
    filename: str | None
    status: str
    updated: int
    unchanged: int
    failed: int
    message: str | None
    seconds: float | None

    def text(self) -> str:
        outcome = {IMPORT_SUCCESS: "succeeded", IMPORT_ERROR: "finished with errors"}.get(
            self.status, "failed")
        text = (f"CSV import {self.import_id} ({self.filename}) {outcome}: {self.updated} updated, "
                f"{self.unchanged} unchanged, {self.failed} failed.")
        if self.failed:
            text += f" Lines with errors: /api/v1/imports/{self.import_id}/errors.csv"
        return text + (f" {self.message}" if self.message else "")


def _summary(row: CsvImport) -> Summary:
    started: datetime | None = row.started_at
    seconds = (row.finished_at - started).total_seconds() if started and row.finished_at else None
    return Summary(row.id, row.filename, row.status, row.updated, row.unchanged, row.failed,
                   row.message, seconds)


def announce(hub: Hub, summary: Summary) -> None:
    """A log line, and the summary POSTed to HUB_NOTIFY_URL (Slack-compatible) when set.

    A notification that cannot be delivered is logged; it never fails the import.
    """
    took = f" in {summary.seconds:.1f}s" if summary.seconds is not None else ""
    log.info("%s%s", summary.text(), took)
    url = hub.settings.notify_url
    if not url:
        return
    try:
        response = requests.post(url, json={"text": summary.text()}, timeout=NOTIFY_TIMEOUT_SECONDS)
        response.raise_for_status()
    except requests.RequestException as exc:
        log.warning("could not notify about import %s: %s", summary.import_id, exc)
