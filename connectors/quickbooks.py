"""QuickBooks Online connector: signed change notifications in, customers fetched and normalised."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from intuitlib.client import AuthClient
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import (
    AuthorizationException,
    ObjectNotFoundException,
    QuickbooksException,
    ValidationException,
)
from quickbooks.objects.customer import Customer
from quickbooks.objects.paymentmethod import PaymentMethod
from quickbooks.objects.term import Term

from connectors import _quickbooks_mapping as mapping
from connectors._cache import TTLCache
from connectors._http import (
    constant_time_equals,
    error_for_status,
    parse_json_body,
    parse_retry_after,
    require_setting,
    unreachable,
)
from connectors._limits import check_identifier
from connectors.base import (
    Connection,
    Connector,
    Notification,
    StoredNotification,
    WebhookRequest,
    as_utc,
    format_timestamp,
    parse_timestamp,
)
from hub.domain import payment_methods as pm
from hub.errors import (
    ConfigError,
    HubError,
    InvalidInput,
    MalformedBody,
    SignatureVerificationError,
    VendorUnavailable,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

CDC_LOOKBACK = timedelta(days=30)  # Intuit's change-data-capture limit
# Only the consent flow uses the redirect URI; token refresh needs a value, not a real one.
UNUSED_REDIRECT_URI = "https://localhost/quickbooks/callback"
TOKEN_MARGIN_SECONDS = 300
OAUTH_TIMEOUT_SECONDS = 10
SANDBOX = "sandbox"
# Intuit's discovery paths (developer.api.intuit.com), used on the host of a configured API base.
DISCOVERY_PATHS = {
    "sandbox": "/.well-known/openid_sandbox_configuration",
    "production": "/.well-known/openid_configuration",
}
LOOKUP_CACHE_SECONDS = 3600


class QuickBooksConnector(Connector):
    name = "quickbooks"
    backfill_cursor_kind = "quickbooks_cdc"  # the kind its cursors were stored under from the start

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._client: QuickBooks | None = None
        self._client_expires = 0.0
        self._lookups: TTLCache[str] = TTLCache(LOOKUP_CACHE_SECONDS)

    @property
    def realm_id(self) -> str:
        return str(require_setting(self.config, "realm_id", self.connection.name, "route notifications"))

    # --- webhook side ---------------------------------------------------------------------

    def verify(self, request: WebhookRequest) -> None:
        secret = require_setting(self.config, "verifier_token", self.connection.name, "verify webhooks")
        token = str(secret).encode()
        digest = hmac.new(token, request.body, hashlib.sha256).digest()
        expected = base64.b64encode(digest).decode()
        given = request.header("intuit-signature")
        if not constant_time_equals(given.strip() if given else None, expected):
            raise SignatureVerificationError("QuickBooks intuit-signature missing or wrong", http_status=401)

    def parse(self, request: WebhookRequest) -> list[Notification]:
        document = parse_json_body(request.body, "QuickBooks")
        if isinstance(document, list):
            notifications = mapping.cloud_notifications(document, self.realm_id)
        elif isinstance(document, dict) and "eventNotifications" in document:
            notifications = mapping.legacy_notifications(document, self.realm_id)
        else:
            raise MalformedBody("QuickBooks body is neither eventNotifications nor a CloudEvents array")
        for notification in notifications:
            if notification.handled:
                entity_id, _, merged_id = mapping.change_of(notification.payload)
                for customer_id in filter(None, (entity_id, merged_id)):
                    check_identifier(customer_id, "QuickBooks", "customer id")
        return notifications

    # --- worker side ----------------------------------------------------------------------

    def normalise(self, stored: StoredNotification) -> list[dict[str, Any]]:
        entity_id, operation, merged_id = mapping.change_of(stored.payload)
        if operation is None or not entity_id:
            raise InvalidInput(f"QuickBooks notification {stored.vendor_event_id} has no usable change")
        if operation == "delete":
            deleted = {"external_id": entity_id}
            return [self.event(stored, "customer.deleted", deleted, [])]
        events = []
        if operation == "merge" and merged_id:
            # The merged-away customer no longer exists; the survivor absorbed it.
            gone = {"external_id": str(merged_id)}
            events.append(self.event(stored, "customer.deleted", gone, [], index=1))
        customer = self.fetch_customer(entity_id)
        kind = mapping.EVENT_TYPES[operation]
        events.insert(0, self.event(stored, kind, customer, _field_paths(customer)))
        return events

    def customer_ref(self, stored: StoredNotification) -> str | None:
        # The entity is the customer (the survivor of a merge); read() checked its shape.
        entity_id, _, _ = mapping.change_of(stored.payload)
        return entity_id

    def backfill(self, since: datetime) -> list[Notification]:
        """Customers changed since ``since`` (change data capture), shaped like legacy webhooks.

        The ids match what a legacy webhook for the same change would carry, so the inbox
        dedupes what was already delivered. Intuit looks back at most 30 days.
        """
        since = as_utc(since)
        earliest = datetime.now(UTC) - CDC_LOOKBACK + timedelta(minutes=1)
        if since < earliest:
            logger.warning("QuickBooks backfill limited to the last 30 days")
            since = earliest
        cdc = self._call(lambda qb: change_data_capture([Customer], since, qb=qb))
        return [self._cdc_notification(c) for c in getattr(cdc, "Customer", [])]

    def _cdc_notification(self, customer: Any) -> Notification:
        meta = getattr(customer, "MetaData", None) or {}
        updated = meta.get("LastUpdatedTime") if isinstance(meta, dict) else None
        occurred = parse_timestamp(updated) if updated else None
        stamp = format_timestamp(occurred) if occurred else ""
        operation = _cdc_operation(customer, meta)
        payload = {
            "realmId": self.realm_id,
            "name": "Customer",
            "id": str(customer.Id),
            "operation": operation,
            "lastUpdated": stamp,
        }
        event_id = mapping.legacy_event_id(self.realm_id, "Customer", customer.Id, operation, stamp)
        return Notification(event_id, f"Customer.{operation}", occurred, payload, True)

    # --- QuickBooks API -------------------------------------------------------------------

    def fetch_customer(self, customer_id: str) -> dict[str, Any]:
        """The normalised customer fields of one QuickBooks customer."""
        customer = self._call(lambda qb: Customer.get(customer_id, qb=qb))
        email = getattr(customer.PrimaryEmailAddr, "Address", None)
        currency = getattr(customer.CurrencyRef, "value", None)
        fields: dict[str, Any] = {
            "payment_terms": self._term_name(customer.SalesTermRef),
            "preferred_delivery_method": customer.PreferredDeliveryMethod or None,
        }
        return {
            "external_id": str(customer.Id),
            "name": customer.DisplayName or customer.CompanyName or None,
            "email": email or None,
            "currency": currency.lower() if currency else None,
            "payment_method": self._payment_method(customer.PaymentMethodRef),
            "custom_fields": fields,
        }

    def _payment_method(self, ref: Any) -> str:
        method_id = getattr(ref, "value", None)
        if not method_id:
            return pm.NONE
        key = f"PaymentMethod:{method_id}"
        cached = self._lookups.get(key)
        if cached is None:
            method = self._call(lambda qb: PaymentMethod.get(method_id, qb=qb))
            cached = mapping.payment_method_from(method.Type, method.Name)
            self._lookups.set(key, cached)
        return cached

    def _term_name(self, ref: Any) -> str | None:
        term_id = getattr(ref, "value", None)
        if not term_id:
            return None
        if getattr(ref, "name", None):
            return str(ref.name)
        key = f"Term:{term_id}"
        cached = self._lookups.get(key)
        if cached is None:
            cached = str(self._call(lambda qb: Term.get(term_id, qb=qb)).Name)
            self._lookups.set(key, cached)
        return cached

    def _qb(self) -> QuickBooks:
        """A QuickBooks client with a fresh access token, rebuilt shortly before it expires."""
        if self._client is None or time.monotonic() >= self._client_expires:
            self._client, lifetime = self._connect()
            self._client_expires = time.monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, 60)
        return self._client

    def _connect(self) -> tuple[QuickBooks, int]:
        purpose = "read QuickBooks customers"
        settings = {
            key: require_setting(self.config, key, self.connection.name, purpose)
            for key in ("client_id", "client_secret", "refresh_token")
        }
        environment = str(self.config.get("environment", "production"))
        try:
            # AuthClient fetches the discovery document (token endpoint) when it is built.
            auth = TimedAuthClient(
                settings["client_id"],
                settings["client_secret"],
                self.config.get("redirect_uri", UNUSED_REDIRECT_URI),
                discovery_location(self.config),
                realm_id=self.realm_id,
            )
            # Intuit replaces the refresh token as it is used: the newest one lives in the shared
            # store (seeded by the config), and one process at a time trades it for a new one.
            self.credentials.exchange(self.connection.name, "refresh_token", str(settings["refresh_token"]),
                                      lambda token: _refresh(auth, token))
            # The access token is set, so the SDK starts its session without refreshing again.
            qb = QuickBooks(
                auth_client=auth,
                refresh_token=auth.refresh_token,
                company_id=self.realm_id,
                minorversion=int(self.config.get("minor_version", QuickBooks.MINIMUM_MINOR_VERSION)),
            )
        except AuthClientError as exc:
            raise _token_error(exc) from exc
        except requests.RequestException as exc:
            raise unreachable("Intuit OAuth", exc) from exc
        # The SDK picks the sandbox API from the environment name, which a discovery URL hides.
        qb.sandbox = environment == SANDBOX
        qb.session = BearerSession(str(auth.access_token))
        if self.config.get("api_base"):
            qb.api_url_v3 = qb.sandbox_api_url_v3 = str(self.config["api_base"]).rstrip("/")
        qb.session.hooks["response"].append(_raise_for_vendor_status)
        return qb, int(auth.expires_in or 3600)

    def _call(self, request: Callable[[QuickBooks], T]) -> T:
        """One API call; an access token QuickBooks refuses is refreshed and the call tried once more.

        A token can be refused before its expiry (revoked, or issued before a reconnect); keeping
        the client would fail every call until the timer ran out.
        """
        try:
            return self._translated(request)
        except TokenRefused:
            self._client = None
            return self._translated(request)

    def _translated(self, request: Callable[[QuickBooks], T]) -> T:
        try:
            return request(self._qb())
        except TokenRefused:
            self._client = None
            raise
        except HubError:
            raise  # already translated by the response hook
        except AuthorizationException as exc:
            self._client = None  # force a token refresh on the next attempt
            raise TokenRefused(f"QuickBooks refused our token (code {exc.error_code})") from exc
        except (ObjectNotFoundException, ValidationException) as exc:
            raise InvalidInput(f"QuickBooks rejected the lookup (code {exc.error_code})") from exc
        except QuickbooksException as exc:
            raise VendorUnavailable(f"QuickBooks error (code {exc.error_code})") from exc
        except requests.RequestException as exc:
            raise unreachable("QuickBooks", exc) from exc


class TimedAuthClient(AuthClient):
    """intuitlib's AuthClient (a requests session) with a timeout on its discovery and token calls.

    The token exchange runs under the credential row's lock; an Intuit that never answers must
    not hold it (or, on SQLite, the database's write lock) for longer than this.
    """

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", OAUTH_TIMEOUT_SECONDS)
        return super().request(method, url, *args, **kwargs)


def _refresh(auth: AuthClient, refresh_token: str) -> str:
    auth.refresh(refresh_token=refresh_token)
    return str(auth.refresh_token or refresh_token)


class BearerSession(requests.Session):
    """The session python-quickbooks sends API calls through, in place of its OAuth2Session.

    The SDK sets ``Authorization: Bearer <session.access_token>`` on every call itself; the
    OAuth2Session it would use adds nothing more, but refuses any http URL (a staging stand-in
    behind HUB_QUICKBOOKS_API_BASE) unless a process-wide variable allows it everywhere.
    """

    def __init__(self, access_token: str) -> None:
        super().__init__()
        self.access_token = access_token


def discovery_location(config: Any) -> str:
    """What AuthClient is given: an environment name (Intuit's own document) or a document's URL.

    With an API base set, the document is read from that same host at Intuit's path for the
    environment, so a staging set-up never talks to Intuit; ``discovery_url`` overrides both.
    """
    environment = str(config.get("environment", "production"))
    if config.get("discovery_url"):
        return str(config["discovery_url"])
    if environment.startswith(("http://", "https://")) or not config.get("api_base"):
        return environment
    parts = urlsplit(str(config["api_base"]))
    return f"{parts.scheme}://{parts.netloc}{DISCOVERY_PATHS.get(environment, DISCOVERY_PATHS['production'])}"


class TokenRefused(ConfigError):
    """QuickBooks refused the access token (401): refreshed once, then a config error."""

    code = "vendor_token_refused"


def _raise_for_vendor_status(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """requests hook: turn throttling, outages and auth failures into hub errors at once.

    python-quickbooks loses the HTTP status of non-JSON error pages; this keeps it.
    """
    status = response.status_code
    if status == 401:
        raise TokenRefused("QuickBooks refused our access token (HTTP 401)")
    if status in (401, 403, 429) or status >= 500:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise error_for_status("QuickBooks", status, retry_after=retry_after)


def _token_error(exc: AuthClientError) -> HubError:
    if exc.status_code in (400, 401, 403):
        return ConfigError(
            f"Intuit refused the OAuth credentials (HTTP {exc.status_code}); re-authorise the app"
        )
    return error_for_status("Intuit OAuth", exc.status_code)


def _cdc_operation(customer: Any, meta: dict[str, Any]) -> str:
    if getattr(customer, "status", None) == "Deleted":
        return "Delete"
    created = meta.get("CreateTime")
    return "Create" if created and created == meta.get("LastUpdatedTime") else "Update"


def _field_paths(customer: dict[str, Any]) -> list[str]:
    """QuickBooks says only *that* a customer changed: every field the hub reads may have."""
    paths = [f"customer.{k}" for k in ("name", "email", "currency", "payment_method")]
    return paths + [f"customer.custom_fields.{k}" for k in customer["custom_fields"]]
