"""CSV assignment imports: upload (checked and stored at once), history, errors.csv, the sweeper.

Upload: the file's encoding, header and columns are checked in the request and the bytes are
stored in the database while being read, in one transaction with the import row; a refused file
leaves nothing behind. The import is enqueued after the commit; if the broker is down it stays
`queued` and enqueue_stalled_imports() (run periodically) publishes it later; it also publishes
imports whose parts fell silent, whose next run resumes them. Processing is in
``hub.services.imports.run``.

The pages upload in two steps instead (``hub.services.imports.drafts``): the file is stored as a
`draft`, which nothing processes, until the admin has mapped its columns. The sweeper removes
drafts left unstarted for DRAFT_LIFETIME.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, BinaryIO, cast

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from hub.csvfile.columns import TARGETS
from hub.csvfile.reader import open_csv
from hub.csvfile.report import iter_error_report, spool
from hub.db.models import CsvImport, ImportLineError
from hub.db.models.imports import IMPORT_DRAFT, IMPORT_QUEUED, IMPORT_RUNNING
from hub.db.types import utcnow
from hub.errors import HubError, MalformedBody, ValidationFailed
from hub.queue import PROCESS_IMPORT
from hub.services.hub import Hub
from hub.services.imports.files import FileSink, TeeStream
from hub.services.imports.run import process_import as process_import  # the worker's entry point
from hub.services.pages import Page
from hub.services.uow import get_row

log = logging.getLogger(__name__)

ColumnMapping = dict[str, str | None]
DRAFT_LIFETIME = timedelta(days=1)


def parse_mapping(raw: str | None) -> ColumnMapping | None:
    """The optional `mapping` form field: a JSON object, target → the file's column (or null)."""
    if raw is None or not raw.strip():
        return None
    try:
        mapping = json.loads(raw)
    except ValueError as exc:
        raise MalformedBody("mapping must be a JSON object, e.g. "
                            '{"external_id": "Customer ref"}') from exc
    return check_mapping(mapping)


def check_mapping(mapping: Any) -> ColumnMapping | None:
    if mapping is None:
        return None
    if not isinstance(mapping, dict) or not all(
        isinstance(v, str | None) for v in mapping.values()
    ):
        raise ValidationFailed("mapping must map targets to column names (or null)",
                               details={"targets": list(TARGETS)})
    return {str(k): v for k, v in mapping.items()}


def create_import(
    hub: Hub,
    stream: BinaryIO,
    filename: str | None,
    mapping: ColumnMapping | None,
    requested_by: str | None,
) -> CsvImport:
    """Check the file's head, store the file and create the queued import, all or nothing."""
    with hub.uow() as uow:
        row = CsvImport(status=IMPORT_QUEUED, filename=(filename or "upload.csv")[:300],
                        mapping=mapping, requested_by=requested_by)
        uow.session.add(row)
        uow.session.flush()
        _read_and_store(uow.session, row, stream, hub.settings.import_max_bytes)
        import_id = row.id
        uow.after_commit(lambda: _publish_one(hub, import_id))
        uow.commit()
    log.info("import %s queued: %s (%d bytes) by %s", row.id, row.filename, row.total_bytes,
             requested_by)
    return row


def _read_and_store(session: Session, row: CsvImport, stream: BinaryIO, max_bytes: int) -> None:
    tee = TeeStream(stream, FileSink(session, row.id), max_bytes)
    reader = open_csv(cast(BinaryIO, tee), row.mapping, max_bytes=None)  # the tee enforces the limit
    if next(iter(reader), None) is None:
        raise MalformedBody("The file has a header but no lines to import",
                            details={"reason": "empty_file"})
    row.total_bytes = tee.drain()
    row.headers = reader.headers
    row.column_map = reader.column_map
    row.encoding, row.delimiter = reader.encoding, reader.delimiter


def _publish_one(hub: Hub, import_id: int) -> None:
    publish(hub, [import_id])


def publish(hub: Hub, import_ids: list[int]) -> int:
    """Enqueue processing; stamp enqueued_at on what the broker took (the sweeper does the rest)."""
    sent = [i for i in import_ids if hub.queue.enqueue(PROCESS_IMPORT, i)]
    if sent:
        try:
            with hub.uow() as uow:
                uow.session.execute(
                    update(CsvImport).where(CsvImport.id.in_(sent)).values(enqueued_at=utcnow())
                )
                uow.commit()
        except HubError:  # a second publish is harmless: processing is idempotent
            log.warning("could not stamp enqueued_at on imports %s", sent)
    return len(sent)


