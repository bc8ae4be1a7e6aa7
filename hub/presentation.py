"""What the API and the CLI show alike: times as ISO 8601 with a Z, an import's progress, where
its failed lines are downloaded.

Both edges print these (``hub keys list`` the times, ``hub import`` the progress bar and the
errors.csv address) and neither may import the other (the flow contract in .importlinter), so
they live here, beside both; the API's own shapes are in ``hub.web.presenters``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.db.models import CsvImport
from hub.db.models.imports import IMPORT_FINISHED


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def errors_url(import_id: int) -> str:
    """GET this for the import's failed lines as a CSV to fix and import again."""
    return f"/api/v1/imports/{import_id}/errors.csv"


def import_progress(row: CsvImport) -> dict[str, Any]:
    """Lines and bytes so far. The percent is of bytes, as the line count is known only at the
    end; it stays below 100 until the import has finished."""
    done = row.status in IMPORT_FINISHED
    if done or not row.total_bytes:
        percent = 100.0 if done else 0.0
    else:
        percent = round(min(99.9, 100.0 * row.bytes_read / row.total_bytes), 1)
    return {"processedLines": row.processed_lines, "totalLines": row.total_lines if done else None,
            "bytesRead": row.bytes_read, "totalBytes": row.total_bytes, "percent": percent}
