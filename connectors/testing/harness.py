"""What the standard suite needs to drive one connector: its config, how its vendor signs, how to
forge a request, and where its recorded payloads keep ids and times (to build hostile ones)."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from connectors import registry
from connectors.base import Connection, Connector, Notification, StoredNotification, WebhookRequest

FORGERY_CASES = ("tampered_body", "wrong_secret", "missing_credentials", "stale_timestamp")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Where a harness's with_raw() puts a raw JSON member (replaced after encoding).
_RAW_KEY = "__raw_member__"
_RAW_MEMBER = b'"__raw_member__":0'


def webhook(body: bytes, headers: dict[str, str] | None = None) -> WebhookRequest:
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    return WebhookRequest(body=body, headers=lowered, received_at=datetime.now(UTC))


def rfc3339(moment: datetime) -> str:
    """A moment as vendors write it: milliseconds, its own offset, Z for UTC."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def unix_seconds(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(seconds=1)  # exact integers, even for year 1 or 9999


def unix_millis(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


def stored(notification: Notification, connection: str, inbox_id: int = 1) -> StoredNotification:
    """Round-trip the payload through JSON, as the inbox does."""
    return StoredNotification(
        inbox_id=inbox_id,
        connection=connection,
        vendor_event_id=notification.vendor_event_id,
        event_type=notification.event_type,
        occurred_at=notification.occurred_at,
        payload=json.loads(json.dumps(notification.payload)),
        received_at=datetime.now(UTC),
    )


def normalise_all(connector: Connector, request: WebhookRequest) -> list[dict[str, Any]]:
    """verify → parse → normalise every handled notification, as web + worker would."""
    connector.verify(request)
    events: list[dict[str, Any]] = []
    for inbox_id, note in enumerate(connector.parse(request), start=1):
        if note.handled:
            events.extend(connector.normalise(stored(note, connector.connection.name, inbox_id)))
    return events


class Harness:
    """Subclass once per connector: set ``name``, ``config`` and ``fixtures_dir``, implement
    ``sign`` and ``wrong_connection``, and the hostile-payload kit below."""

    name: ClassVar[str] = ""
    fixtures_dir: ClassVar[Path]  # recorded vendor bodies, one request per file
    suffix: ClassVar[str] = ".json"
    config: ClassVar[dict[str, Any]] = {}
    # Forgery or hostile case → why it cannot apply to this vendor (the test is skipped, saying so).
    not_applicable: ClassVar[dict[str, str]] = {}

    def connection(self, name: str | None = None, **overrides: Any) -> Connection:
        config = {k: v for k, v in {**self.config, **overrides}.items() if v is not None}
        return Connection(name or self.name, self.name, config)

    def connector(self, **overrides: Any) -> Any:
        """Built through the registry, as the hub builds it (an entry point's plugin included)."""
        return registry.create_connector(self.connection(**overrides))

    def fixture_paths(self) -> list[Path]:
        return sorted(self.fixtures_dir.glob(f"*{self.suffix}"))

    def sign(self, body: bytes, connection: Connection) -> dict[str, str]:
        """The headers the vendor would send with ``body`` for ``connection``."""
        raise NotImplementedError

    def signed(self, body: bytes, connection: Connection | None = None) -> WebhookRequest:
        return webhook(body, self.sign(body, connection or self.connection()))

    def forge(self, case: str, body: bytes) -> tuple[Connection, WebhookRequest]:
        """A request that must be refused, and the connection that must refuse it.

        ``stale_timestamp`` has no default: a vendor that signs a timestamp overrides this,
        one that does not says why in ``not_applicable``.
        """
        connection = self.connection()
        if case == "tampered_body":
            return connection, webhook(body + b" ", self.sign(body, connection))
        if case == "wrong_secret":
            return connection, webhook(body, self.sign(body, self.wrong_connection()))
        if case == "missing_credentials":
            return connection, webhook(body, {"content-type": "application/json"})
        raise NotImplementedError(f"{self.name}: no forgery {case!r}")

    def wrong_connection(self) -> Connection:
        """The same connection with another secret (or sender identity)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def fake_api(self) -> Iterator[Any]:
        """The vendor API that normalise() may call, faked for the recorded fixtures."""
        yield None

    # --- hostile-payload kit: where this vendor keeps its ids and times ---------------------
    # The suite builds hostile bodies from these and signs them with signed(): each with_*
    # returns a changed copy of a document, encode() the bytes the vendor would send.

    hostile_fixtures: ClassVar[tuple[str, ...]] = ()  # fixtures whose first record is a handled customer
    # Case name → (time field, raw value) for values no datetime can hold (e.g. 10**17 seconds).
    raw_times: ClassVar[dict[str, tuple[str, Any]]] = {}
    refusal_content_type: ClassVar[str] = "application/json"
    refusal_marker: ClassVar[bytes] = b'"error"'
    credential_markers: ClassVar[tuple[bytes, ...]] = ()  # how body elements holding credentials open

    def document(self, name: str) -> Any:
        """A fixture as the harness's with_* methods take it (parsed JSON here)."""
        return json.loads((self.fixtures_dir / name).read_text(encoding="utf-8"))

    def encode(self, doc: Any) -> bytes:
        """The body for a document (bytes, as with_raw() returns them, pass through)."""
        return doc if isinstance(doc, bytes) else json.dumps(doc, separators=(",", ":")).encode()

    def record(self, doc: Any) -> dict[str, Any]:
        """The object in a document that holds the customer's fields (and becomes the payload)."""
        raise NotImplementedError

    def with_raw(self, doc: Any, raw: bytes) -> bytes:
        """The encoded document with ``raw`` (a JSON member ``"key":value``) added to its record."""
        doc = copy.deepcopy(doc)
        self.record(doc)[_RAW_KEY] = 0
        body = self.encode(doc)
        assert body.count(_RAW_MEMBER) == 1
        return body.replace(_RAW_MEMBER, raw)

    def with_event_id(self, doc: Any, value: str) -> Any:
        raise NotImplementedError

    def with_customer_id(self, doc: Any, value: str) -> Any:
        raise NotImplementedError

    def with_time(self, doc: Any, moment: datetime) -> Any:
        """The moment in every field the vendor's event time is read from, in the vendor's encoding."""
        raise NotImplementedError

    def with_raw_time(self, doc: Any, field: str, value: Any) -> Any:
        raise NotImplementedError

    def body_credentials(self, body: bytes) -> list[bytes]:
        """Credential values the vendor itself puts in a body (redact_body() must blank them)."""
        return []

    def without_credentials(self, body: bytes) -> bytes:
        """The body without the elements that hold those credentials."""
        return body
