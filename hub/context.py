"""The Hub of the running Flask app: where ``create_app`` keeps it, and how a request, a command
or a task finds it again.

One place for the web, the CLI and the worker, outside ``hub.services`` (which never imports
Flask) and outside ``hub.web`` (which the CLI and the worker do not need).
"""

from __future__ import annotations

from flask import Flask, current_app

from hub.services.hub import Hub

EXTENSION = "hub"


def install_hub(app: Flask, hub: Hub) -> None:
    app.extensions[EXTENSION] = hub


def hub_of(app: Flask) -> Hub:
    """The Hub of ``app``, for code that holds the app itself (start-up, registration)."""
    return app.extensions[EXTENSION]


def current_hub() -> Hub:
    """The Hub of the app whose context is active: in a request, a command or a Celery task."""
    return hub_of(current_app)
