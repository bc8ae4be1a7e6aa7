"""REST API v1: one blueprint per surface, authenticated with Bearer API keys."""

from __future__ import annotations

from flask import Blueprint, request

from hub.web.api import openapi, surfaces
from hub.web.context import authenticate_request

PUBLIC_ENDPOINTS = {"api.openapi.openapi_document"}


def build_blueprint() -> Blueprint:
    api = Blueprint("api", __name__)

    @api.before_request
    def _authenticate() -> None:
        if request.endpoint not in PUBLIC_ENDPOINTS:
            authenticate_request()

    for module in [*surfaces.resources(), openapi]:
        api.register_blueprint(module.bp)
    return api
