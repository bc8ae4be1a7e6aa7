"""The imports as their pages show them: the history, and one import's progress (lines done of
total, rate, time left) or result (counts and a page of its failed lines).

Rate and time left are computed here from the row's counters and times, not in a template. An
import started from the pages knows its line count from the start (``drafts.start_draft``); one
uploaded through the API or the CLI learns it only at the end, so its time left is estimated from
the bytes read instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from hub.db.models import CsvImport, ImportLineError
from hub.db.models.imports import IMPORT_FINISHED, IMPORT_QUEUED, IMPORT_RUNNING
from hub.db.types import utcnow
from hub.services.hub import Hub
from hub.services.imports.upload import IMPORT_DRAFT, get_import, list_imports
from hub.services.pages import Page

ERRORS_PAGE = 100
IMPORT_ACTIVE = (IMPORT_QUEUED, IMPORT_RUNNING)


@dataclass(frozen=True)
class ImportProgress:
    done_lines: int
    total_lines: int | None  # None: not known before the end (an API or CLI upload)
    percent: float
    lines_per_second: float | None  # None before the first chunk has committed
    seconds_left: float | None  # None while nothing allows an estimate
    seconds_taken: float | None  # from the start to now, or to the end

    @property
    def max_value(self) -> int:
        """The <progress> bar's maximum: lines when known, else per mille of the bytes."""
        return self.total_lines or 1000

    @property
    def value(self) -> float:
        return self.done_lines if self.total_lines else self.percent * 10


@dataclass(frozen=True)
class ImportEntry:
    """One line of the history."""

    row: CsvImport
    seconds_taken: float | None

    @property
    def is_draft(self) -> bool:
        return self.row.status == IMPORT_DRAFT


@dataclass(frozen=True)
class ImportDetail:
    row: CsvImport
    progress: ImportProgress
    errors: Page[ImportLineError]  # the failed lines, by line number (empty until they commit)

    @property
    def active(self) -> bool:
        """Queued or running: the page keeps polling."""
        return self.row.status in IMPORT_ACTIVE

    @property
    def finished(self) -> bool:
        return self.row.status in IMPORT_FINISHED

    @property
    def is_draft(self) -> bool:
        return self.row.status == IMPORT_DRAFT


def import_history(hub: Hub, offset: int, limit: int) -> Page[ImportEntry]:
    """The imports newest first, drafts included (the page offers to continue their mapping)."""
    found = list_imports(hub, offset, limit)
    entries = [ImportEntry(row, _seconds_between(row.started_at, row.finished_at)) for row in found.items]
    return Page(found.offset, found.limit, found.total, entries)


def import_detail(hub: Hub, import_id: int, errors_offset: int = 0, errors_limit: int = ERRORS_PAGE,
                  now: datetime | None = None) -> ImportDetail:
    """One import, its progress as of `now`, and a page of its failed lines, read together."""
    with hub.uow(read_only=True) as uow:
        row = get_import(uow.session, import_id)
        where = ImportLineError.import_id == import_id
        total = uow.session.scalar(select(func.count(ImportLineError.id)).where(where)) or 0
        lines = list(uow.session.scalars(
            select(ImportLineError).where(where).order_by(ImportLineError.line_number)
            .offset(errors_offset).limit(errors_limit)))
    errors = Page(errors_offset, errors_limit, total, lines)
    return ImportDetail(row, import_progress(row, now or utcnow()), errors)


def import_progress(row: CsvImport, now: datetime) -> ImportProgress:
    """Lines done of total, lines per second since the start, and the time left at that rate."""
    finished = row.status in IMPORT_FINISHED
    taken = _seconds_between(row.started_at, row.finished_at if finished else now)
    done = row.processed_lines
    total = row.total_lines or None
    rate = done / taken if taken and done else None
    if finished:
        return ImportProgress(done, total if total is not None else done, 100.0, rate, 0.0, taken)
    if total:
        percent = min(99.9, 100.0 * done / total)
        left = max(0, total - done) / rate if rate else None
    else:  # bytes read tell how far the worker is; they run ahead of the lines by one buffer
        share = row.bytes_read / row.total_bytes if row.total_bytes else 0.0
        percent = min(99.9, 100.0 * share)
        left = taken * (1 - share) / share if taken and share else None
    return ImportProgress(done, total, round(percent, 1), rate, left, taken)


def _seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())
