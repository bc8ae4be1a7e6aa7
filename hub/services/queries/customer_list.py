"""The customer list page at 100,000 customers: one page of rows in the chosen order and columns,
the total, and what the filter form offers (workflows, account managers, custom field keys).

A page costs a fixed handful of queries, however many rows or managers it shows: the count; the
page's ids in order (a narrow query: only the id and the sort key travel, so a deep page or a
sort on a column without an index sorts small rows); those rows with their workflow names; and
their managers in one query. The custom field keys come from every customer's JSON, which is a
full scan, so they are kept in process for a minute (a new key shows up in the form at most a
minute late; filtering on it works at once).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from hub.db.engine import Database
from hub.db.models import Customer, CustomerAccountManager, User, Workflow
from hub.services.directory.customers import CustomerFilter
from hub.services.directory.saved_views import VisibleViews, visible_views
from hub.services.hub import Hub
from hub.services.pages import Page

CUSTOM_PREFIX = "cf."
# Column key → header. The external id is always the first column, whatever ``cols`` says.
BASE_COLUMNS = {
    "external_id": "External id", "name": "Name", "email": "Email", "currency": "Currency",
    "payment_method": "Payment method", "source_system": "Source system", "workflow": "Workflow",
    "account_managers": "Account managers", "updated": "Updated",
}
DEFAULT_COLUMNS = ("name", "workflow", "account_managers", "source_system")
UNSORTABLE = frozenset({"account_managers"})  # a list: no single value to order by
DEFAULT_SORT = "external_id"
MAX_COLUMNS = 40
MAX_KEY = 100
KEYS_TTL_SECONDS = 60.0


def parse_columns(raw: str) -> tuple[str, ...]:
    """``cols``: column keys, comma separated, in display order (ValueError names a bad one).
    ``external_id`` alone means "only the external id"; elsewhere it is redundant and dropped."""
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if len(keys) > MAX_COLUMNS:
        raise ValueError(f"at most {MAX_COLUMNS} columns")
    seen: set[str] = set()
    for key in keys:
        if not is_column(key):
            raise ValueError(f"{key!r} is not a column (one of {', '.join(BASE_COLUMNS)} or cf.<key>)")
        if key in seen:
            raise ValueError(f"{key!r} is listed twice")
        seen.add(key)
    return tuple(key for key in keys if key != "external_id")


def parse_sort(raw: str) -> str:
    """``sort``: a column key, ``-`` in front for descending (ValueError names a bad one)."""
    key = raw[1:] if raw.startswith("-") else raw
    if not is_column(key) or key in UNSORTABLE:
        raise ValueError(f"{key!r} is not a sortable column")
    return raw


def is_column(key: str) -> bool:
    if key.startswith(CUSTOM_PREFIX):
        name = key[len(CUSTOM_PREFIX):]
        return 0 < len(name) <= MAX_KEY and "," not in name
    return key in BASE_COLUMNS


def column_label(key: str) -> str:
    return BASE_COLUMNS.get(key) or key[len(CUSTOM_PREFIX):]


@dataclass(frozen=True)
class CustomerRow:
    """One customer as the list shows it: plain values, read after the transaction is over."""

    external_id: str
    name: str | None
    email: str | None
    currency: str | None
    payment_method: str | None
    source_system: str | None
    workflow_id: str | None
    workflow_name: str | None
    updated_at: datetime | None
    custom_fields: dict[str, Any]
    account_managers: list[str]

    def custom(self, key: str) -> Any:
        return (self.custom_fields or {}).get(key)


@dataclass(frozen=True)
class ManagerChoice:
    email: str
    name: str | None


@dataclass(frozen=True)
class WorkflowChoice:
    id: str
    name: str


@dataclass(frozen=True)
class CustomerList:
    page: Page[CustomerRow]
    workflows: list[WorkflowChoice]
    managers: list[ManagerChoice]
    custom_keys: list[str]
    views: VisibleViews | None  # None when no user asked (the benchmark's API-like use)


def customer_list(hub: Hub, flt: CustomerFilter, sort: str | None, offset: int, limit: int,
                  user_id: str | None = None) -> CustomerList:
    """Everything the list page shows, read in one read-only transaction (the count and the
    page agree), the custom field keys from the minute-long cache. An account manager is offered
    only the keys their own customers have (read at once: a manager's customers are few), so the
    form tells nothing of other managers' customers."""
    keys = custom_field_keys(hub) if not flt.visible_to_user_id else None
    with hub.uow(read_only=True) as uow:
        session = uow.session
        if keys is None:
            keys = read_custom_field_keys(session, flt.visible_to_user_id)
        page = customer_page(session, flt, sort or DEFAULT_SORT, offset, limit)
        return CustomerList(page, workflow_choices(session), manager_choices(session), keys,
                            visible_views(session, user_id) if user_id else None)


def customer_page(session: Session, flt: CustomerFilter, sort: str, offset: int,
                  limit: int) -> Page[CustomerRow]:
    """A page and the total. A page that is not full tells the total by itself: a filter that
    matches few customers (a text search) then costs one scan instead of two."""
    where = _planned(flt)
    ids_stmt = where(select(Customer.id))
    if sort.lstrip("-") == "workflow":
        ids_stmt = ids_stmt.outerjoin(Workflow, Workflow.id == Customer.workflow_id)
    ids = list(session.scalars(ids_stmt.order_by(*_order(sort)).offset(offset).limit(limit)))
    if len(ids) < limit and (ids or offset == 0):
        total = offset + len(ids)
    else:
        total = session.scalar(where(select(func.count()).select_from(Customer))) or 0
    return Page(offset, limit, total, _rows(session, ids))


def _planned(flt: CustomerFilter) -> Callable[[Select], Select]:
    """``flt.apply``, with the manager conditions (the viewer's scope, the manager filter) read
    first as materialized CTEs. PostgreSQL has no statistics for a custom field condition and
    guesses it keeps 0.5 % of the rows; with a manager's customers as an IN subquery it then
    probes the link table once per matching customer (60,000 probes, 650 ms for an account
    manager's ``cf.segment=smb`` at 100,000 customers). Read first, a manager's few thousand
    customers are looked up by key instead (90 ms). Same rows as ``flt.apply``."""
    if not (flt.visible_to_user_id or flt.account_manager):
        return flt.apply
    rest = replace(flt, visible_to_user_id=None, account_manager=None)
    scopes = []
    if flt.visible_to_user_id:
        scopes.append(select(CustomerAccountManager.customer_id)
                      .where(CustomerAccountManager.user_id == flt.visible_to_user_id)
                      .cte("visible_customers").prefix_with("MATERIALIZED"))
    if flt.account_manager:
        scopes.append(select(CustomerAccountManager.customer_id)
                      .join(User, User.id == CustomerAccountManager.user_id)
                      .where(User.email == flt.account_manager.strip().lower())
                      .cte("managed_customers").prefix_with("MATERIALIZED"))

    def where(stmt: Select) -> Select:
        return rest.apply(stmt).where(*(Customer.id.in_(select(s.c.customer_id)) for s in scopes))

    return where


def _order(sort: str) -> list[Any]:
    """The chosen order, then the external id in the same direction: stable across pages, and
    one index on (column, external_id) can serve both directions. Blanks sort where the
    database puts them (first on SQLite, last on PostgreSQL), which keeps such an index usable."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    columns = [Customer.external_id] if key == "external_id" else [_sort_column(key), Customer.external_id]
    return [column.desc() if descending else column.asc() for column in columns]


def _sort_column(key: str) -> Any:
    if key.startswith(CUSTOM_PREFIX):
        return Customer.custom_fields[key[len(CUSTOM_PREFIX):]].as_string()
    return {"name": Customer.name, "email": Customer.email, "currency": Customer.currency,
            "payment_method": Customer.payment_method, "source_system": Customer.source_system,
            "workflow": Workflow.name, "updated": Customer.updated_at}[key]


def _rows(session: Session, ids: Sequence[str]) -> list[CustomerRow]:
    if not ids:
        return []
    found = session.execute(
        select(Customer.id, Customer.external_id, Customer.name, Customer.email, Customer.currency,
               Customer.payment_method, Customer.source_system, Customer.workflow_id,
               Workflow.name, Customer.updated_at, Customer.custom_fields)
        .outerjoin(Workflow, Workflow.id == Customer.workflow_id)
        .where(Customer.id.in_(ids))
    ).all()
    managers: dict[str, list[str]] = {}
    for customer_id, email in session.execute(
        select(CustomerAccountManager.customer_id, User.email)
        .join(User, User.id == CustomerAccountManager.user_id)
        .where(CustomerAccountManager.customer_id.in_(ids))
        .order_by(User.email)
    ):
        managers.setdefault(customer_id, []).append(email)
    by_id = {row[0]: CustomerRow(*row[1:], account_managers=managers.get(row[0], []))
             for row in found}
    return [by_id[i] for i in ids if i in by_id]


def workflow_choices(session: Session) -> list[WorkflowChoice]:
    return [WorkflowChoice(wid, name) for wid, name in
            session.execute(select(Workflow.id, Workflow.name).order_by(Workflow.name))]


def manager_choices(session: Session) -> list[ManagerChoice]:
    """Users with the account_manager role, and anyone else who manages a customer today."""
    manages = exists().where(CustomerAccountManager.user_id == User.id)
    rows = session.execute(select(User.email, User.name)
                           .where(or_(User.role == "account_manager", manages)).order_by(User.email))
    return [ManagerChoice(email, name) for email, name in rows]


_keys_cache: weakref.WeakKeyDictionary[Database, tuple[float, list[str]]] = weakref.WeakKeyDictionary()
_keys_lock = threading.Lock()
_refreshing: weakref.WeakSet[Database] = weakref.WeakSet()


def custom_field_keys(hub: Hub) -> list[str]:
    """The custom field keys some customer has, sorted, cached per database for a minute.

    Only the first call waits for the scan; after a minute the cached keys are still answered
    while one background thread reads them again, so no page pays the scan (half a second at
    100,000 customers on SQLite) once the process is warm."""
    with _keys_lock:
        cached = _keys_cache.get(hub.db)
        stale = cached is not None and time.monotonic() - cached[0] >= KEYS_TTL_SECONDS
        if stale and hub.db not in _refreshing:
            _refreshing.add(hub.db)
            threading.Thread(target=_refresh_keys, args=(hub,), daemon=True,
                             name="custom-field-keys").start()
    if cached is not None:
        return cached[1]
    return _refresh_keys(hub)


def _refresh_keys(hub: Hub) -> list[str]:
    try:
        with hub.uow(read_only=True) as uow:
            keys = read_custom_field_keys(uow.session)
        with _keys_lock:
            _keys_cache[hub.db] = (time.monotonic(), keys)
        return keys
    finally:
        with _keys_lock:
            _refreshing.discard(hub.db)


def forget_custom_field_keys(hub: Hub) -> None:
    """For a writer that adds a key and wants the form to offer it at once (and for tests)."""
    with _keys_lock:
        _keys_cache.pop(hub.db, None)


def read_custom_field_keys(session: Session, managed_by_user_id: str | None = None) -> list[str]:
    """The keys some customer has (only the customers this user manages, when given)."""
    if session.get_bind().dialect.name == "postgresql":
        key = func.jsonb_object_keys(Customer.custom_fields)
        stmt = (select(key).where(func.jsonb_typeof(Customer.custom_fields) == "object")
                .distinct())
    else:
        entries = func.json_each(Customer.custom_fields).table_valued("key").alias("entry")
        stmt = (select(entries.c.key).select_from(Customer).join(entries, entries.c.key.is_not(None))
                .where(func.json_type(Customer.custom_fields) == "object").distinct())
    if managed_by_user_id:
        stmt = stmt.where(Customer.id.in_(select(CustomerAccountManager.customer_id).where(
            CustomerAccountManager.user_id == managed_by_user_id)))
    return sorted(str(k) for k in session.scalars(stmt) if k is not None)
