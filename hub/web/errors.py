"""One place that turns errors into JSON answers: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from hub.errors import HubError

# Machines call these; everything else is a person's browser and gets a page, not JSON.
JSON_PREFIXES = ("/api/", "/webhooks/", "/healthz", "/metrics")

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def register(app: Flask) -> None:
    @app.errorhandler(HubError)
    def hub_error(exc: HubError):  # type: ignore[no-untyped-def]
        if exc.http_status >= 500:
            log.warning("%s: %s", exc.code, exc.message, exc_info=exc.__cause__ is not None)
        response = jsonify(exc.to_dict())
        response.status_code = exc.http_status
        if exc.http_status == 503:
            response.headers["Retry-After"] = "30"
        if exc.http_status == 429:
            response.headers["Retry-After"] = str(int(getattr(exc, "retry_after", 5)))
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        message = exc.description or exc.name
        if status == 413:
            message = "the request body is larger than the limit"
        code = HTTP_CODES.get(status, exc.name.lower().replace(" ", "_"))
        if _wants_page():
            page_error = HubError(message, code=code)
            page_error.http_status = status
            return render_template("pages/error.html", error=page_error), status
        body = {"error": {"code": code, "message": message}}
        response = jsonify(body)
        response.status_code = status
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error")
        response = jsonify({"error": {"code": "internal_error", "message": "internal error"}})
        response.status_code = 500
        return response


def _wants_page() -> bool:
    return not request.path.startswith(JSON_PREFIXES) and request.accept_mimetypes.accept_html
