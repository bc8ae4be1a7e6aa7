"""Flask application factory: config from defaults, then HUB_* environment, then test overrides."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from hub.bootstrap import Hub, build_hub
from hub.config import load_settings


def create_app(test_config: Mapping[str, Any] | None = None, hub: Hub | None = None) -> Flask:
    settings = hub.settings if hub else load_settings(overrides=test_config)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin set-up is noise at INFO
    app = Flask("hub")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # answers keep the order they are built in
    app.extensions["hub"] = hub or build_hub(settings)
    # Read (and log) the connections now: a misconfigured one is reported at start-up, loudly,
    # not at its first webhook. Nothing connects here; the others work whatever it says.
    app.extensions["hub"].connections.report()

    from hub.cli import register_commands
    from hub.web import register_web

    register_web(app)
    register_commands(app)
    return app