def enqueue_stalled_imports(
    hub: Hub, older_than: timedelta | None = None, lost_after: timedelta | None = None
) -> int:
    """The sweeper: publish imports never enqueued (broker down at upload), and imports whose
    message or worker was lost (queued or running, silent for `lost_after`). Call it from beat.
    It also removes the drafts left unstarted for DRAFT_LIFETIME (drafts are never published).
    """
    settings = hub.settings
    older_than = timedelta(seconds=settings.sweep_seconds) if older_than is None else older_than
    lost_after = timedelta(seconds=settings.lost_after_seconds) if lost_after is None else lost_after
    now = utcnow()
    never = (CsvImport.status == IMPORT_QUEUED) & CsvImport.enqueued_at.is_(None) & (
        CsvImport.created_at <= now - older_than)
    lost = CsvImport.status.in_((IMPORT_QUEUED, IMPORT_RUNNING)) & (
        CsvImport.enqueued_at <= now - lost_after) & or_(
        CsvImport.heartbeat_at.is_(None), CsvImport.heartbeat_at <= now - lost_after)
    with hub.uow() as uow:
        ids = list(uow.session.scalars(
            select(CsvImport.id).where(or_(never, lost)).order_by(CsvImport.id).limit(100)))
    published = publish(hub, ids)
    remove_stale_drafts(hub)  # after publishing: a hiccup here must not hold up stalled imports
    return published


def remove_stale_drafts(hub: Hub, older_than: timedelta = DRAFT_LIFETIME) -> int:
    """Delete drafts (and their stored files) uploaded more than `older_than` ago and never
    started: an upload abandoned at the mapping step should not keep its file for ever."""
    with hub.uow() as uow:
        stale = select(CsvImport.id).where(CsvImport.status == IMPORT_DRAFT,
                                           CsvImport.created_at <= utcnow() - older_than)
        ids = list(uow.session.scalars(stale.limit(1000)))
        removed = delete_drafts(uow.session, ids) if ids else 0
        uow.commit()
    if removed:
        log.info("removed %d draft imports older than %s", removed, older_than)
    return removed


def delete_drafts(session: Session, ids: list[int]) -> int:
    """Delete those of `ids` still drafts, with their files (the foreign key cascades). The
    status is checked by the DELETE itself, under its row locks: a draft started meanwhile stays."""
    result = session.execute(delete(CsvImport).where(CsvImport.id.in_(ids),
                                                     CsvImport.status == IMPORT_DRAFT))
    return int(getattr(result, "rowcount", 0) or 0)


# -- reading -------------------------------------------------------------------------------


def get_import(session: Session, import_id: int) -> CsvImport:
    return get_row(session, CsvImport, import_id, what="import", code="import_not_found")


def read_import(hub: Hub, import_id: int) -> CsvImport:
    """The import as it stands now (status, progress, counts), in a read-only transaction."""
    with hub.uow(read_only=True) as uow:
        return get_import(uow.session, import_id)


def list_imports(hub: Hub, offset: int, limit: int) -> Page[CsvImport]:
    with hub.uow(read_only=True) as uow:
        total = uow.session.scalar(select(func.count(CsvImport.id))) or 0
        rows = uow.session.scalars(select(CsvImport).order_by(CsvImport.id.desc())
                                   .offset(offset).limit(limit))
        return Page(offset, limit, total, list(rows))


def errors_file(hub: Hub, import_id: int) -> tuple[BinaryIO, int]:
    """errors.csv, written whole: the failed lines' original cells plus "Error", read in pages in
    one read-only transaction that is over before the first byte is sent; the file, rewound, and
    its size."""
    with hub.uow(read_only=True) as uow:
        headers = list(get_import(uow.session, import_id).headers)
        return spool(iter_error_report(headers, _failed_lines(uow.session, import_id)))


def _failed_lines(session: Session, import_id: int, page: int = 1000) -> Iterator[tuple[dict, str]]:
    after = 0
    while True:
        rows = session.execute(
            select(ImportLineError.line_number, ImportLineError.raw, ImportLineError.error)
            .where(ImportLineError.import_id == import_id, ImportLineError.line_number > after)
            .order_by(ImportLineError.line_number).limit(page)
        ).all()
        yield from ((raw, error) for _, raw, error in rows)
        if len(rows) < page:
            return
        after = rows[-1].line_number
