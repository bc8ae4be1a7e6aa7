"""Housekeeping: prune inbox rows past their retention (dedupe keys live at least 4 days)."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from sqlalchemy import delete, select
from sqlalchemy.engine import CursorResult

from hub.db.models import InboxEvent, WebhookDelivery
from hub.db.models import inbox as inbox_status
from hub.db.types import utcnow
from hub.services.hub import Hub

MIN_RETENTION_DAYS = 4  # Chargebee retries for 3 days 7 hours


def prune_inbox(hub: Hub) -> int:
    """Delete processed or ignored events older than the retention, and their raw bodies."""
    days = max(hub.settings.inbox_retention_days, MIN_RETENTION_DAYS)
    cutoff = utcnow() - timedelta(days=days)
    done = (inbox_status.PROCESSED, inbox_status.IGNORED)
    with hub.uow() as uow:
        result = uow.session.execute(delete(InboxEvent).where(
            InboxEvent.received_at < cutoff, InboxEvent.status.in_(done)))
        still_used = select(InboxEvent.delivery_id).where(InboxEvent.delivery_id.is_not(None))
        uow.session.execute(delete(WebhookDelivery).where(
            WebhookDelivery.received_at < cutoff, WebhookDelivery.id.not_in(still_used)))
        uow.commit()
    return cast(CursorResult, result).rowcount or 0
