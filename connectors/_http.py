"""Small helpers every connector shares: constant-time compare, JSON bodies, vendor status → hub error."""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from connectors._limits import bounded_json
from hub.errors import ConfigError, HubError, InvalidInput, VendorUnavailable

# Statuses that mean "try again later" whatever the vendor.
_RETRYABLE_STATUSES = frozenset({408, 425, 429})
_DELTA_SECONDS = re.compile(r"^\d+(?:\.\d+)?$")


def constant_time_equals(given: str | bytes | None, expected: str | bytes | None) -> bool:
    """Compare secrets without leaking through timing; None never matches."""
    if given is None or expected is None:
        return False
    left = given.encode() if isinstance(given, str) else given
    right = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(left, right)


def basic_auth_credentials(header: str | None) -> tuple[str, str] | None:
    """(username, password) from an HTTP Basic Authorization header, None when absent or broken."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def parse_json_body(body: bytes, vendor: str) -> Any:
    """A raw webhook body as JSON, depth- and size-bounded; MalformedBody when unusable."""
    return bounded_json(body, vendor)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or HTTP date)."""
    if not value:
        return None
    text = value.strip()
    if _DELTA_SECONDS.match(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def retry_after_from(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == "retry-after":
            return parse_retry_after(value)
    return None


def error_for_status(
    vendor: str,
    status: int | None,
    *,
    retry_after: float | None = None,
    detail: str = "",
) -> HubError:
    """The hub error for a failed vendor call: retryable, config or invalid.

    ``detail`` must never carry credentials; callers pass vendor error codes, not bodies.
    """
    suffix = f": {detail}" if detail else ""
    if not status:
        return VendorUnavailable(f"{vendor} did not answer{suffix}", retry_after=retry_after)
    if status in _RETRYABLE_STATUSES or status >= 500:
        return VendorUnavailable(f"{vendor} is unavailable (HTTP {status}){suffix}", retry_after=retry_after)
    if status in (401, 403):
        return ConfigError(f"{vendor} refused our credentials (HTTP {status}){suffix}")
    if status in (404, 410):
        return InvalidInput(f"{vendor} has no such object (HTTP {status}){suffix}")
    return InvalidInput(f"{vendor} rejected the request (HTTP {status}){suffix}")


def unreachable(vendor: str, exc: BaseException) -> VendorUnavailable:
    """A network failure (DNS, refused connection, timeout) talking to a vendor."""
    return VendorUnavailable(f"could not reach {vendor}: {type(exc).__name__}")


def require_setting(config: Mapping[str, Any], key: str, connection: str, purpose: str) -> Any:
    """A config value the current operation needs; ConfigError naming the key when missing."""
    value = config.get(key)
    if value in (None, ""):
        raise ConfigError(f"connection {connection!r} needs {key} to {purpose}")
    return value
