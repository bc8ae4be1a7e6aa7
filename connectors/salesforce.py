"""Salesforce connector: Account owner changes from Outbound Messages (and polling) → owner emails."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import requests
from simple_salesforce import Salesforce
from simple_salesforce.api import SFType
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.format import format_soql

from connectors import _salesforce_soap as soap
from connectors._cache import TTLCache
from connectors._http import constant_time_equals, error_for_status, require_setting, unreachable
from connectors._limits import check_identifier
from connectors.base import (
    Connection,
    Connector,
    Notification,
    StoredNotification,
    WebhookReply,
    WebhookRequest,
    as_utc,
    parse_timestamp,
)
from hub.domain.sources import Source
from hub.errors import (
    ConfigError,
    HubError,
    InvalidInput,
    SignatureVerificationError,
    VendorUnavailable,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_API_VERSION = "59.0"
DEFAULT_OWNER_CACHE_SECONDS = 600
FIRST_POLL_LOOKBACK = timedelta(hours=24)  # outbound messages are dropped after 24 h
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
OWNER_CHANGED = "customer.owner.changed"


class SalesforceConnector(Connector):
    name = "salesforce"
    creates_customers = False  # the CRM names customers a billing system created
    default_source = Source.SALESFORCE  # the source of truth for account managers
    poll_cursor_kind = "salesforce_poll"  # the kind its cursors were stored under from the start

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._client: Salesforce | None = None
        ttl = int(self.config.get("owner_cache_seconds", DEFAULT_OWNER_CACHE_SECONDS))
        self._owner_emails: TTLCache[str] = TTLCache(ttl)

    # --- webhook side ---------------------------------------------------------------------

    def verify(self, request: WebhookRequest) -> None:
        org = require_setting(self.config, "organization_id", self.connection.name, "check the org")
        # Only the envelope: a foreign org's body is refused before its records are walked.
        envelope = soap.read_envelope(request.body)
        if not same_org(envelope.organization_id, str(org)):
            raise SignatureVerificationError(
                "outbound message is not from the configured Salesforce org", http_status=401
            )

    def parse(self, request: WebhookRequest) -> list[Notification]:
        # SessionId is a live credential: it is read past here and blanked in redact_body().
        message = soap.read_outbound_message(request.body)
        match_field = self.config.get("match_field")
        notifications = []
        for item in message.notifications:
            check_identifier(item.record.get("Id"), "Salesforce", "record Id")
            if match_field and item.record.get(match_field) not in (None, ""):
                check_identifier(item.record[match_field], "Salesforce", str(match_field))
            notifications.append(Notification(
                vendor_event_id=item.notification_id,
                event_type=f"outbound_message.{item.sobject_type}",
                occurred_at=_modified_at(item.record),
                payload=item.record,
                handled=item.sobject_type == "Account",
            ))
        return notifications

    def redact_body(self, body: bytes) -> bytes:
        return soap.blank_credentials(body)

    def acknowledge(self, notifications: list[Notification]) -> WebhookReply:
        return WebhookReply(soap.ACK_ENVELOPE, 200, soap.CONTENT_TYPE)

    def refuse(self, error: HubError) -> WebhookReply:
        # Salesforce understands only Ack or a SOAP fault, and retries whatever the status; the
        # status still says whose fault it is (4xx: the message; 5xx: the hub, try again).
        return WebhookReply(soap.fault_envelope(error), error.http_status, soap.CONTENT_TYPE)

    # --- worker side ----------------------------------------------------------------------

    def normalise(self, stored: StoredNotification) -> list[dict[str, Any]]:
        record = stored.payload
        external_id = self._external_id(record)
        if external_id is None:
            # Not a billing customer (e.g. a prospect): nothing for the hub to change.
            logger.info("Salesforce Account %s has no %s; skipped", record.get("Id"), self._match_field())
            return []
        customer: dict[str, Any] = {
            "external_id": external_id,
            "owner_email": self._owner_email(record),
        }
        if "Name" in record:
            customer["name"] = record["Name"]
        return [self.event(stored, OWNER_CHANGED, customer, ["customer.owner_email"])]

    def customer_ref(self, stored: StoredNotification) -> str | None:
        # Only when the Account carries the match field: finding it otherwise takes an API call.
        field = self.config.get("match_field")
        if not isinstance(field, str) or not FIELD_NAME.match(field):
            return None
        value = stored.payload.get(field)
        return str(value) if value not in (None, "") and not isinstance(value, (dict, list)) else None

    def poll(self, since: datetime | None = None, limit: int = 2000) -> tuple[list[Notification], datetime]:
        """Accounts modified since the cursor, and the next cursor (safety net for dropped messages).

        ``>=`` re-reads the boundary record; the inbox dedupes on ``poll:{Id}:{SystemModstamp}``.
        """
        since = as_utc(since) if since else datetime.now(UTC) - FIRST_POLL_LOOKBACK
        fields = ", ".join(
            dict.fromkeys(["Id", "Name", "OwnerId", "Owner.Email", "SystemModstamp", self._match_field()])
        )
        query = format_soql(
            "SELECT {fields:literal} FROM Account WHERE SystemModstamp >= {since} "
            "ORDER BY SystemModstamp LIMIT {limit}",
            fields=fields,
            since=since,
            limit=int(limit),
        )
        sf = self._sf()
        records = self._call(lambda: list(sf.query_all_iter(query)))
        notifications = [_poll_notification(_plain(record)) for record in records]
        stamps = [n.occurred_at for n in notifications if n.occurred_at is not None]
        return notifications, max(stamps, default=since)

    def owner_emails(self, owner_ids: list[str]) -> dict[str, str]:
        """User id → email, from the cache or one SOQL query for the rest."""
        missing = [i for i in dict.fromkeys(owner_ids) if self._owner_emails.get(_key(i)) is None]
        if missing:
            sf = self._sf()
            query = format_soql("SELECT Id, Email FROM User WHERE Id IN {ids}", ids=missing)
            for user in self._call(lambda: list(sf.query_all_iter(query))):
                if user.get("Email"):
                    self._owner_emails.set(_key(user["Id"]), user["Email"])
        found = {i: self._owner_emails.get(_key(i)) for i in owner_ids}
        unknown = [i for i, email in found.items() if email is None]
        if unknown:
            raise InvalidInput(f"Salesforce user(s) {', '.join(unknown)} not found or without email")
        return {i: email for i, email in found.items() if email is not None}

    def _external_id(self, record: dict[str, Any]) -> str | None:
        field = self._match_field()
        if field in record:
            value = record[field]
        else:
            # The Flow's outbound message does not include the field: read the Account.
            accounts, account_id = cast(SFType, self._sf().Account), _account_id(record)
            value = self._call(lambda: accounts.get(account_id)).get(field)
        return str(value) if value not in (None, "") else None

    def _owner_email(self, record: dict[str, Any]) -> str:
        owner = record.get("Owner")
        if isinstance(owner, dict) and owner.get("Email"):
            return str(owner["Email"])  # polled records carry it already
        owner_id = record.get("OwnerId")
        if not owner_id:
            raise InvalidInput(f"Salesforce Account {record.get('Id')} has no OwnerId")
        return self.owner_emails([owner_id])[owner_id]

    def _match_field(self) -> str:
        field = require_setting(
            self.config, "match_field", self.connection.name, "match Accounts to billing customers"
        )
        if not FIELD_NAME.match(field):
            raise ConfigError(f"connection {self.connection.name!r}: match_field is not a field name")
        return str(field)

    # --- Salesforce API -------------------------------------------------------------------

    def _sf(self) -> Salesforce:
        if self._client is None:
            self._client = self._call(self._login)
        return self._client

    def _login(self) -> Salesforce:
        """instance URL + session id, else JWT bearer, else (retiring) SOAP password login.

        Every API call goes to ``api_base`` (else the instance URL) as given: simple-salesforce
        writes ``https://{instance}/...`` itself, so its session sends those URLs there.
        """
        cfg, version = self.config, self.config.get("api_version", DEFAULT_API_VERSION)
        instance = cfg.get("api_base") or cfg.get("instance_url")
        domain = cfg.get("domain", "login")
        if cfg.get("session_id") and instance:
            session = BaseUrlSession(str(instance))
            return Salesforce(instance_url=instance, session_id=cfg["session_id"], version=version,
                              session=session)
        sf = self._login_for_token(cfg, domain, version)
        if cfg.get("api_base"):
            sf.session = BaseUrlSession(str(cfg["api_base"]), instance=f"https://{sf.sf_instance}")
        return sf

    def _login_for_token(self, cfg: Any, domain: str, version: str) -> Salesforce:
        if cfg.get("consumer_key"):
            return Salesforce(
                username=cfg.get("username"),
                consumer_key=cfg["consumer_key"],
                privatekey_file=cfg.get("private_key_file"),
                domain=domain,
                version=version,
            )
        if cfg.get("password"):
            logger.warning(
                "Salesforce connection %s uses password login, which Salesforce is retiring",
                self.connection.name,
            )
            return Salesforce(
                username=cfg.get("username"),
                password=cfg["password"],
                security_token=cfg.get("security_token"),
                domain=domain,
                version=version,
            )
        raise ConfigError(
            f"connection {self.connection.name!r} needs Salesforce API credentials: "
            "session_id + instance_url, or username + consumer_key + private_key_file"
        )

    def _call(self, request: Callable[[], T]) -> T:
        try:
            return request()
        except SalesforceAuthenticationFailed as exc:
            raise ConfigError("Salesforce login failed; check the connection's credentials") from exc
        except SalesforceExpiredSession as exc:
            self._client = None
            raise ConfigError("Salesforce session expired or invalid") from exc
        except SalesforceError as exc:
            raise translate_error(exc) from exc
        except requests.RequestException as exc:
            raise unreachable("Salesforce", exc) from exc
        except OSError as exc:
            raise ConfigError(f"cannot read the Salesforce private key file ({exc.strerror})") from exc


class BaseUrlSession(requests.Session):
    """A requests session that sends simple-salesforce's ``https://{instance}`` URLs to a base URL.

    simple-salesforce builds every URL (REST, sObjects, query pages) as https from the instance's
    host and port; a staging stand-in may speak http or live under a path. The rewrite keeps
    scheme, host, port and path of ``base`` exactly; other URLs pass untouched.
    """

    def __init__(self, base: str, instance: str | None = None) -> None:
        super().__init__()
        parts = urlsplit(base)
        self._written = (instance or f"https://{parts.netloc}").rstrip("/")
        self._base = base.rstrip("/")

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if isinstance(url, str) and (url == self._written or url.startswith(f"{self._written}/")):
            url = self._base + url[len(self._written):]
        return super().request(method, url, *args, **kwargs)


def translate_error(exc: SalesforceError) -> HubError:
    """Map a simple-salesforce error to the hub error tree."""
    codes = _error_codes(exc.content)
    detail = ", ".join(codes)
    if isinstance(exc, SalesforceRefusedRequest):
        if "REQUEST_LIMIT_EXCEEDED" in codes:
            return VendorUnavailable("Salesforce API request limit exceeded", retry_after=3600)
        return ConfigError(f"Salesforce refused the request (HTTP 403): {detail}")
    if isinstance(exc, SalesforceMalformedRequest):
        # Nearly always a match_field that does not exist or is not readable.
        return ConfigError(f"Salesforce rejected the query (HTTP 400): {detail}")
    if isinstance(exc, SalesforceResourceNotFound):
        return InvalidInput(f"Salesforce has no such record (HTTP 404): {detail}")
    return error_for_status("Salesforce", exc.status, detail=detail)


def same_org(given: str | None, configured: str) -> bool:
    """Org ids match on their case-sensitive 15-character form (18 adds a checksum)."""
    if not given or len(given) not in (15, 18):
        return False
    return constant_time_equals(given[:15], configured[:15])


def _poll_notification(record: dict[str, Any]) -> Notification:
    stamp = str(record.get("SystemModstamp") or "")
    return Notification(
        vendor_event_id=f"poll:{record.get('Id')}:{stamp}",
        event_type="poll.Account",
        occurred_at=_modified_at(record),
        payload=record,
        handled=True,
    )


def _modified_at(record: dict[str, Any]) -> datetime | None:
    value = record.get("LastModifiedDate") or record.get("SystemModstamp")
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def _plain(value: Any) -> Any:
    """OrderedDicts from the SDK → plain JSON-able dicts for the inbox."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _account_id(record: dict[str, Any]) -> str:
    account_id = record.get("Id")
    if not isinstance(account_id, str) or not account_id:
        raise InvalidInput("Salesforce record has no Id")
    return account_id


def _key(record_id: str) -> str:
    return record_id[:15]


def _error_codes(content: Any) -> list[str]:
    """Salesforce error codes only (never the message, which may echo query values)."""
    items = content if isinstance(content, list) else [content]
    return [str(i["errorCode"]) for i in items if isinstance(i, dict) and i.get("errorCode")]
