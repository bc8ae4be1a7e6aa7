"""The import pages: upload a CSV (file picker or drag and drop), map its columns, watch it run,
read the result with its failed lines and download them; the history. Admins only.

The upload is stored as a draft (``hub.services.imports.drafts``) and started from the mapping
step; the API's one-step upload (POST /api/v1/imports) and the CLI are unchanged.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from hub.context import current_hub
from hub.csvfile.columns import TARGETS
from hub.csvfile.preview import TARGET_LABELS, discarded_columns
from hub.errors import HubError, InvalidInput, PayloadTooLarge
from hub.services.imports import drafts
from hub.services.imports import upload as uploads
from hub.services.queries import imports as svc
from hub.web.downloads import csv_download
from hub.web.pages.access import ADMINS, allow, can, viewer
from hub.web.pages.query import integer, read_query, text

bp = Blueprint("imports", __name__)
PAGE_SIZE = 50
# Room for the multipart envelope around a file of exactly the size limit (as the API allows).
UPLOAD_SLACK_BYTES = 64 * 1024
HISTORY_QUERY = {"offset": integer(0, 10_000_000)}
MAPPING_FORM = {**{target: text(300) for target in TARGETS}, "csrf_token": text(200)}
STILL_RUNNING, FINISHED_STOP_POLLING = 200, 286  # htmx stops polling on a 286 answer


@bp.before_app_request
def _room_for_uploads() -> None:
    """An upload may be larger than the hub's request limit (HUB_MAX_REQUEST_BYTES): raise it for
    this one endpoint before anything reads the body, the pages' CSRF check included (it reads the
    form, and runs before this blueprint's own hooks would)."""
    if request.endpoint == "pages.imports.upload":
        request.max_content_length = current_hub().settings.import_max_bytes + UPLOAD_SLACK_BYTES


@bp.errorhandler(RequestEntityTooLarge)
def _upload_too_large(exc: RequestEntityTooLarge) -> Any:
    """A body over even the raised limit is refused while the CSRF check reads it, before the
    view's role check: only an admin is shown the upload form (and the history) again."""
    limit = size_text(current_hub().settings.import_max_bytes)
    refusal = PayloadTooLarge(f"The file is larger than the {limit} limit")
    if not can(*ADMINS):
        return render_template("pages/error.html", error=refusal), refusal.http_status
    return _history(refusal)


@bp.context_processor
def _formatters() -> dict[str, Any]:
    return {"duration": duration_text, "who": actor_text, "size": size_text,
            "labels": TARGET_LABELS, "targets": TARGETS}


@bp.get("/imports")
@allow(*ADMINS)
def history():
    return _history(None, read_query(HISTORY_QUERY)["offset"] or 0)


def _history(refusal: HubError | None, offset: int = 0) -> Any:
    """The history with the upload form on top; a refused upload is told there, with its status."""
    found = svc.import_history(current_hub(), offset, PAGE_SIZE)
    page = render_template("imports/index.html", nav="Imports", history=found,
                           max_bytes=current_hub().settings.import_max_bytes,
                           upload_error=refusal.message if refusal else None)
    return (page, refusal.http_status) if refusal else page


@bp.post("/imports/upload")
@allow(*ADMINS)
def upload():
    chosen = request.files.get("file")
    if chosen is None or not chosen.filename:
        return _history(InvalidInput("Choose a CSV file to upload", code="file_missing"))
    try:
        draft = drafts.create_draft(current_hub(), chosen.stream, chosen.filename, viewer().actor)
    except HubError as exc:
        if exc.http_status >= 500:
            raise
        return _history(exc)
    return redirect(url_for("pages.imports.mapping", import_id=draft.id), 303)


@bp.get("/imports/<int:import_id>/mapping")
@allow(*ADMINS)
def mapping(import_id: int):
    try:
        found = drafts.draft_mapping(current_hub(), import_id)
    except drafts.AlreadyStarted:
        return redirect(url_for("pages.imports.import_page", import_id=import_id), 303)
    return _mapping_page(found, found.guess.columns, None)


def _mapping_page(found: drafts.DraftMapping, chosen: dict[str, Any], refusal: HubError | None) -> Any:
    page = render_template("imports/mapping.html", nav="Imports", found=found, chosen=chosen,
                           discarded=discarded_columns(found.head.headers, chosen),
                           mapping_error=refusal.message if refusal else None)
    return (page, refusal.http_status) if refusal else page


@bp.post("/imports/<int:import_id>/start")
@allow(*ADMINS)
def start(import_id: int):
    chosen = {target: value for target, value in read_query(MAPPING_FORM, request.form).items()
              if target in TARGETS}
    hub = current_hub()
    try:
        drafts.start_draft(hub, import_id, chosen)
    except drafts.AlreadyStarted:
        pass  # a second click: the import the first one started is shown
    except InvalidInput as exc:  # the mapping, or the file read to its end: nothing started
        return _mapping_page(drafts.draft_mapping(hub, import_id), chosen, exc)
    return redirect(url_for("pages.imports.import_page", import_id=import_id), 303)


@bp.post("/imports/<int:import_id>/discard")
@allow(*ADMINS)
def discard(import_id: int):
    drafts.discard_draft(current_hub(), import_id)
    return redirect(url_for("pages.imports.history"), 303)


@bp.get("/imports/<int:import_id>")
@allow(*ADMINS)
def import_page(import_id: int):
    offset = read_query(HISTORY_QUERY)["offset"] or 0
    detail = svc.import_detail(current_hub(), import_id, errors_offset=offset)
    if detail.is_draft:
        return redirect(url_for("pages.imports.mapping", import_id=import_id), 303)
    if request.headers.get("HX-Request"):
        status = STILL_RUNNING if detail.active else FINISHED_STOP_POLLING
        return render_template("imports/_live.html", detail=detail, row=detail.row), status
    return render_template("imports/detail.html", nav="Imports", detail=detail, row=detail.row)


@bp.get("/imports/<int:import_id>/errors.csv")
@allow(*ADMINS)
def errors_csv(import_id: int):
    """The API's errors.csv, built by the same function: the same bytes."""
    hub = current_hub()
    return csv_download(lambda: uploads.errors_file(hub, import_id), f"import-{import_id}-errors.csv")


def size_text(size: int) -> str:
    """'50 MiB', '1 KiB', '900 bytes': as the upload's own refusal words the limit."""
    for unit, name in ((1024 * 1024, "MiB"), (1024, "KiB")):
        if size >= unit:
            return f"{size / unit:g} {name}"
    return f"{size} bytes"


def actor_text(actor: str | None) -> str:
    """Who ran an import, as people say it: 'ann@example.com', 'API key ops-bot', 'CLI (root)'."""
    kind, _, name = (actor or "").partition(":")
    if not name:
        return actor or "—"
    return {"user": name, "key": f"API key {name}", "cli": f"CLI ({name})"}.get(kind, actor or "—")


def duration_text(seconds: float | None) -> str:
    """'—', '0.4 s', '42 s', '3 min 05 s', '2 h 10 min': for durations and time left."""
    if seconds is None:
        return "—"
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"
