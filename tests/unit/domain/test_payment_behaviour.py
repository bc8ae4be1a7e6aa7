"""Outstanding, overdue, average payment delay and rating (hub.domain.payment_behaviour)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from hub.domain.payment_behaviour import Document, Kind, Status, figures, rating_of

TODAY = date(2026, 12, 4)


def invoice(ref: str, amount: str, due: date, status: Status = Status.OPEN, paid_on: date | None = None,
            currency: str = "eur", amount_paid: str = "0") -> Document:
    return Document(Kind.INVOICE, ref, Decimal(amount), currency, status, issued_on=due - timedelta(days=30),
                    due_on=due, paid_on=paid_on, amount_paid=Decimal(amount_paid))


def paid_late(ref: str, amount: str, days: int, due: date = date(2026, 10, 1)) -> Document:
    return invoice(ref, amount, due, Status.PAID, paid_on=due + timedelta(days=days), amount_paid=amount)


def money(ref: str, kind: Kind, amount: str, currency: str = "eur") -> Document:
    return Document(kind, ref, Decimal(amount), currency, Status.PAID)


def test_the_worked_example_is_17_8_days_and_rated_a():
    docs = [paid_late("in_1", "140", 7), paid_late("in_2", "85", 55),
            invoice("in_3", "214", TODAY - timedelta(days=10)),
            money("py_1", Kind.PAYMENT, "140"), money("py_2", Kind.PAYMENT, "85")]
    result = figures(docs, TODAY)
    assert result.average_delay_days == Decimal("17.8")  # 7,795 / 439 = 17.756
    assert (result.weighted_days, result.weight) == (Decimal(7795), Decimal(439))
    assert result.rating == "A"
    assert result.outstanding == {"eur": Decimal(214)}
    assert result.overdue == {"eur": Decimal(214)}
    assert [(line.reference, line.days, line.paid) for line in result.lines] == [
        ("in_1", 7, True), ("in_2", 55, True), ("in_3", 10, False)]


@pytest.mark.parametrize(("days", "rating"), [
    ("-5", "A"), ("0", "A"), ("30", "A"), ("30.4", "A"), ("30.5", "B"), ("31", "B"), ("60", "B"),
    ("60.5", "C"), ("61", "C"), ("90", "C"), ("90.4", "C"), ("90.5", "D"), ("91", "D"), ("400", "D"),
])
def test_every_bracket_edge(days, rating):
    assert rating_of(Decimal(days)) == rating


def test_no_invoice_that_counts_means_no_delay_and_no_rating():
    assert figures([], TODAY).rating is None
    not_yet_due = figures([invoice("in_1", "100", TODAY + timedelta(days=5))], TODAY)
    assert (not_yet_due.average_delay_days, not_yet_due.rating) == (None, None)
    assert not_yet_due.outstanding == {"eur": Decimal(100)} and not_yet_due.overdue == {}


def test_early_payment_counts_negative_and_void_invoices_do_not_count():
    docs = [paid_late("in_1", "100", -10), invoice("in_2", "500", TODAY - timedelta(days=200), Status.VOID)]
    result = figures(docs, TODAY)
    assert result.average_delay_days == Decimal("-10.0")
    assert result.rating == "A"
    assert result.outstanding == {"eur": Decimal(100)}  # the void invoice is not owed


def test_a_disputed_invoice_counts_until_today_and_an_overdue_status_from_the_vendor_counts():
    docs = [invoice("in_1", "100", TODAY - timedelta(days=40), Status.DISPUTED),
            invoice("in_2", "100", TODAY - timedelta(days=80), Status.OVERDUE)]
    assert figures(docs, TODAY).average_delay_days == Decimal("60.0")
    assert figures(docs, TODAY).rating == "B"


def test_outstanding_per_currency_with_unapplied_payments_credit_notes_and_refunds():
    docs = [invoice("in_1", "1000", TODAY + timedelta(days=10)),
            invoice("in_2", "300", TODAY, currency="usd"),
            money("py_1", Kind.PAYMENT, "250"),  # unapplied: still money received
            money("cn_1", Kind.CREDIT_NOTE, "100"),
            money("py_2", Kind.PAYMENT, "300", currency="usd"),
            money("re_1", Kind.REFUND, "50", currency="usd")]
    result = figures(docs, TODAY)
    assert result.outstanding == {"eur": Decimal(650), "usd": Decimal(50)}  # a refund hands money back


def test_overdue_is_what_is_still_unpaid_on_invoices_past_due():
    docs = [invoice("in_1", "1000", TODAY - timedelta(days=1), amount_paid="400"),
            invoice("in_2", "500", TODAY)]  # due today: not overdue yet
    assert figures(docs, TODAY).overdue == {"eur": Decimal(600)}


def test_ageing_moves_a_customer_from_a_to_c_as_days_pass_unpaid():
    docs = [paid_late("in_1", "100", 5), invoice("in_2", "100", date(2026, 11, 1))]
    assert figures(docs, date(2026, 11, 20)).rating == "A"  # (5 + 19) / 2 = 12
    assert figures(docs, date(2027, 3, 1)).rating == "C"  # (5 + 120) / 2 = 62.5 → 63
