"""Web layer: thin Flask blueprints that parse input, call one service and map the result."""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from hub.web import api, errors, health, metrics, webhooks
    from hub.web.throttle import Slots

    settings = app.extensions["hub"].settings
    app.extensions["export_slots"] = Slots("CSV exports", settings.exports_at_once)
    errors.register(app)
    metrics.register(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(api.build_blueprint(), url_prefix="/api/v1")
