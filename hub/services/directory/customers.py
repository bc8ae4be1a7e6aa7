"""Reading customers: find one, list by filter, a customer's assignment history, export.csv.

Writing them is ``hub.services.directory.customer_writes``. The functions taking the Hub open
their own read-only unit of work and return rows that stay readable after it closes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from hub.db.models import AssignmentHistory, Customer, CustomerAccountManager, User, Workflow
from hub.errors import NotFound
from hub.services.hub import Hub
from hub.services.pages import Page

MAX_LIMIT = 500


@dataclass(frozen=True)
class CustomerFilter:
    dunning_plan_id: str | None = None
    workflow_name: str | None = None
    account_manager: str | None = None
    text: str | None = None
    external_ids: tuple[str, ...] | None = None
    custom_fields: dict[str, str] = field(default_factory=dict)
    unassigned: bool | None = None
    visible_to_user_id: str | None = None  # account_manager keys see only their customers

    def apply(self, stmt: Select) -> Select:
        conditions = []
        if self.dunning_plan_id:
            conditions.append(Customer.workflow_id == self.dunning_plan_id)
        if self.workflow_name:
            names = select(Workflow.id).where(Workflow.name == self.workflow_name)
            conditions.append(Customer.workflow_id.in_(names))
        if self.unassigned:
            conditions.append(Customer.workflow_id.is_(None))
        if self.account_manager:
            conditions.append(Customer.id.in_(_managed_by_email(self.account_manager)))
        if self.visible_to_user_id:
            conditions.append(Customer.id.in_(_managed_by_user(self.visible_to_user_id)))
        if self.text:
            # % and _ are what the user typed, not wildcards: "100%" finds "100%", not everything.
            pattern = "%" + _escape_like(self.text.lower()) + "%"
            conditions.append(
                or_(
                    func.lower(Customer.name).like(pattern, escape="\\"),
                    func.lower(Customer.email).like(pattern, escape="\\"),
                    func.lower(Customer.external_id).like(pattern, escape="\\"),
                )
            )
        if self.external_ids is not None:
            conditions.append(Customer.external_id.in_(self.external_ids))
        for key, value in self.custom_fields.items():
            conditions.append(Customer.custom_fields[key].as_string() == value)
        return stmt.where(and_(*conditions)) if conditions else stmt


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _managed_by_user(user_id: str) -> Select:
    return select(CustomerAccountManager.customer_id).where(
        CustomerAccountManager.user_id == user_id
    )


def _managed_by_email(email: str) -> Select:
    return (
        select(CustomerAccountManager.customer_id)
        .join(User, User.id == CustomerAccountManager.user_id)
        .where(User.email == email.strip().lower())
    )


def list_customers(hub: Hub, flt: CustomerFilter, offset: int, limit: int) -> Page[Customer]:
    with hub.uow(read_only=True) as uow:
        total = uow.session.scalar(flt.apply(select(func.count(Customer.id)))) or 0
        stmt = flt.apply(select(Customer)).order_by(Customer.external_id).offset(offset).limit(limit)
        return Page(offset, limit, total, list(uow.session.scalars(stmt).unique()))


def get_customer(hub: Hub, ref: str, visible_to_user_id: str | None = None) -> Customer:
    with hub.uow(read_only=True) as uow:
        return find_customer(uow.session, ref, visible_to_user_id)


@dataclass(frozen=True)
class CustomerHistory:
    """A page of one customer's assignment history, newest first."""

    customer_id: str
    offset: int
    limit: int
    rows: list[AssignmentHistory]


def customer_history(hub: Hub, ref: str, visible_to_user_id: str | None, offset: int,
                     limit: int) -> CustomerHistory:
    with hub.uow(read_only=True) as uow:
        customer = find_customer(uow.session, ref, visible_to_user_id)
        rows = uow.session.scalars(
            select(AssignmentHistory)
            .where(AssignmentHistory.customer_id == customer.id)
            .order_by(AssignmentHistory.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return CustomerHistory(customer.id, offset, limit, list(rows))


def iter_customers(session: Session, flt: CustomerFilter, batch: int = 1000) -> Iterator[Customer]:
    """Every matching customer, by keyset pages so memory stays flat on large exports."""
    last = ""
    while True:
        stmt = (
            flt.apply(select(Customer))
            .where(Customer.external_id > last)
            .order_by(Customer.external_id)
            .limit(batch)
        )
        page = list(session.scalars(stmt).unique())
        yield from page
        if len(page) < batch:
            return
        last = page[-1].external_id
        session.expunge_all()


def find_customer(session: Session, ref: str, visible_to_user_id: str | None = None) -> Customer:
    """By hub id, or by external id written as ``external:{externalId}``."""
    if ref.startswith("external:"):
        stmt = select(Customer).where(Customer.external_id == ref[len("external:") :])
    else:
        stmt = select(Customer).where(Customer.id == ref)
    if visible_to_user_id:
        stmt = stmt.where(Customer.id.in_(_managed_by_user(visible_to_user_id)))
    customer = session.scalars(stmt).unique().one_or_none()
    if customer is None:
        raise NotFound(f"customer {ref} not found", code="customer_not_found")
    return customer


EXPORT_COLUMNS = ("External Id", "Name", "Account manager email", "Workflow name")


def export_file(hub: Hub, flt: CustomerFilter) -> tuple[BinaryIO, int]:
    """export.csv, written whole (UTF-8 with a BOM, cells escaped as the API's), rewound; its size.

    Written in a read-only transaction (no SQLite write lock) that is over before the first
    byte is sent, so a slow client holds no transaction."""
    from hub.csvfile.report import iter_csv, spool

    with hub.uow(read_only=True) as uow:
        return spool(iter_csv(EXPORT_COLUMNS, export_rows(uow.session, flt)))


def export_rows(session: Session, flt: CustomerFilter, batch: int = 2000) -> Iterator[list[str]]:
    """Rows for export.csv, in the columns the CSV import reads back (Name is informative).

    Plain rows by keyset pages, the managers of a page in one query: no ORM objects, so 100,000
    customers export in a few seconds and memory stays flat.
    """
    from hub.csvfile.report import format_emails

    last = ""
    while True:
        page = session.execute(
            flt.apply(select(Customer.id, Customer.external_id, Customer.name, Workflow.name)
                      .outerjoin(Workflow, Workflow.id == Customer.workflow_id))
            .where(Customer.external_id > last).order_by(Customer.external_id).limit(batch)
        ).all()
        managers: dict[str, list[str]] = {}
        for customer_id, email in session.execute(
            select(CustomerAccountManager.customer_id, User.email)
            .join(User, User.id == CustomerAccountManager.user_id)
            .where(CustomerAccountManager.customer_id.in_([row[0] for row in page]))
            .order_by(User.email)
        ):
            managers.setdefault(customer_id, []).append(email)
        for customer_id, external_id, name, workflow in page:
            yield [external_id, name or "", format_emails(managers.get(customer_id, [])), workflow or ""]
        if len(page) < batch:
            return
        last = page[-1][1]
