"""Stripe connector: signed webhooks in, customer and default-payment-method events out."""

from __future__ import annotations

from typing import Any

import stripe

from connectors import _stripe_mapping as mapping
from connectors._http import (
    error_for_status,
    parse_json_body,
    require_setting,
    retry_after_from,
    unreachable,
)
from connectors._limits import check_identifier, unix_time
from connectors.base import (
    Connection,
    Connector,
    Notification,
    StoredNotification,
    WebhookRequest,
)
from hub.domain import payment_methods as pm
from hub.errors import (
    ConfigError,
    HubError,
    InvalidInput,
    MalformedBody,
    SignatureVerificationError,
)

DEFAULT_TOLERANCE = 300
CUSTOMER_TYPES = frozenset({"customer.created", "customer.updated", "customer.deleted"})
PAYMENT_METHOD_TYPES = frozenset(
    {
        "payment_method.attached",
        "payment_method.detached",
        "payment_method.updated",
        "payment_method.automatically_updated",
    }
)
# One fetch answers both the modern and the legacy question "how does this customer pay?".
CUSTOMER_EXPAND = ["invoice_settings.default_payment_method", "default_source"]


class StripeConnector(Connector):
    name = "stripe"

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._client: stripe.StripeClient | None = None

    # --- webhook side ---------------------------------------------------------------------

    def verify(self, request: WebhookRequest) -> None:
        tolerance = int(self.config.get("tolerance", DEFAULT_TOLERANCE))
        secret = require_setting(self.config, "webhook_secret", self.connection.name, "verify webhooks")
        try:
            stripe.WebhookSignature.verify_header(
                request.body,
                request.header("stripe-signature"),
                secret,
                tolerance,
            )
        except stripe.SignatureVerificationError as exc:
            raise SignatureVerificationError(
                f"Stripe signature rejected: {exc.user_message}", http_status=400
            ) from exc
        except UnicodeDecodeError as exc:
            raise MalformedBody("Stripe webhook body is not UTF-8") from exc

    def parse(self, request: WebhookRequest) -> list[Notification]:
        event = parse_json_body(request.body, "Stripe")
        if not isinstance(event, dict):
            raise MalformedBody("Stripe webhook body is not a JSON object")
        event_id, event_type = event.get("id"), event.get("type")
        if not (isinstance(event_id, str) and event_id and isinstance(event_type, str)):
            raise MalformedBody("Stripe event needs an id and a type")
        occurred = unix_time(event.get("created"), "Stripe", "event created")
        handled = self.handles(event_type)
        if handled:
            _check_customer_id(event)
        return [Notification(event_id, event_type, occurred, event, handled)]

    @staticmethod
    def handles(event_type: str) -> bool:
        return (
            event_type in CUSTOMER_TYPES
            or event_type in PAYMENT_METHOD_TYPES
            or event_type.startswith("customer.source.")
        )

    # --- worker side ----------------------------------------------------------------------

    def normalise(self, stored: StoredNotification) -> list[dict[str, Any]]:
        obj = _data_object(stored.payload)
        if stored.event_type in CUSTOMER_TYPES:
            return [self._customer_event(stored, obj)]
        return self._payment_method_event(stored, obj)

    def customer_ref(self, stored: StoredNotification) -> str | None:
        obj = _mapping(stored.payload.get("data"), "object")
        if stored.event_type in CUSTOMER_TYPES:
            ref = obj.get("id")
        else:  # a payment method or source: its customer, or the one it was detached from
            previous = _mapping(stored.payload.get("data"), "previous_attributes")
            ref = obj.get("customer") or previous.get("customer")
            ref = ref.get("id") if isinstance(ref, dict) else ref
        return ref if isinstance(ref, str) and ref else None

    def _customer_event(self, stored: StoredNotification, obj: dict[str, Any]) -> dict[str, Any]:
        customer = customer_fields(obj)
        if stored.event_type == "customer.deleted":
            return self.event(stored, "customer.deleted", customer, [])
        if stored.event_type == "customer.created":
            customer["payment_method"] = self._payment_method_of(obj)
            return self.event(stored, "customer.created", customer, _filled_paths(customer))
        previous = (stored.payload.get("data") or {}).get("previous_attributes") or {}
        changes = mapping.changed_paths(previous, obj)
        method_changed = mapping.PAYMENT_METHOD_PATH in changes
        # Plain updates only carry the method when the payload already says it (no API call).
        method = self._payment_method_of(obj, allow_fetch=method_changed)
        if method is not None:
            customer["payment_method"] = method
        kind = "customer.payment_method.changed" if method_changed else "customer.updated"
        return self.event(stored, kind, customer, changes)

    def _payment_method_event(self, stored: StoredNotification, obj: dict[str, Any]) -> list[dict[str, Any]]:
        # Attaching a method does not make it the default, and events arrive out of order:
        # re-read the customer to learn its current default.
        customer_id = _customer_id_of(stored.payload, obj)
        fetched = self._fetch_customer(customer_id)
        if fetched.get("deleted"):
            return []  # the customer is gone; its customer.deleted event says so
        customer = customer_fields(fetched)
        customer["payment_method"] = _method_of_expanded(fetched)
        changes = [mapping.PAYMENT_METHOD_PATH]
        return [self.event(stored, "customer.payment_method.changed", customer, changes)]

    def _payment_method_of(self, obj: dict[str, Any], allow_fetch: bool = True) -> str | None:
        """The customer's default method from the payload, fetching when only an id is there."""
        settings = obj.get("invoice_settings") or {}
        default = settings.get("default_payment_method")
        source = obj.get("default_source")
        if isinstance(default, dict):
            return mapping.payment_method_from_type(default.get("type"))
        if default is None and not isinstance(source, str):
            return _method_of_instrument(source)
        if not allow_fetch:
            return None
        return _method_of_expanded(self._fetch_customer(obj["id"]))

    # --- Stripe API -----------------------------------------------------------------------

    def _fetch_customer(self, customer_id: str) -> dict[str, Any]:
        client = self._stripe_client()
        try:
            customer = client.v1.customers.retrieve(customer_id, params={"expand": CUSTOMER_EXPAND})
        except stripe.StripeError as exc:
            raise translate_error(exc) from exc
        # stripe >= 15: StripeObject is not a dict; work on plain data from here on.
        return customer.to_dict(for_json=True)

    def _stripe_client(self) -> stripe.StripeClient:
        if self._client is None:
            api_key = require_setting(
                self.config, "api_key", self.connection.name, "look up Stripe customers"
            )
            api_base = self.config.get("api_base")
            self._client = stripe.StripeClient(
                api_key,
                base_addresses={"api": api_base} if api_base else None,
                # The worker retries with backoff; SDK retries would only hold the worker.
                max_network_retries=0,
            )
        return self._client


