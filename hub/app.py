"""Flask application factory: config from defaults, then HUB_* environment, then test overrides.

It builds the web app only (what gunicorn and the worker need); the `hub` command line adds
its commands to it in ``hub.cli``, so the app never imports the CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask

from hub.bootstrap import Hub, build_hub
from hub.config import load_settings
from hub.context import hub_of, install_hub


def create_app(test_config: Mapping[str, Any] | None = None, hub: Hub | None = None) -> Flask:
    settings = hub.settings if hub else load_settings(overrides=test_config)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin set-up is noise at INFO
    app = Flask("hub", static_folder=None)  # the pages blueprint serves /static itself
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # answers keep the order they are built in
    install_hub(app, hub or build_hub(settings))
    # Read (and log) the connections now: a misconfigured one is reported at start-up, loudly,
    # not at its first webhook. Nothing connects here; the others work whatever it says.
    hub_of(app).connections.report()

    from hub.web import register_web

    register_web(app)
    return app
