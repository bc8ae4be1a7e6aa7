"""CSV imports: status, progress, counts, and where the failed lines can be downloaded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.presentation import errors_url, import_progress, iso

if TYPE_CHECKING:
    from hub.db.models import CsvImport


def import_dict(row: CsvImport) -> dict[str, Any]:
    return {
        "id": row.id, "status": row.status, "filename": row.filename, "mapping": row.mapping,
        "columns": row.column_map, "headers": row.headers, "encoding": row.encoding,
        "delimiter": row.delimiter, "progress": import_progress(row),
        "counts": {"updated": row.updated, "unchanged": row.unchanged, "failed": row.failed},
        "attempts": row.attempts, "message": row.message, "requestedBy": row.requested_by,
        "createdAt": iso(row.created_at), "startedAt": iso(row.started_at),
        "finishedAt": iso(row.finished_at),
        "errorsUrl": errors_url(row.id) if row.failed else None,
    }