def translate_error(exc: stripe.StripeError) -> HubError:
    """Map a Stripe SDK error to the hub error tree (retryable, config or invalid)."""
    if isinstance(exc, stripe.APIConnectionError):
        return unreachable("Stripe", exc)
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        return ConfigError(f"Stripe refused the API key (HTTP {exc.http_status})")
    return error_for_status(
        "Stripe",
        exc.http_status,
        retry_after=retry_after_from(exc.headers),
        detail=exc.code or "",
    )


def customer_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """Normalised customer fields from a Stripe customer object."""
    customer_id = obj.get("id")
    if not isinstance(customer_id, str) or not customer_id:
        raise InvalidInput("Stripe customer object has no id")
    currency = obj.get("currency")
    return {
        "external_id": customer_id,
        "name": obj.get("name"),
        "email": obj.get("email"),
        "currency": currency.lower() if isinstance(currency, str) else None,
        "custom_fields": {str(k): _scalar(v) for k, v in (obj.get("metadata") or {}).items()},
    }


def _method_of_expanded(customer: dict[str, Any]) -> str:
    default = (customer.get("invoice_settings") or {}).get("default_payment_method")
    if isinstance(default, dict):
        return mapping.payment_method_from_type(default.get("type"))
    return _method_of_instrument(customer.get("default_source"))


def _method_of_instrument(instrument: Any) -> str:
    if not isinstance(instrument, dict):
        return pm.NONE
    return mapping.payment_method_from_type(mapping.stripe_type_of(instrument))


def _data_object(event: dict[str, Any]) -> dict[str, Any]:
    obj = (event.get("data") or {}).get("object")
    if not isinstance(obj, dict):
        raise InvalidInput("Stripe event has no data.object")
    return obj


def _mapping(parent: Any, key: str) -> dict[str, Any]:
    """``parent[key]`` when both are objects, else empty: stored payloads are read tolerantly."""
    value = parent.get(key) if isinstance(parent, dict) else None
    return value if isinstance(value, dict) else {}


def _check_customer_id(event: dict[str, Any]) -> None:
    """The customer id a handled event will be stored under must fit its column (before the 2xx)."""
    obj = (event.get("data") or {}).get("object")
    if not isinstance(obj, dict):
        return  # normalise() reports it as invalid, with the run
    if event.get("type") in CUSTOMER_TYPES:
        check_identifier(obj.get("id"), "Stripe", "customer id")
        return
    customer = obj.get("customer")
    customer = customer.get("id") if isinstance(customer, dict) else customer
    if customer is not None:
        check_identifier(customer, "Stripe", "customer id")


def _customer_id_of(event: dict[str, Any], obj: dict[str, Any]) -> str:
    previous = (event.get("data") or {}).get("previous_attributes") or {}
    # payment_method.detached clears `customer`; the old value sits in previous_attributes.
    customer = obj.get("customer") or previous.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    if not isinstance(customer, str) or not customer:
        raise InvalidInput("Stripe payment method event names no customer")
    return customer


def _filled_paths(customer: dict[str, Any]) -> list[str]:
    paths = [
        f"customer.{key}"
        for key in ("name", "email", "currency", "payment_method")
        if customer.get(key) not in (None, "")
    ]
    return paths + [f"customer.custom_fields.{key}" for key in customer["custom_fields"]]


def _scalar(value: Any) -> str | int | float | bool | None:
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
