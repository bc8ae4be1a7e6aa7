"""Celery tasks: thin; each takes ids and calls one service function inside the app context."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="hub.ping", acks_late=True)
def ping() -> str:
    """Lets ops (and tests) check that a worker consumes from the broker."""
    return "pong"
