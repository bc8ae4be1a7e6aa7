"""Assignment fields as the API names them (dunningPlanId, customFields.x) and as the hub does.

A contract: request bodies are read with ``internal_field_name`` and every answer and history
row is written with ``api_field_name``, so the two directions cannot drift apart.
"""

from __future__ import annotations

from hub.services.assignment import ACCOUNT_MANAGERS, CUSTOM_PREFIX, WORKFLOW

API_CUSTOM_PREFIX = "customFields."
API_FIELD = {WORKFLOW: "dunningPlanId", ACCOUNT_MANAGERS: "accountManagers"}
INTERNAL_FIELD = {api: internal for internal, api in API_FIELD.items()}


def api_field_name(field: str) -> str:
    if field.startswith(CUSTOM_PREFIX):
        return API_CUSTOM_PREFIX + field[len(CUSTOM_PREFIX):]
    return API_FIELD.get(field, field)


def internal_field_name(api_name: str) -> str:
    if api_name in INTERNAL_FIELD:
        return INTERNAL_FIELD[api_name]
    return CUSTOM_PREFIX + api_name[len(API_CUSTOM_PREFIX):]
