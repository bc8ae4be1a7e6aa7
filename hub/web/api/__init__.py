"""REST API v1: one blueprint per surface, authenticated with Bearer API keys."""

from __future__ import annotations

from types import ModuleType

from flask import Blueprint, request

from hub.web.context import authenticate_request

PUBLIC_ENDPOINTS = {"api.openapi.openapi_document"}


def surfaces() -> list[ModuleType]:
    """Every API module; each has a blueprint ``bp`` and the ``api`` its routes are declared on."""
    from hub.web.api import (
        connections,
        customers,
        directory,
        events,
        imports,
        keys,
        openapi,
        recipes,
        runs,
    )

    return [customers, directory, events, runs, recipes, imports, connections, keys, openapi]


def build_blueprint() -> Blueprint:
    api = Blueprint("api", __name__)

    @api.before_request
    def _authenticate() -> None:
        if request.endpoint not in PUBLIC_ENDPOINTS:
            authenticate_request()

    for module in surfaces():
        api.register_blueprint(module.bp)
    return api
