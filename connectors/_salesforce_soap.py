"""Salesforce Outbound Message SOAP: hardened parsing, the Ack envelope and SOAP faults."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - only for types and ParseError; parsing is defusedxml
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from hub.errors import HubError, MalformedBody

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
MAX_NOTIFICATIONS = 100  # Salesforce never batches more; a bigger body is not from Salesforce
CONTENT_TYPE = "text/xml; charset=utf-8"
MAX_FIELD_DEPTH = 4
# The session Salesforce sends along (and the endpoints it is valid for): a live API credential.
# `[^<>]*` keeps each match attempt short, so the scan stays linear on any body.
_CREDENTIAL_OPENING = re.compile(
    rb"<(?P<tag>(?:[A-Za-z_][\w.-]*:)?(?:SessionId|EnterpriseUrl|PartnerUrl))\b[^<>]*>"
)

# Byte for byte what Salesforce expects; anything else counts as a failed delivery.
ACK_ENVELOPE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">\n'
    b" <soapenv:Body>\n"
    b'  <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">\n'
    b"   <Ack>true</Ack>\n"
    b"  </notificationsResponse>\n"
    b" </soapenv:Body>\n"
    b"</soapenv:Envelope>\n"
)

_FAULT_TEMPLATE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">\n'
    " <soapenv:Body>\n"
    "  <soapenv:Fault>\n"
    "   <faultcode>soapenv:{code}</faultcode>\n"
    "   <faultstring>{message}</faultstring>\n"
    "  </soapenv:Fault>\n"
    " </soapenv:Body>\n"
    "</soapenv:Envelope>\n"
)


@dataclass(frozen=True)
class OutboundNotification:
    notification_id: str
    sobject_type: str
    record: dict[str, Any]  # shaped like a REST query record: {"attributes": {"type"}, fields}


@dataclass(frozen=True)
class Envelope:
    organization_id: str | None
    container: ET.Element  # soapenv:Body/notifications


@dataclass(frozen=True)
class OutboundMessage:
    organization_id: str | None
    action_id: str | None
    notifications: list[OutboundNotification]


def read_envelope(body: bytes) -> Envelope:
    """Parse the envelope and read the OrganizationId, without walking the records yet.

    The org is checked on this alone: a foreign or hostile body is refused before any of its
    records is looked at. DTDs, entities and anything not SOAP are MalformedBody.
    """
    try:
        root = fromstring(body, forbid_dtd=True)
    except (DefusedXmlException, ET.ParseError) as exc:
        raise MalformedBody(f"Salesforce body refused: {type(exc).__name__}") from exc
    container = root.find(f"{{{SOAP_ENV}}}Body/{{{OUTBOUND}}}notifications")
    if root.tag != f"{{{SOAP_ENV}}}Envelope" or container is None:
        raise MalformedBody("not a Salesforce outbound message (no soapenv:Body/notifications)")
    return Envelope(_text(container, "OrganizationId"), container)


def read_outbound_message(body: bytes) -> OutboundMessage:
    """The whole message: the envelope, then every notification's record."""
    envelope = read_envelope(body)
    container = envelope.container
    items = container.findall(f"{{{OUTBOUND}}}Notification")
    if len(items) > MAX_NOTIFICATIONS:
        raise MalformedBody(f"outbound message holds {len(items)} notifications (max 100)")
    return OutboundMessage(
        organization_id=envelope.organization_id,
        action_id=_text(container, "ActionId"),
        notifications=[_notification(item) for item in items],
    )


def blank_credentials(body: bytes) -> bytes:
    """The body with SessionId, EnterpriseUrl and PartnerUrl emptied (a live API session).

    Works on the raw bytes, so what is stored is the delivery as received minus the secret.
    Linear in the body: each closing tag is searched for once, and a tag that is never closed
    stops the search for that name (no later one can be closed either).
    """
    pieces: list[bytes] = []
    kept_until = 0
    unclosed: set[bytes] = set()
    for opening in _CREDENTIAL_OPENING.finditer(body):
        tag = opening["tag"]
        if opening.start() < kept_until or opening.group().endswith(b"/>") or tag in unclosed:
            continue
        closing = body.find(b"</" + tag, opening.end())
        if closing < 0:
            unclosed.add(tag)
            continue
        pieces += [body[kept_until:opening.end()]]
        kept_until = closing
    return b"".join(pieces) + body[kept_until:] if pieces else body


def fault_envelope(error: HubError) -> bytes:
    """A SOAP fault: Salesforce keeps the message and retries it later (any answer but Ack)."""
    code = "Server" if error.retryable else "Client"
    return _FAULT_TEMPLATE.format(code=code, message=escape(error.message)).encode()


def _notification(item: ET.Element) -> OutboundNotification:
    notification_id = _text(item, "Id")
    sobject = item.find(f"{{{OUTBOUND}}}sObject")
    if not notification_id or sobject is None:
        raise MalformedBody("Salesforce Notification needs an Id and an sObject")
    sobject_type = (sobject.get(f"{{{XSI}}}type") or "").rpartition(":")[2] or "Unknown"
    record: dict[str, Any] = {"attributes": {"type": sobject_type}}
    record.update(_fields(sobject))
    if not record.get("Id"):
        raise MalformedBody("Salesforce sObject has no Id")
    return OutboundNotification(notification_id, sobject_type, record)


def _fields(element: ET.Element) -> dict[str, Any]:
    """Child elements by local name (namespaces differ between enterprise and partner WSDLs).

    Iterative and bounded: sObject fields nest a level or two (compound fields), never more.
    """
    fields: dict[str, Any] = {}
    pending: list[tuple[ET.Element, dict[str, Any], int]] = [(element, fields, 1)]
    while pending:
        parent, into, depth = pending.pop()
        for child in parent:
            name = child.tag.rpartition("}")[2]
            if child.get(f"{{{XSI}}}nil") == "true":
                into[name] = None
            elif len(child):
                if depth >= MAX_FIELD_DEPTH:
                    raise MalformedBody(f"Salesforce sObject nests deeper than {MAX_FIELD_DEPTH} levels")
                into[name] = {}
                pending.append((child, into[name], depth + 1))
            else:
                into[name] = (child.text or "").strip()
    return fields


def _text(parent: ET.Element, name: str) -> str | None:
    child = parent.find(f"{{{OUTBOUND}}}{name}")
    if child is None or child.get(f"{{{XSI}}}nil") == "true":
        return None
    return (child.text or "").strip() or None
