"""Web layer: thin Flask blueprints that parse input, call one service and map the result."""

from __future__ import annotations

import gc
import logging
import threading

from flask import Flask

from hub.context import hub_of

log = logging.getLogger(__name__)


def register_web(app: Flask) -> None:
    from hub.web import api, errors, health, metrics, pages, webhooks
    from hub.web.throttle import Slots

    settings = hub_of(app).settings
    app.extensions["export_slots"] = Slots("CSV exports", settings.exports_at_once)
    errors.register(app)
    metrics.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(api.build_blueprint(), url_prefix="/api/v1")
    app.register_blueprint(pages.build_blueprint())


def prepare_server_process(app: Flask) -> threading.Thread:
    """What a web server process does once as it starts (wsgi.py: every gunicorn worker).

    It loads the recipes in the background. The first load checks every recipe file against the
    database (70 ms here), and whichever request came first paid for it, usually a /healthz, in
    every new gunicorn worker.

    It then freezes the start-up heap with ``gc.freeze()``. Everything built to start (SQLAlchemy's
    mappers, the JSON schemas, the recipes) moves out of the cycle collector's reach. Full
    collections used to scan all of it, 60–100 ms each with the GIL held, every few seconds while
    200 clients exported. Those pauses were the slow /healthz answers
    (bench/bench_health_under_exports.py).

    A failure to load is only logged: the first request that needs the recipes tries again."""
    def load_then_freeze() -> None:
        try:
            hub_of(app).recipes.current()
        except Exception:  # the database may not be up yet; nothing depends on this thread
            log.warning("could not load the recipes at start-up; the first request will", exc_info=True)
        gc.freeze()

    thread = threading.Thread(target=load_then_freeze, name="hub-start-up", daemon=True)
    thread.start()
    return thread
