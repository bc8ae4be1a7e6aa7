"""QuickBooks values → hub vocabulary; legacy and CloudEvents webhook bodies → notifications."""

from __future__ import annotations

import re
from typing import Any

from connectors.base import Notification, format_timestamp, parse_timestamp
from hub.domain import payment_methods as pm
from hub.errors import MalformedBody

CREDIT_CARD = "CREDIT_CARD"

# PaymentMethod.Type NON_CREDIT_CARD is classified by its Name: the first keyword found (as
# whole words, case-insensitive) wins, so specific schemes come before generic words.
PAYMENT_METHOD_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("paypal", pm.PAYPAL),
    ("sepa", pm.SEPA_DEBIT),
    ("bacs", pm.BACS_DEBIT),
    ("ach", pm.ACH_DEBIT),
    ("eft", pm.ACH_DEBIT),
    ("echeck", pm.ACH_DEBIT),
    ("electronic check", pm.ACH_DEBIT),
    ("electronic funds transfer", pm.ACH_DEBIT),
    ("direct debit", pm.DIRECT_DEBIT),
    ("wire", pm.BANK_TRANSFER),
    ("bank transfer", pm.BANK_TRANSFER),
    ("bank deposit", pm.BANK_TRANSFER),
    ("transfer", pm.BANK_TRANSFER),
    ("check", pm.CHECK),
    ("cheque", pm.CHECK),
    ("cash app", pm.OTHER),
    ("cash", pm.CASH),
    ("card", pm.CARD),
    ("visa", pm.CARD),
    ("mastercard", pm.CARD),
    ("american express", pm.CARD),
    ("amex", pm.CARD),
    ("discover", pm.CARD),
)

# Legacy operations and CloudEvents verbs → one operation name.
OPERATIONS: dict[str, str] = {
    "create": "create",
    "created": "create",
    "update": "update",
    "updated": "update",
    "delete": "delete",
    "deleted": "delete",
    "merge": "merge",
    "merged": "merge",
}
EVENT_TYPES: dict[str, str] = {
    "create": "customer.created",
    "update": "customer.updated",
    "merge": "customer.updated",
    "delete": "customer.deleted",
}
_CLOUD_EVENT_TYPE = re.compile(r"^qbo\.(?P<entity>[a-z]+)\.(?P<verb>[a-z]+)\.v\d+$")


def payment_method_from(method_type: str | None, name: str | None) -> str:
    """Vocabulary value for a QuickBooks PaymentMethod (Type, Name)."""
    if method_type == CREDIT_CARD:
        return pm.CARD
    lowered = " ".join(re.findall(r"[a-z0-9]+", (name or "").lower()))
    for keyword, value in PAYMENT_METHOD_KEYWORDS:
        if re.search(rf"\b{re.escape(keyword)}\b", lowered):
            return value
    return pm.OTHER


def legacy_notifications(document: dict[str, Any], realm_id: str) -> list[Notification]:
    """One notification per entity of an eventNotifications payload."""
    notifications: list[Notification] = []
    for group in _list(document.get("eventNotifications"), "eventNotifications"):
        realm = str(_dict(group, "eventNotifications[]").get("realmId") or "")
        change = _dict(group.get("dataChangeEvent"), "dataChangeEvent")
        for entity in _list(change.get("entities"), "entities"):
            notifications.append(_legacy_entity(_dict(entity, "entities[]"), realm, realm_id))
    return notifications


def _legacy_entity(entity: dict[str, Any], realm: str, realm_id: str) -> Notification:
    name, entity_id, operation = entity.get("name"), entity.get("id"), entity.get("operation")
    if not (realm and name and entity_id and operation):
        raise MalformedBody("QuickBooks entity needs realmId, name, id and operation")
    occurred, stamp = _time(entity.get("lastUpdated"))
    return Notification(
        vendor_event_id=legacy_event_id(realm, name, entity_id, operation, stamp),
        event_type=f"{name}.{operation}",
        occurred_at=occurred,
        payload={"realmId": realm, **entity},
        handled=name == "Customer" and realm == realm_id,
    )


def legacy_event_id(realm: str, name: str, entity_id: Any, operation: str, stamp: str) -> str:
    return f"{realm}:{name}:{entity_id}:{operation}:{stamp}"


def cloud_notifications(document: list[Any], realm_id: str) -> list[Notification]:
    """One notification per element of a CloudEvents array, routed by its own realm."""
    return [_cloud_event(_dict(item, "CloudEvents element"), realm_id) for item in document]


def _cloud_event(item: dict[str, Any], realm_id: str) -> Notification:
    event_id, event_type = item.get("id"), item.get("type")
    if not (isinstance(event_id, str) and event_id and isinstance(event_type, str)):
        raise MalformedBody("QuickBooks CloudEvent needs an id and a type")
    match = _CLOUD_EVENT_TYPE.match(event_type)
    entity = match["entity"] if match else None
    occurred, _ = _time(item.get("time"))
    realm = str(item.get("intuitaccountid") or "")
    handled = entity == "customer" and realm == realm_id and bool(item.get("intuitentityid"))
    return Notification(event_id, event_type, occurred, item, handled)


def change_of(payload: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(entity id, operation, merged-away id) from either format's stored payload."""
    if "specversion" in payload:
        match = _CLOUD_EVENT_TYPE.match(str(payload.get("type", "")))
        verb = match["verb"] if match else ""
        merged = (payload.get("data") or {}).get("deletedid")
        return _text(payload.get("intuitentityid")), OPERATIONS.get(verb), _text(merged)
    operation = str(payload.get("operation", "")).lower()
    return _text(payload.get("id")), OPERATIONS.get(operation), _text(payload.get("deletedId"))


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _time(value: Any) -> tuple[Any, str]:
    """(datetime or None, canonical UTC string) so webhook and CDC ids for one change agree."""
    if not isinstance(value, str) or not value:
        return None, ""
    try:
        moment = parse_timestamp(value)
    except ValueError:
        return None, value
    return moment, format_timestamp(moment)


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise MalformedBody(f"QuickBooks payload: {what} is not a list")
    return value


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedBody(f"QuickBooks payload: {what} is not an object")
    return value
