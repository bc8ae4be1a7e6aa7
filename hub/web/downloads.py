"""CSV downloads (export.csv, errors.csv): built whole in a read-only transaction, then sent.

Building the file before the answer starts means a database error is a 503 and never a 200 cut
off half-way; the Content-Length tells any client whether it got everything; no transaction (and
no SQLite lock) stays open while a slow client downloads. Downloads share the process's bounded
slots (HUB_EXPORTS_AT_ONCE): beyond them the answer is 429 at once, so web threads stay free for
/healthz and the webhooks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from flask import Response, current_app, request
from sqlalchemy.orm import Session
from werkzeug.wsgi import wrap_file

from hub.web.context import current_hub


def csv_download(build: Callable[[Session], tuple[BinaryIO, int]], filename: str) -> Response:
    with current_app.extensions["export_slots"].held(), current_hub().uow(read_only=True) as uow:
        spooled, size = build(uow.session)
    response = Response(wrap_file(request.environ, spooled), mimetype="text/csv", direct_passthrough=True,
                        headers={"Content-Disposition": f"attachment; filename={filename}"})
    response.content_length = size
    return response
