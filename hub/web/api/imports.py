"""CSV assignment imports: upload, history, progress, and the failed lines as errors.csv."""

from __future__ import annotations

from flask import Blueprint, request

from hub.context import current_hub
from hub.errors import MalformedBody
from hub.services.imports import upload as svc
from hub.web.api.declare import BY_ID, Api, Param, Reply, Route, paging
from hub.web.api.shapes import page, ref
from hub.web.context import principal
from hub.web.downloads import csv_download
from hub.web.presenters.base import page_dict
from hub.web.presenters.imports import import_dict

bp = Blueprint("imports", __name__)
api = Api(bp)
IMPORT_ID = Param("id", "integer", "The import id", minimum=1)
UPLOAD_FORM = {"type": "object", "required": ["file"], "properties": {
    "file": {"type": "string", "format": "binary", "description": "the CSV"},
    "mapping": {"type": "string",
                "description": 'JSON object target → column, e.g. {"dunningPlanId": "Plan"}'},
}}
# Room for the multipart envelope around a file of exactly the size limit.
MULTIPART_SLACK_BYTES = 64 * 1024


@api.route(Route("post", "/imports", "Upload a CSV (multipart: file, optional mapping JSON target → column); "
                 "answers 202 with the queued import", "imports", ("admin",),
                 {202: Reply("Queued", ref("Import"), links={
                     "GetImport": ("get_imports_id", BY_ID),
                     "GetImportErrors": ("get_imports_id_errors.csv", BY_ID)})},
                 errors=(413, 415, 422), form=UPLOAD_FORM))
def upload():
    hub = current_hub()
    # Before request.files is touched: this endpoint takes files larger than the API's body limit.
    request.max_content_length = hub.settings.import_max_bytes + MULTIPART_SLACK_BYTES
    upload = request.files.get("file")
    if upload is None:
        raise MalformedBody("send the CSV as the multipart form field 'file'")
    mapping = svc.parse_mapping(request.form.get("mapping"))
    row = svc.create_import(hub, upload.stream, upload.filename, mapping, principal().actor)
    return import_dict(row), 202


@api.route(Route("get", "/imports", "Import history, newest first", "imports", ("admin",),
                 {200: Reply("A page of imports", page("imports", "Import"))}, query=paging()))
def list_imports(query: dict):
    found = svc.list_imports(current_hub(), query["offset"], query["limit"])
    return page_dict("imports", found, import_dict)


@api.route(Route("get", "/imports/{id}", "One import: status, progress, counts", "imports", ("admin",),
                 {200: Reply("The import", ref("Import"))}, path_params=(IMPORT_ID,), errors=(404,)))
def get_import(id: int):
    return import_dict(svc.read_import(current_hub(), id))


@api.route(Route("get", "/imports/{id}/errors.csv", "The failed lines with their original columns and an "
                 "Error column, ready to fix and import again", "imports", ("admin",),
                 {200: Reply("CSV", content_type="text/csv")}, path_params=(IMPORT_ID,), errors=(404, 429)))
def errors_csv(id: int):
    hub = current_hub()
    return csv_download(lambda: svc.errors_file(hub, id), f"import-{id}-errors.csv")
