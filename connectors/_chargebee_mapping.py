"""Chargebee values → hub vocabulary: payment method types, direct-debit schemes, offline methods."""

from __future__ import annotations

from typing import Any

from hub.domain import payment_methods as pm

# customer.payment_method.type (auto_collection on). "direct_debit" is resolved by scheme.
PAYMENT_METHOD_TYPES: dict[str, str] = {
    "card": pm.CARD,
    "apple_pay": pm.CARD,  # wallets that charge a card
    "google_pay": pm.CARD,
    "south_korean_cards": pm.CARD,
    "paypal_express_checkout": pm.PAYPAL,
    "netbanking_emandates": pm.DIRECT_DEBIT,  # mandate-based debits (India)
    "pay_to": pm.DIRECT_DEBIT,  # mandate-based debits (Australia)
    "automated_bank_transfer": pm.BANK_TRANSFER,
    "faster_payments": pm.BANK_TRANSFER,
    "sepa_instant_transfer": pm.BANK_TRANSFER,
    "pay_by_bank": pm.BANK_TRANSFER,
}
DIRECT_DEBIT = "direct_debit"

# payment_source.bank_account.direct_debit_scheme → vocabulary; unknown schemes → direct_debit.
DIRECT_DEBIT_SCHEMES: dict[str, str] = {
    "ach": pm.ACH_DEBIT,
    "bacs": pm.BACS_DEBIT,
    "sepa_core": pm.SEPA_DEBIT,
    "sepa": pm.SEPA_DEBIT,
    "autogiro": pm.DIRECT_DEBIT,
    "becs": pm.DIRECT_DEBIT,
    "becs_nz": pm.DIRECT_DEBIT,
    "pad": pm.DIRECT_DEBIT,
    "not_applicable": pm.DIRECT_DEBIT,
}

# customer.offline_payment_method (auto_collection off) → vocabulary; unknown → other.
OFFLINE_PAYMENT_METHODS: dict[str, str] = {
    "no_preference": pm.NONE,
    "cash": pm.CASH,
    "check": pm.CHECK,
    "bank_transfer": pm.BANK_TRANSFER,
    "ach_credit": pm.BANK_TRANSFER,
    "sepa_credit": pm.BANK_TRANSFER,
    "us_automated_bank_transfer": pm.BANK_TRANSFER,
    "eu_automated_bank_transfer": pm.BANK_TRANSFER,
    "uk_automated_bank_transfer": pm.BANK_TRANSFER,
    "jp_automated_bank_transfer": pm.BANK_TRANSFER,
    "mx_automated_bank_transfer": pm.BANK_TRANSFER,
    "boleto": pm.OTHER,
    "custom": pm.OTHER,
}

# Chargebee event type → normalised event type; other customer_* events are updates.
EVENT_TYPES: dict[str, str] = {
    "customer_created": "customer.created",
    "customer_deleted": "customer.deleted",
}
HANDLED_PREFIXES = ("customer_", "payment_source_", "card_")
PAYMENT_PREFIXES = ("payment_source_", "card_")
CUSTOM_FIELD_PREFIX = "cf_"


def offline_method(value: str | None) -> str:
    if not value:
        return pm.NONE
    return OFFLINE_PAYMENT_METHODS.get(value, pm.OTHER)


def online_method(method_type: str | None) -> str:
    """Vocabulary for a non-direct-debit payment method type (no type → none)."""
    if not method_type:
        return pm.NONE
    return PAYMENT_METHOD_TYPES.get(method_type, pm.OTHER)


def scheme_method(scheme: str | None) -> str:
    return DIRECT_DEBIT_SCHEMES.get(scheme or "", pm.DIRECT_DEBIT)


def scheme_of(payment_source: dict[str, Any] | None) -> str | None:
    bank_account = (payment_source or {}).get("bank_account") or {}
    return bank_account.get("direct_debit_scheme")


def normalised_type(event_type: str) -> str:
    if event_type.startswith(PAYMENT_PREFIXES):
        return "customer.payment_method.changed"
    return EVENT_TYPES.get(event_type, "customer.updated")


def custom_fields(customer: dict[str, Any]) -> dict[str, Any]:
    """cf_* keys without the prefix (cf_sales_region → sales_region), scalars only."""
    fields: dict[str, Any] = {}
    for key, value in customer.items():
        if key.startswith(CUSTOM_FIELD_PREFIX):
            scalar = value is None or isinstance(value, (str, int, float, bool))
            fields[key[len(CUSTOM_FIELD_PREFIX) :]] = value if scalar else str(value)
    return fields
