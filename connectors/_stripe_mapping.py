"""Stripe values → hub vocabulary: payment method types and the customer paths a change touches."""

from __future__ import annotations

from typing import Any

from hub.domain import payment_methods as pm

# Stripe payment method (or legacy source) type → vocabulary. The list is open-ended: any
# other "*_debit" type is a direct-debit scheme, anything else unknown is "other".
PAYMENT_METHOD_TYPES: dict[str, str] = {
    "card": pm.CARD,
    "card_present": pm.CARD,
    # Link wallets are funded by a saved card in the vast majority of cases and are collected
    # like cards (instant, no mandate), so dunning treats them as card payers.
    "link": pm.CARD,
    "sepa_debit": pm.SEPA_DEBIT,
    "us_bank_account": pm.ACH_DEBIT,  # Stripe's ACH Direct Debit
    "ach_debit": pm.ACH_DEBIT,  # legacy Sources API
    "bank_account": pm.ACH_DEBIT,  # legacy bank_account source objects are US ACH debits
    "bacs_debit": pm.BACS_DEBIT,
    "acss_debit": pm.DIRECT_DEBIT,  # Canadian pre-authorised debit
    "au_becs_debit": pm.DIRECT_DEBIT,
    "nz_bank_account": pm.DIRECT_DEBIT,  # BECS NZ
    "paypal": pm.PAYPAL,
    "customer_balance": pm.BANK_TRANSFER,  # bank transfers into the customer's cash balance
    "ach_credit_transfer": pm.BANK_TRANSFER,  # legacy Sources API
}

# Top-level customer attributes in previous_attributes → normalised change paths.
CHANGE_PATHS: dict[str, str] = {
    "name": "customer.name",
    "email": "customer.email",
    "currency": "customer.currency",
    "default_source": "customer.payment_method",
}

PAYMENT_METHOD_PATH = "customer.payment_method"


def payment_method_from_type(stripe_type: str | None) -> str:
    """The vocabulary value for a Stripe payment method type; no type means no method."""
    if not stripe_type:
        return pm.NONE
    if stripe_type in PAYMENT_METHOD_TYPES:
        return PAYMENT_METHOD_TYPES[stripe_type]
    if stripe_type.endswith("_debit"):
        return pm.DIRECT_DEBIT
    return pm.OTHER


def stripe_type_of(instrument: dict[str, Any]) -> str | None:
    """The type of a PaymentMethod, a legacy Source, or a legacy card/bank_account object."""
    kind = instrument.get("object")
    if kind in ("payment_method", "source"):
        return instrument.get("type")
    return kind if isinstance(kind, str) else None


def changed_paths(previous_attributes: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Normalised paths for the attributes a customer.updated event says changed."""
    paths: list[str] = []
    for key, old in previous_attributes.items():
        if key == "invoice_settings":
            if isinstance(old, dict) and "default_payment_method" in old:
                paths.append(PAYMENT_METHOD_PATH)
        elif key == "metadata":
            # previous_attributes.metadata names the keys that changed; an empty (or null)
            # old metadata means every current key is new.
            names = old or current.get("metadata") or {}
            paths.extend(f"customer.custom_fields.{name}" for name in names)
        elif key in CHANGE_PATHS:
            paths.append(CHANGE_PATHS[key])
    return paths
