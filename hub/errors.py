"""One error tree for the whole hub: each error knows its HTTP status, its class and whether to retry.

    HubError                      code, http_status, error_class, retryable
    ├── InvalidInput              400  invalid    the caller sent something we cannot use
    │   ├── MalformedBody         400  invalid    not JSON / not XML / not CSV
    │   ├── ValidationFailed      422  invalid    well-formed but wrong (unknown workflow in a request, ...)
    │   └── PayloadTooLarge       413  invalid
    ├── AuthenticationRequired    401             no or unknown API key
    ├── PermissionDenied          403             key's role may not do this
    ├── NotFound                  404
    ├── Conflict                  409
    ├── TooManyRequests           429             bounded work: this kind of request is at its limit
    ├── SignatureVerificationError 400/401 invalid a webhook that is forged, stale or unsigned
    ├── ConfigError               500  config     missing credentials, unknown workflow in a recipe:
    │                                              fail at once, alert, replay once fixed
    └── RetryableError            503  retryable  vendor 5xx/429/timeouts, database or broker hiccups
        ├── VendorUnavailable                     (may carry retry_after seconds)
        └── ServiceUnavailable                    our own database or broker is down

The web layer translates these to JSON in one handler; the worker maps `error_class` to
retry/fail in one base task. Chain causes with ``raise ... from exc``.
"""

from __future__ import annotations

from typing import Any

RETRYABLE = "retryable"
CONFIG = "config"
INVALID = "invalid"


class HubError(Exception):
    """Root of every error the hub raises on purpose."""

    code = "error"
    http_status = 500
    error_class = CONFIG
    retryable = False

    def __init__(self, message: str = "", *, details: Any = None, code: str | None = None):
        super().__init__(message or self.__class__.__name__)
        self.message = message or self.__class__.__name__
        self.details = details
        if code:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return {"error": body}


class InvalidInput(HubError):
    code = "invalid_input"
    http_status = 400
    error_class = INVALID


class MalformedBody(InvalidInput):
    code = "malformed_body"


class ValidationFailed(InvalidInput):
    code = "validation_failed"
    http_status = 422


class PayloadTooLarge(InvalidInput):
    code = "payload_too_large"
    http_status = 413


class AuthenticationRequired(HubError):
    code = "authentication_required"
    http_status = 401
    error_class = INVALID


class PermissionDenied(HubError):
    code = "permission_denied"
    http_status = 403
    error_class = INVALID


class NotFound(HubError):
    code = "not_found"
    http_status = 404
    error_class = INVALID


class Conflict(HubError):
    code = "conflict"
    http_status = 409
    error_class = INVALID


class TooManyRequests(HubError):
    code = "too_many_requests"
    http_status = 429
    error_class = INVALID

    def __init__(self, message: str = "", *, retry_after: float = 5, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class SignatureVerificationError(HubError):
    """A webhook whose signature, credentials or origin do not check out.

    Connectors choose the status their vendor expects (Stripe 400, Chargebee/QuickBooks 401).
    """

    code = "signature_invalid"
    http_status = 400
    error_class = INVALID

    def __init__(self, message: str = "", *, http_status: int | None = None, **kw: Any):
        super().__init__(message, **kw)
        if http_status is not None:
            self.http_status = http_status


class ConfigError(HubError):
    code = "config_error"
    http_status = 500
    error_class = CONFIG


class RetryableError(HubError):
    code = "temporarily_unavailable"
    http_status = 503
    error_class = RETRYABLE
    retryable = True

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class VendorUnavailable(RetryableError):
    code = "vendor_unavailable"


class ServiceUnavailable(RetryableError):
    code = "service_unavailable"
