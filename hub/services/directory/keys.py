"""API keys: created once and shown once, stored as SHA-256 hashes, checked in constant time.

The functions taking the Hub open (and commit) their own unit of work, for the API and the CLI
alike; ``create_key`` takes a Session for callers already inside a transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.models import ApiKey, User
from hub.db.types import utcnow
from hub.errors import AuthenticationRequired, NotFound, ValidationFailed
from hub.services.hub import Hub

ROLES = ("admin", "integration", "account_manager")
PREFIX = "hub_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: enough to authorise and to name the caller in the history."""

    key_id: str
    name: str
    role: str
    user_id: str | None = None

    @property
    def actor(self) -> str:
        return f"key:{self.name}"


def hash_key(raw: str) -> str:
    # Keys are 256-bit random strings, so a fast hash is enough (no password stretching).
    return hashlib.sha256(raw.encode()).hexdigest()


def create_key(
    session: Session, name: str, role: str, user_email: str | None = None
) -> tuple[ApiKey, str]:
    if role not in ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(ROLES)}")
    user_id = None
    if role == "account_manager":
        user = session.scalar(select(User).where(User.email == (user_email or "").lower()))
        if user is None:
            raise ValidationFailed(f"an account_manager key needs an existing user: {user_email}")
        user_id = user.id
    raw = PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(name=name, prefix=raw[:10], key_hash=hash_key(raw), role=role, user_id=user_id)
    session.add(key)
    session.flush()
    return key, raw


def issue_key(hub: Hub, name: str, role: str, user_email: str | None = None) -> tuple[ApiKey, str]:
    """A new key, committed; the raw key is returned this once and never stored."""
    with hub.uow() as uow:
        key, raw = create_key(uow.session, name, role, user_email)
        uow.commit()
    return key, raw


def authenticate(hub: Hub, raw: str | None) -> Principal:
    """Who sends ``raw``, on every API request: a read-only transaction, so a request never
    queues behind a writer on SQLite just to be authenticated."""
    if not raw:
        raise AuthenticationRequired("missing API key: send Authorization: Bearer <key>")
    bootstrap_admin_key = hub.settings.admin_api_key
    if bootstrap_admin_key and hmac.compare_digest(raw.encode(), bootstrap_admin_key.encode()):
        return Principal(key_id="bootstrap", name="bootstrap-admin", role="admin")
    with hub.uow(read_only=True) as uow:
        key = uow.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(raw)))
    if key is None or key.revoked_at is not None:
        raise AuthenticationRequired("unknown or revoked API key")
    return Principal(key_id=key.id, name=key.name, role=key.role, user_id=key.user_id)


def list_keys(hub: Hub) -> list[ApiKey]:
    """Every key, newest first; revoked ones too (the history names them)."""
    with hub.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.name)))


def revoke_key(hub: Hub, key_id: str) -> ApiKey:
    """Revoke by id or by the prefix shown at creation; revoking twice changes nothing."""
    with hub.uow() as uow:
        session = uow.session
        key = session.get(ApiKey, key_id) or session.scalar(select(ApiKey).where(ApiKey.prefix == key_id))
        if key is None:
            raise NotFound(f"no API key {key_id!r}", code="key_not_found")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
        uow.commit()
    return key
