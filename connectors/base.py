"""The connector contract: request/notification/connection types and the abstract Connector."""

from __future__ import annotations

import json
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, runtime_checkable

from connectors._limits import MAX_EVENT_ID, MAX_EVENT_TYPE, check_identifier, check_payload, check_time
from connectors._schemas import load_schema, validate_event
from hub.domain.sources import Source
from hub.errors import ConfigError, HubError

EVENT_TYPES = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.payment_method.changed",
    "customer.owner.changed",
)

REDACTED = "***"
# Any config key containing one of these is a credential: never shown in repr, logs or errors.
_SECRET_MARKERS = (
    "secret",
    "password",
    "token",
    "api_key",
    "private_key",
    "privatekey",
    "session_id",
    "consumer_key",
)


def is_secret_field(key: str) -> bool:
    """True when a config key holds a credential."""
    lowered = key.lower()
    return any(marker in lowered for marker in _SECRET_MARKERS)


@dataclass(frozen=True)
class WebhookRequest:
    """What the web layer hands a connector: the raw body and lower-cased headers."""

    body: bytes
    headers: Mapping[str, str]
    received_at: datetime

    def header(self, name: str) -> str | None:
        """One header, tolerant of callers that did not lower-case the keys."""
        wanted = name.lower()
        if wanted in self.headers:
            return self.headers[wanted]
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True)
class Notification:
    """One thing to store in the inbox (a body may hold several)."""

    vendor_event_id: str
    event_type: str
    occurred_at: datetime | None
    payload: dict[str, Any]
    handled: bool


@dataclass(frozen=True)
class StoredNotification:
    """The inbox row as the worker sees it when it asks a connector to normalise."""

    inbox_id: int | str
    connection: str
    vendor_event_id: str
    event_type: str
    occurred_at: datetime | None
    payload: dict[str, Any]
    received_at: datetime | None = None


