"""Build the Celery app from the Flask app, so every task runs inside the app context."""

from __future__ import annotations

from celery import Celery, Task
from flask import Flask

from hub.broker import celery_settings, ensure_folders


def make_celery(flask_app: Flask) -> Celery:
    hub = flask_app.extensions["hub"]

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            with flask_app.app_context():
                return self.run(*args, **kwargs)

    ensure_folders(hub.settings)
    celery = Celery(flask_app.name, task_cls=FlaskTask)
    celery.conf.update(celery_settings(hub.settings))
    celery.conf.beat_schedule = beat_schedule(hub.settings)
    celery.set_default()
    flask_app.extensions["celery"] = celery
    celery.autodiscover_tasks(["worker"], related_name="tasks", force=True)
    return celery


def beat_schedule(settings) -> dict:  # type: ignore[no-untyped-def]
    """Periodic jobs: the inbox sweeper, due retries, vendor polls and inbox pruning."""
    return {
        "sweep-inbox": {"task": "hub.sweep_inbox", "schedule": float(settings.sweep_seconds)},
        "sweep-imports": {"task": "hub.sweep_imports", "schedule": float(settings.sweep_seconds)},
        "enqueue-due-retries": {"task": "hub.enqueue_due_retries", "schedule": 5.0},
        "poll-salesforce": {"task": "hub.poll_salesforce",
                            "schedule": float(settings.salesforce_poll_seconds)},
        "backfill-quickbooks": {"task": "hub.backfill_quickbooks",
                                "schedule": float(settings.quickbooks_backfill_seconds)},
        "prune-inbox": {"task": "hub.prune_inbox", "schedule": 3600.0},
    }
