"""CSV assignment imports: upload, history, progress, and the failed lines as errors.csv."""

from __future__ import annotations

from flask import Blueprint, Response, request, stream_with_context

from hub.errors import MalformedBody
from hub.services import imports as svc
from hub.web.context import current_hub, paging, principal, require

bp = Blueprint("imports", __name__)
OPERATIONS = [
    ("post", "/imports", "Upload a CSV (multipart: file, optional mapping JSON target → column); "
     "answers 202 with the queued import", "imports", None),
    ("get", "/imports", "Import history, newest first (paging offset/limit)", "imports", None),
    ("get", "/imports/{id}", "One import: status, progress, counts", "imports", None),
    ("get", "/imports/{id}/errors.csv", "The failed lines with their original columns and an "
     "Error column, ready to fix and import again", "imports", None),
]
# Room for the multipart envelope around a file of exactly the size limit.
MULTIPART_SLACK_BYTES = 64 * 1024


@bp.post("/imports")
@require("admin")
def upload():
    hub = current_hub()
    # Before request.files is touched: this endpoint takes files larger than the API's body limit.
    request.max_content_length = hub.settings.import_max_bytes + MULTIPART_SLACK_BYTES
    upload = request.files.get("file")
    if upload is None:
        raise MalformedBody("send the CSV as the multipart form field 'file'")
    mapping = svc.parse_mapping(request.form.get("mapping"))
    row = svc.create_import(hub, upload.stream, upload.filename, mapping, principal().actor)
    return svc.import_dict(row), 202


@bp.get("/imports")
@require("admin")
def list_imports():
    offset, limit = paging()
    with current_hub().uow() as uow:
        total, rows = svc.list_imports(uow.session, offset, limit)
        return {"offset": offset, "limit": limit, "total": total,
                "imports": [svc.import_dict(r) for r in rows]}


@bp.get("/imports/<int:import_id>")
@require("admin")
def get_import(import_id: int):
    with current_hub().uow() as uow:
        return svc.import_dict(svc.get_import(uow.session, import_id))


@bp.get("/imports/<int:import_id>/errors.csv")
@require("admin")
def errors_csv(import_id: int):
    rows = svc.iter_errors_csv(current_hub(), import_id)  # 404 here, before streaming starts
    return Response(stream_with_context(rows), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=import-{import_id}-errors.csv"})
