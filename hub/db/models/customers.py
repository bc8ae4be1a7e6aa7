"""Customers, workflows, users and the per-field assignment state with its history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db.models.base import Base
from hub.db.types import JSONType, UTCDateTime, new_id, utcnow


class Workflow(Base):
    """A collection workflow; its id is what the API calls the dunningPlanId."""

    __tablename__ = "workflows"
    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    """A person who can be an account manager (and may hold an account_manager API key).

    The sign-in columns are written only by ``hub.services.directory.sign_in``: the password's
    argon2 hash, the failed attempts counted towards a lockout, and an invite's token hash."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-case
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32), default="account_manager")
    status: Mapped[str] = mapped_column(String(32), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invite_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invite_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A signed-in browser: the cookie carries the token, the row only its SHA-256 (like API keys).

    Signing out deletes the row, so a copied cookie stops working at once; ``csrf_token`` is the
    value every form of this session must echo."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Customer(Base):
    """A billing customer. Assignment columns are written only by the assignment service."""

    __tablename__ = "customers"
    # The customer list sorts by name, a page at a time: with the index, page 1,000 is a range
    # scan instead of a sort of every customer (docs/PERFORMANCE.md).
    __table_args__ = (Index("ix_customers_name_external_id", "name", "external_id"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    external_id: Mapped[str] = mapped_column(String(255), unique=True)
    source_system: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(320))
    currency: Mapped[str | None] = mapped_column(String(8))
    payment_method: Mapped[str | None] = mapped_column(String(32))
    workflow_id: Mapped[str | None] = mapped_column(
        ForeignKey("workflows.id", ondelete="RESTRICT"), index=True
    )
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Time (at its origin) of the vendor change that last set the profile: older events lose.
    profile_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    workflow: Mapped[Workflow | None] = relationship(lazy="joined")
    account_managers: Mapped[list[User]] = relationship(
        secondary="customer_account_managers",
        # Spelled out: the link table's customer_id has no foreign key (see its class).
        primaryjoin="Customer.id == foreign(CustomerAccountManager.customer_id)",
        secondaryjoin="User.id == foreign(CustomerAccountManager.user_id)",
        lazy="selectin",
        order_by="User.email",
    )
    # Who owns each assignment field: {field: {"source": "api", "changedAt": ISO 8601}}. On the
    # row itself, so the assignment service reads and writes a customer's whole assignment
    # state under the row lock it takes anyway, with no second table to read and write per field.
    ownership: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    @property
    def assignments(self) -> list[FieldOwner]:
        """The owned fields, by name (read-only: the assignment service writes ``ownership``)."""
        return sorted(read_ownership(self.ownership).values(), key=lambda owner: owner.field)


class CustomerAccountManager(Base):
    """A customer's account manager: one row per (customer, user).

    ``customer_id`` deliberately has no foreign key. Its only writer, the assignment service,
    writes a customer's managers while holding that customer's row lock, so the reference is
    valid by construction, and the hub never deletes customers. The key's per-row check (a
    ``SELECT ... FOR KEY SHARE`` on the customer for every row inserted) was a fifth of the
    database's work in a CSV import (see docs/PERFORMANCE.md). ``user_id`` keeps its key: the
    users table is small, so that check is cheap, and it keeps a manager from naming no one.
    """

    __tablename__ = "customer_account_managers"
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )


@dataclass(frozen=True)
class FieldOwner:
    """Who owns one assignment field of a customer, and the time of the change that set it."""

    field: str
    source: str
    changed_at: datetime


def read_ownership(stored: dict[str, Any] | None) -> dict[str, FieldOwner]:
    """``Customer.ownership`` as FieldOwners by field name."""
    return {name: FieldOwner(name, value["source"], parse_changed_at(value["changedAt"]))
            for name, value in (stored or {}).items()}


def ownership_json(owners: Iterable[FieldOwner]) -> dict[str, dict[str, str]]:
    """FieldOwners as ``Customer.ownership`` stores them."""
    return {owner.field: owner_json(owner.source, owner.changed_at)
            for owner in sorted(owners, key=lambda owner: owner.field)}


def owner_json(source: str, changed_at: datetime) -> dict[str, str]:
    """One field's owner as ``Customer.ownership`` stores it (the time in UTC, ISO 8601)."""
    return {"source": source, "changedAt": changed_at.astimezone(UTC).isoformat()}


def parse_changed_at(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class AssignmentHistory(Base):
    """Every decision of the assignment service, applied or not, with its cause.

    An append-only audit log, read per customer. ``customer_id`` deliberately has no foreign
    key: the only writer (the assignment service) records a decision for a customer it holds
    locked in the same transaction, so the reference is valid by construction, and an audit
    trail should outlive its subject rather than vanish in a cascade. The key's per-row check
    (a ``SELECT ... FOR KEY SHARE`` on the customer for every history row) was the largest
    single cost of a CSV import on PostgreSQL (see docs/PERFORMANCE.md).
    """

    __tablename__ = "assignment_history"
    __table_args__ = (Index("ix_assignment_history_customer_recorded", "customer_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(36))
    field: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    old_value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    owner_source: Mapped[str | None] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cause_type: Mapped[str] = mapped_column(String(32))
    cause_id: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str | None] = mapped_column(String(200))
