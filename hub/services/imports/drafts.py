"""The pages' two-step upload: the file is stored as a draft, then started once its columns are mapped.

A draft is an import row with its stored file and the status `draft`. Nothing processes it: the
worker only gets what is published, and the sweeper publishes only queued and running imports
(it removes drafts left for a day, ``upload.remove_stale_drafts``). The upload checks what needs
no mapping (encoding, binary data, size, a header, at least one line); start_draft() then checks
the admin's mapping against the whole file, counts its lines, so that the progress can say
"lines done / total" from the first chunk on, and queues it. The worker's own count
(processed_lines, copied into total_lines at the end) is the same number: both count the records
the reader yields.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO, cast

from hub.csvfile.columns import ASSIGNED_TARGETS, EXTERNAL_ID, TARGETS
from hub.csvfile.preview import TARGET_LABELS, FileHead, MappingGuess, guess_mapping, read_head
from hub.csvfile.reader import open_csv
from hub.db.models import CsvImport
from hub.db.models.imports import IMPORT_QUEUED
from hub.errors import Conflict, ValidationFailed
from hub.services.hub import Hub
from hub.services.imports.files import FileSink, StoredFile, TeeStream
from hub.services.imports.upload import (
    IMPORT_DRAFT,
    ColumnMapping,
    delete_drafts,
    get_import,
    publish,
    read_import,
)
from hub.services.uow import get_row

log = logging.getLogger(__name__)


class AlreadyStarted(Conflict):
    """The draft was started (or discarded and gone) meanwhile: a second click, another tab."""

    code = "import_already_started"

    def __init__(self, import_id: int, status: str) -> None:
        super().__init__(f"Import {import_id} is {status}: it has been started already",
                         details={"id": import_id, "status": status})
        self.import_id = import_id


@dataclass(frozen=True)
class DraftMapping:
    """What the mapping step shows: the draft, its header and first lines, the guessed mapping."""

    draft: CsvImport
    head: FileHead
    guess: MappingGuess


def create_draft(hub: Hub, stream: BinaryIO, filename: str | None, requested_by: str | None) -> CsvImport:
    """Check the file's head and store it as a draft, all or nothing; nothing is enqueued."""
    with hub.uow() as uow:
        row = CsvImport(status=IMPORT_DRAFT, filename=(filename or "upload.csv")[:300],
                        requested_by=requested_by)
        uow.session.add(row)
        uow.session.flush()
        tee = TeeStream(stream, FileSink(uow.session, row.id), hub.settings.import_max_bytes)
        head = read_head(cast(BinaryIO, tee))
        row.total_bytes = tee.drain()
        row.headers, row.encoding, row.delimiter = head.headers, head.encoding, head.delimiter
        uow.commit()
    log.info("import %s drafted: %s (%d bytes) by %s", row.id, row.filename, row.total_bytes,
             requested_by)
    return row


def draft_mapping(hub: Hub, import_id: int) -> DraftMapping:
    """The draft with its file's head, read back from the stored file, and the guessed mapping."""
    draft = _draft(hub, import_id)
    head = read_head(cast(BinaryIO, StoredFile(hub.db, import_id)))
    return DraftMapping(draft, head, guess_mapping(head.headers))


def start_draft(hub: Hub, import_id: int, mapping: Mapping[str, str | None]) -> CsvImport:
    """Check `mapping` (target → column, None: not imported) against the whole file, store it
    with the line count, queue the import and enqueue it after the commit.

    A refused mapping, or a file that turns out unreadable further on, raises and leaves the
    draft as it was, for the admin to fix the mapping or discard the file.
    """
    wanted = complete_mapping(mapping)
    _draft(hub, import_id)
    reader = open_csv(cast(BinaryIO, StoredFile(hub.db, import_id)), wanted, max_bytes=None)
    total_lines = sum(1 for _ in reader)  # reads to the end: an unbalanced quote is refused now
    with hub.uow() as uow:
        # Locked: of two clicks on "Start", one starts the import and the other finds it queued.
        row = get_row(uow.session, CsvImport, import_id, lock=True, what="import",
                      code="import_not_found")
        if row.status != IMPORT_DRAFT:
            raise AlreadyStarted(import_id, row.status)
        row.status, row.mapping, row.column_map = IMPORT_QUEUED, dict(wanted), reader.column_map
        row.headers, row.total_lines = reader.headers, total_lines
        uow.after_commit(lambda: publish(hub, [import_id]))
        uow.commit()
    log.info("import %s queued from its draft: %d lines, columns %s", import_id, total_lines,
             row.column_map)
    return row


def complete_mapping(mapping: Mapping[str, str | None]) -> ColumnMapping:
    """Every target named (a blank choice is None: not imported), each column feeding one target,
    the external id and at least one assignment chosen; else ValidationFailed in the page's words.
    Which columns exist is resolve_columns' check, when the file is opened with the mapping."""
    unknown = sorted(set(mapping) - set(TARGETS))
    if unknown:
        raise ValidationFailed(f"Unknown mapping targets: {', '.join(unknown)}",
                               details={"unknown_targets": unknown, "targets": list(TARGETS)})
    wanted = {target: (mapping.get(target) or None) for target in TARGETS}
    if wanted[EXTERNAL_ID] is None:
        raise ValidationFailed(f"Choose the column that holds the {TARGET_LABELS[EXTERNAL_ID]}: "
                               "every line needs one", details={"missing": [EXTERNAL_ID]})
    if not any(wanted[target] for target in ASSIGNED_TARGETS):
        names = " or ".join(TARGET_LABELS[target] for target in ASSIGNED_TARGETS)
        raise ValidationFailed(f"Choose a column for {names} (or both): there is nothing to "
                               "import otherwise", details={"missing_one_of": list(ASSIGNED_TARGETS)})
    _refuse_repeated_columns(wanted)
    return wanted


def _refuse_repeated_columns(wanted: Mapping[str, str | None]) -> None:
    targets_of: dict[str, list[str]] = {}
    for target, column in wanted.items():
        if column:
            targets_of.setdefault(column, []).append(target)
    repeated = {column: targets for column, targets in targets_of.items() if len(targets) > 1}
    if repeated:
        column, targets = next(iter(repeated.items()))
        both = " and ".join(TARGET_LABELS[target] for target in targets)
        raise ValidationFailed(f"The column '{column}' is chosen for both {both}: a column can "
                               "feed one target only", details={"repeated": repeated})


def discard_draft(hub: Hub, import_id: int) -> None:
    """Delete a draft and its stored file; a started import is history and stays."""
    with hub.uow() as uow:
        row = get_import(uow.session, import_id)
        if row.status != IMPORT_DRAFT or not delete_drafts(uow.session, [import_id]):
            raise AlreadyStarted(import_id, row.status)
        uow.commit()
    log.info("import %s: draft discarded", import_id)


def _draft(hub: Hub, import_id: int) -> CsvImport:
    draft = read_import(hub, import_id)
    if draft.status != IMPORT_DRAFT:
        raise AlreadyStarted(import_id, draft.status)
    return draft
