"""Processing an import in the worker: stream the stored file, one transaction per chunk of lines.

The lines are split into parts by customer and the parts are applied side by side, each in a
process of its own on PostgreSQL (``hub.services.imports.parts``). Each chunk commits its
assignments, its failed lines and its part's progress (``last_lines``) together, so a crashed
import resumes after each part's last committed chunk and never applies a line twice. A run
first *claims* the import (a fresh token); a chunk commits only if, holding the import's row
lock, it finds the claim still its own, so when a redelivered task takes over, the older run's
chunk rolls back and its parts stop. An import that is finished is left alone: a redelivery
changes nothing.
"""

from __future__ import annotations

import functools
import gc
import logging
import uuid
from collections.abc import Iterator
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
    IMPORT_ERROR,
    IMPORT_FAILED,
    IMPORT_FINISHED,
    IMPORT_RUNNING,
    IMPORT_SUCCESS,
)
from hub.db.types import utcnow
from hub.errors import HubError
from hub.services.hub import Hub
from hub.services.imports.files import StoredFile, delete_file
from hub.services.imports.lines import ChunkResult, LineContext, WorkflowNames, apply_lines
from hub.services.imports.parts import apply_in_processes, can_fork, part_chunks, part_of_id

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
    mapping: dict[str, str | None]
    context: LineContext


def process_import(hub: Hub, import_id: int, chunk_lines: int = CHUNK_LINES) -> str:
    """Process (or resume) an import; returns its status, or "superseded" when another run
    took it over. Safe to call any number of times."""
    claim = _claim(hub, import_id)
    if claim is None:
        return _status(hub, import_id)
    try:
        with _rare_garbage_collection():
            applied = _apply_file(hub, claim, chunk_lines)
        if not applied:
            return SUPERSEDED
    except HubError as exc:
        if exc.retryable:  # database hiccup: the import stays running; the sweeper resumes it
            raise
        _end(hub, claim, IMPORT_FAILED, f"The file could not be processed: {exc.message}")
        return IMPORT_FAILED
    return _end(hub, claim, None, None)


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
        if row is None or row.status in IMPORT_FINISHED:
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
        uow.commit()
        mapping = {target: row.column_map.get(target) for target in TARGETS}
        return Claim(row.id, row.claim, tuple(row.last_lines), mapping,
                     LineContext(row.id, row.created_at, row.requested_by))


def _apply_file(hub: Hub, claim: Claim, chunk_lines: int) -> bool:
    """Apply every part: side by side in processes on PostgreSQL, in turn on SQLite."""
    parts = len(claim.last_lines)
    if parts > 1 and hub.db.dialect != "sqlite" and can_fork():
        work = functools.partial(_apply_parts, hub, claim, chunk_lines)
        still_ours = apply_in_processes(work, parts, after_fork=hub.db.after_fork)
    else:
        still_ours = _apply_parts(hub, claim, chunk_lines)
    if not still_ours:
        log.info("import %s: taken over by a newer run; this one stops", claim.import_id)
    return still_ours


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
    for part, chunk in part_chunks(reader, claim.last_lines, chunk_lines, only):
        if not _apply_chunk(hub, claim, part, workflows, chunk, reader.bytes_read):
            return False
    return True


def _apply_chunk(
    hub: Hub, claim: Claim, part: int, workflows: WorkflowNames, chunk: list[ImportLine],
    bytes_read: int,
) -> bool:
    """Apply one chunk of one part and commit it with its progress, if the claim is still ours.

    The import's row is locked last, just before the commit, so parts only queue for it
    briefly; checking the claim under that lock orders this commit against a newer claim.
    """
    with hub.uow() as uow:
        result = apply_lines(uow.session, chunk, workflows, claim.context)
        row = uow.session.get(CsvImport, claim.import_id, with_for_update=True,
                              populate_existing=True)
        if row is None or row.claim != claim.token:
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


def _end(hub: Hub, claim: Claim, status: str | None, message: str | None) -> str:
    """Mark the import finished (success, or error when a line failed); then log and notify."""
    with hub.uow() as uow:
        row = uow.session.get(CsvImport, claim.import_id, with_for_update=True)
        if row is None or row.claim != claim.token:
            return SUPERSEDED
        _finish_row(uow.session, row, status or (IMPORT_ERROR if row.failed else IMPORT_SUCCESS),
                    message)
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
