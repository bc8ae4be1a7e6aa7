"""The one payment-method vocabulary every connector maps its vendor's values into."""

from __future__ import annotations

CARD = "card"
SEPA_DEBIT = "sepa_debit"
ACH_DEBIT = "ach_debit"
BACS_DEBIT = "bacs_debit"
DIRECT_DEBIT = "direct_debit"  # any other direct-debit scheme (BECS, ACSS, Autogiro, ...)
PAYPAL = "paypal"
BANK_TRANSFER = "bank_transfer"
CHECK = "check"
CASH = "cash"
OTHER = "other"
NONE = "none"

VOCABULARY: tuple[str, ...] = (
    CARD,
    SEPA_DEBIT,
    ACH_DEBIT,
    BACS_DEBIT,
    DIRECT_DEBIT,
    PAYPAL,
    BANK_TRANSFER,
    CHECK,
    CASH,
    OTHER,
    NONE,
)


def is_known(value: str | None) -> bool:
    return value in VOCABULARY
