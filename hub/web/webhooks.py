"""POST /webhooks/<connection>: hand the raw request to the inbox service and relay its answer."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, request

from connectors.base import WebhookRequest
from hub.context import current_hub
from hub.services.ingest.inbox import ingest
from hub.web.metrics import count_webhook

bp = Blueprint("webhooks", __name__)


@bp.post("/webhooks/<connection>")
def receive(connection: str) -> Response:
    webhook = WebhookRequest(
        body=request.get_data(cache=False),
        headers={k.lower(): v for k, v in request.headers.items()},
        received_at=datetime.now(UTC),
    )
    result = ingest(current_hub(), connection, webhook, request.remote_addr)
    count_webhook(connection, result.outcome)
    reply = result.reply
    response = Response(reply.body, status=reply.status, content_type=reply.content_type)
    response.headers.update(dict(reply.headers))
    return response