@dataclass(frozen=True, repr=False)
class Connection:
    """A configured connector instance: the URL segment, the connector name and its config."""

    name: str
    connector: str
    config: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Read-only view so a connector cannot change another worker's configuration.
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))

    def redacted_config(self) -> dict[str, Any]:
        return {k: REDACTED if is_secret_field(k) else v for k, v in self.config.items()}

    def __repr__(self) -> str:
        return (
            f"Connection(name={self.name!r}, connector={self.connector!r}, config={self.redacted_config()!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True)
class WebhookReply:
    """The HTTP answer a connector wants the web layer to send back to the vendor."""

    body: bytes
    status: int
    content_type: str
    headers: Mapping[str, str] = field(default_factory=dict)


def json_reply(payload: Any, status: int, headers: Mapping[str, str] | None = None) -> WebhookReply:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return WebhookReply(body, status, "application/json", dict(headers or {}))


class CredentialStore(Protocol):
    """Where rotating credentials live (a vendor replaces them as it goes), shared by every process.

    The configured value only seeds the store: once the vendor has rotated it, the stored value
    wins, until the operator configures a different seed (a new authorisation).
    """

    def current(self, connection: str, name: str, seed: str) -> str:
        """The newest value of this credential."""

    def rotate(self, connection: str, name: str, replaces: str, value: str) -> str:
        """Store ``value`` unless another process already replaced ``replaces``; the value now current."""

    def exchange(self, connection: str, name: str, seed: str, trade: Callable[[str], str]) -> str:
        """Hand the current value to ``trade`` (the vendor's refresh) and store what it returns.

        One exchange at a time across every process: two workers refreshing at once with the
        same token would have the vendor refuse the second, whose token it just replaced.
        """


class MemoryCredentials:
    """A CredentialStore for one process (unit tests, tools without a database)."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, str], tuple[str, str]] = {}  # → (seed, value)
        self._lock = threading.Lock()

    def exchange(self, connection: str, name: str, seed: str, trade: Callable[[str], str]) -> str:
        with self._lock:
            value = self.current(connection, name, seed)
            return self.rotate(connection, name, value, trade(value))

    def current(self, connection: str, name: str, seed: str) -> str:
        stored = self._values.get((connection, name))
        if stored is None or stored[0] != seed:
            self._values[(connection, name)] = (seed, seed)
            return seed
        return stored[1]

    def rotate(self, connection: str, name: str, replaces: str, value: str) -> str:
        seed, current = self._values.get((connection, name), (replaces, replaces))
        if current == replaces:
            self._values[(connection, name)] = (seed, value)
            return value
        return current


@runtime_checkable
class Polled(Protocol):
    """A connector the hub asks for recent changes, as a safety net for dropped webhooks."""

    def poll(self, since: datetime | None = None) -> tuple[list[Notification], datetime]:
        """Changes since the cursor (None: the first poll), and the cursor to keep."""


@runtime_checkable
class Backfilled(Protocol):
    """A connector that can list every change since a time (a change-data-capture query)."""

    def backfill(self, since: datetime) -> list[Notification]:
        """Every change since ``since``."""


class Connector(ABC):
    """Base class of every vendor connector; one instance serves one connection.

    Its class attributes are capabilities the hub reads instead of vendor names; Polled and
    Backfilled say whether it can be polled or backfilled.
    """

    name: ClassVar[str]
    creates_customers: ClassVar[bool] = True  # False for a CRM: it only matches existing customers
    # The source its recipes write as (a recipe may lower it); hub.domain.sources says what it may write.
    default_source: ClassVar[Source] = Source.API
    # PollCursor.kind of a connection's poll / backfill cursor.
    poll_cursor_kind: ClassVar[str] = "poll"
    backfill_cursor_kind: ClassVar[str] = "backfill"

    def __init__(self, connection: Connection) -> None:
        if connection.connector != self.name:
            raise ConfigError(
                f"connection {connection.name!r} is for connector {connection.connector!r}, not {self.name!r}"
            )
        self.connection = connection
        # Replaced by the hub's database-backed store (registry.create_connector(credentials=...)).
        self.credentials: CredentialStore = MemoryCredentials()

    def redact_body(self, body: bytes) -> bytes:
        """The raw body as it may be stored: credentials a vendor puts in its payload blanked."""
        return body

    @property
    def config(self) -> Mapping[str, Any]:
        return self.connection.config

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        """JSON Schema of this connector's config; third-party connectors may override."""
        return load_schema(f"connectors/{cls.name}.schema.json")

    @abstractmethod
    def verify(self, request: WebhookRequest) -> None:
        """Raise SignatureVerificationError unless the request really comes from the vendor."""

    @abstractmethod
    def parse(self, request: WebhookRequest) -> list[Notification]:
        """Split a verified body into notifications; raise MalformedBody when unusable."""

    def read(self, request: WebhookRequest) -> list[Notification]:
        """``parse()``, then the checks every connector inherits (connectors._limits).

        Ids and types must fit the inbox columns, times may not lie in the future, payloads must
        be safe to store (depth, NUL, numbers): each a MalformedBody (400) before the 2xx.
        """
        notifications = self.parse(request)
        for notification in notifications:
            check_identifier(notification.vendor_event_id, self.name, "event id", MAX_EVENT_ID)
            check_identifier(notification.event_type, self.name, "event type", MAX_EVENT_TYPE)
            check_time(notification.occurred_at, self.name, "event time")
            check_payload(notification.payload, self.name)
        return notifications

    @abstractmethod
    def normalise(self, stored: StoredNotification) -> list[dict[str, Any]]:
        """Turn one stored notification into schema-valid events (may call the vendor API)."""

    def customer_ref(self, stored: StoredNotification) -> str | None:
        """The external id ``normalise`` would give the notification's customer, read from the
        stored payload alone (no vendor call, never raising), or None when it does not say.

        When normalising fails (the vendor is down, credentials are wrong) the run log still
        names the customer, so filtering runs by customer shows the failure.
        """
        return None

    def acknowledge(self, notifications: list[Notification]) -> WebhookReply:
        return json_reply({"received": len(notifications)}, 200)

    def refuse(self, error: HubError) -> WebhookReply:
        return json_reply(error.to_dict(), error.http_status)

    def event(
        self,
        stored: StoredNotification,
        event_type: str,
        customer: dict[str, Any],
        changes: list[str],
        index: int = 0,
    ) -> dict[str, Any]:
        """Build one normalised event for this connector and check it against the schema."""
        event = build_event(
            stored,
            connector=self.name,
            event_type=event_type,
            customer=customer,
            changes=changes,
            index=index,
        )
        validate_event(event, self.name)
        return event


def build_event(
    stored: StoredNotification,
    *,
    connector: str,
    event_type: str,
    customer: dict[str, Any],
    changes: list[str],
    index: int = 0,
) -> dict[str, Any]:
    """The normalised event dict (contract: schemas/event.schema.json)."""
    occurred = stored.occurred_at or stored.received_at or datetime.now(UTC)
    return {
        "id": f"{stored.connection}:{stored.vendor_event_id}:{index}",
        "connection": stored.connection,
        "connector": connector,
        "type": event_type,
        "vendor_event_id": stored.vendor_event_id,
        "occurred_at": format_timestamp(occurred),
        "customer": customer,
        "changes": list(dict.fromkeys(changes)),
        "raw_ref": str(stored.inbox_id),
    }


# --- time helpers shared by every vendor -------------------------------------------------

_TIMESTAMP = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})"
    r"(?:\.(?P<fraction>\d+))?"
    r"(?P<zone>[Zz]|[+-]\d{2}:?\d{2})?$"
)


def parse_timestamp(value: str) -> datetime:
    """Parse RFC 3339 as vendors write it (Z, +0000, nanoseconds); naive means UTC."""
    match = _TIMESTAMP.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {value!r}")
    fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
    zone = match["zone"] or "+00:00"
    if zone in ("Z", "z"):
        zone = "+00:00"
    elif ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    parsed = datetime.fromisoformat(f"{match['base'].replace(' ', 'T')}.{fraction}{zone}")
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01T00:00:00+14:00 has no UTC form
        raise ValueError(f"timestamp out of range: {value!r}") from exc


def from_unix(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def from_unix_millis(millis: int) -> datetime:
    # Integer arithmetic: a float division could turn .456 into .455999.
    return datetime.fromtimestamp(millis // 1000, tz=UTC) + timedelta(milliseconds=millis % 1000)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; naive datetimes are taken as UTC (never as local time)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a Z suffix; naive datetimes are taken as UTC."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")
