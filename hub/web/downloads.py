"""CSV downloads (export.csv, errors.csv): the service builds the file whole, then it is sent.

The service writes the file in a read-only transaction that is over before the answer starts: a
database error is a 503 and never a 200 cut off half-way; the Content-Length tells any client
whether it got everything; no transaction (and no SQLite lock) stays open while a slow client
downloads. Downloads share the process's bounded slots (HUB_EXPORTS_AT_ONCE): beyond them the
answer is 429 at once, so web threads stay free for /healthz and the webhooks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from flask import Response, current_app, request
from werkzeug.wsgi import wrap_file


def csv_download(build: Callable[[], tuple[BinaryIO, int]], filename: str) -> Response:
    """``build`` returns the file, rewound, and its size (e.g. ``lambda: export_file(hub, flt)``)."""
    with current_app.extensions["export_slots"].held():
        spooled, size = build()
    response = Response(wrap_file(request.environ, spooled), mimetype="text/csv", direct_passthrough=True,
                        headers={"Content-Disposition": f"attachment; filename={filename}"})
    response.content_length = size
    return response
