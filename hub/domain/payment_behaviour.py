"""How a customer pays: outstanding and overdue amounts, average payment delay and rating.

Pure functions of a customer's billing documents and today's date (contract: DESIGN.md,
'Payment behaviour'), so the same figures come out of an incremental update, the daily ageing
pass and a preview, and every number can be explained line by line (``Figures.lines``).

- **Outstanding**, per currency: what the customer has been invoiced (void invoices left out),
  less what they paid (unapplied payments included: money received is money received), less
  credit notes; a refund hands a payment back, so it counts against the payments.
- **Overdue**, per currency: what is still unpaid on invoices past their due date.
- **Average payment delay**, in days: Σ(amount × (paid date − due date)) / Σ amount over paid,
  overdue and disputed invoices, with today standing in for the paid date of those not paid; an
  early payment counts negative. Open invoices not yet due and void ones do not count.
- **Rating**, from the delay rounded to whole days, brackets inclusive: A ≤ 30, B ≤ 60, C ≤ 90,
  D ≥ 91; none for a customer with no invoice that counts.

The worked example: 140 paid 7 days late, 85 paid 55 days late, 214 overdue by 10 days →
(140×7 + 85×55 + 214×10) / 439 = 17.76 days → A.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class Kind(StrEnum):
    INVOICE = "invoice"
    PAYMENT = "payment"
    CREDIT_NOTE = "credit_note"
    REFUND = "refund"


class Status(StrEnum):
    OPEN = "open"
    PAID = "paid"
    OVERDUE = "overdue"
    DISPUTED = "disputed"
    VOID = "void"


BRACKETS = (("A", 30), ("B", 60), ("C", 90))  # inclusive upper bounds in whole days; above: D
SIGN = {Kind.INVOICE: 1, Kind.PAYMENT: -1, Kind.CREDIT_NOTE: -1, Kind.REFUND: 1}


@dataclass(frozen=True)
class Document:
    """One billing document as the figures need it. ``amount`` is in the currency's major unit;
    ``amount_paid`` is what was paid on an invoice so far."""

    kind: Kind
    reference: str
    amount: Decimal
    currency: str
    status: Status = Status.OPEN
    issued_on: date | None = None
    due_on: date | None = None
    paid_on: date | None = None
    amount_paid: Decimal = Decimal(0)

    def unpaid(self) -> Decimal:
        return max(self.amount - self.amount_paid, Decimal(0))

    def is_overdue(self, today: date) -> bool:
        """Unpaid and past due (a vendor's own 'overdue' status, or an open one whose date passed)."""
        if self.kind is not Kind.INVOICE or self.status in (Status.PAID, Status.VOID):
            return False
        return self.status is Status.OVERDUE or (self.due_on is not None and self.due_on < today)


@dataclass(frozen=True)
class DelayLine:
    """One invoice's part in the average delay: why it counts and for how many days."""

    reference: str
    amount: Decimal
    due_on: date
    until: date  # the paid date, or today for an invoice not paid
    paid: bool

    @property
    def days(self) -> int:
        return (self.until - self.due_on).days


@dataclass(frozen=True)
class Figures:
    outstanding: dict[str, Decimal]
    overdue: dict[str, Decimal]
    average_delay_days: Decimal | None  # one decimal
    rating: str | None
    lines: tuple[DelayLine, ...]  # the invoices behind the delay, for the customer page

    @property
    def weighted_days(self) -> Decimal:
        return sum((line.amount * line.days for line in self.lines), Decimal(0))

    @property
    def weight(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


def figures(documents: list[Document], today: date) -> Figures:
    outstanding: dict[str, Decimal] = defaultdict(Decimal)
    overdue: dict[str, Decimal] = defaultdict(Decimal)
    lines = []
    for doc in documents:
        if doc.kind is Kind.INVOICE and doc.status is Status.VOID:
            continue
        outstanding[doc.currency] += SIGN[doc.kind] * doc.amount
        if doc.is_overdue(today):
            overdue[doc.currency] += doc.unpaid()
        line = _delay_line(doc, today)
        if line is not None:
            lines.append(line)
    average = _average(lines)
    return Figures(dict(outstanding), {c: a for c, a in overdue.items() if a}, average, rating_of(average),
                   tuple(sorted(lines, key=lambda line: (line.due_on, line.reference))))


def rating_of(average_delay_days: Decimal | None) -> str | None:
    """A–D from the delay rounded to whole days (half up), so the brackets leave no gap."""
    if average_delay_days is None:
        return None
    days = average_delay_days.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return next((letter for letter, upper in BRACKETS if days <= upper), "D")


def _delay_line(doc: Document, today: date) -> DelayLine | None:
    if doc.kind is not Kind.INVOICE or doc.due_on is None or doc.amount <= 0:
        return None
    if doc.status is Status.PAID and doc.paid_on is not None:
        return DelayLine(doc.reference, doc.amount, doc.due_on, doc.paid_on, paid=True)
    if doc.status is Status.DISPUTED or doc.is_overdue(today):
        until = doc.paid_on or today
        return DelayLine(doc.reference, doc.amount, doc.due_on, until, paid=doc.paid_on is not None)
    return None  # open and not yet due, or void


def _average(lines: list[DelayLine]) -> Decimal | None:
    weight = sum((line.amount for line in lines), Decimal(0))
    if not weight:
        return None
    weighted = sum((line.amount * line.days for line in lines), Decimal(0))
    return (weighted / weight).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
