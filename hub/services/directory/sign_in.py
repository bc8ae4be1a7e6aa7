"""Signing in to the pages: passwords (argon2id), lockout, invites and server-side sessions.

The only writer of the users' sign-in columns and of ``web_sessions``. A browser holds a random
token in its cookie; the database keeps only the token's SHA-256, as it does for API keys, so a
copy of the database signs no one in. Passwords are stretched with argon2id (argon2-cffi's
defaults, the RFC 9106 low-memory profile) because, unlike API keys, people choose them.

Lockout: after ``sign_in_attempts`` wrong passwords in a row the account refuses even the right
one for ``lockout_minutes``; a success resets the count. An unknown email costs the same hash
as a known one, so the answer's timing does not tell which emails exist.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hub.db.models import User, WebSession
from hub.db.types import utcnow
from hub.errors import AuthenticationRequired, Conflict, NotFound, ValidationFailed
from hub.services.directory import workflows
from hub.services.hub import Hub

MIN_PASSWORD = 10
MAX_PASSWORD = 256  # argon2 takes any length; a bound keeps a request's work bounded
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("an email nobody has")


class SignInRefused(AuthenticationRequired):
    """Wrong email or password, said the same way for both."""

    code = "sign_in_refused"


class AccountLocked(AuthenticationRequired):
    code = "account_locked"


@dataclass(frozen=True)
class SignedIn:
    """Who a page request comes from: enough to authorise, to scope and to name in the history."""

    user_id: str
    email: str
    name: str | None
    role: str
    csrf_token: str

    @property
    def actor(self) -> str:
        return f"user:{self.email}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_rules(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValidationFailed(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")


def _user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def set_password(hub: Hub, email: str, password: str) -> User:
    """`hub users set-password`: a new password; the lockout and any open invite end."""
    check_password_rules(password)
    with hub.uow() as uow:
        user = _user_by_email(uow.session, email)
        if user is None:
            raise NotFound(f"no user with email {email}", code="user_not_found")
        _store_password(user, password)
        uow.commit()
    return user


def _store_password(user: User, password: str) -> None:
    user.password_hash = _hasher.hash(password)
    user.failed_sign_ins, user.locked_until = 0, None
    user.invite_hash, user.invite_expires_at = None, None
    if user.status in ("invited", "not_invited"):
        user.status = "active"


def invite(hub: Hub, email: str) -> str:
    """A one-time token for the invite link; only its hash is kept, a new invite replaces it."""
    with hub.uow() as uow:
        user = _user_by_email(uow.session, email)
        if user is None:
            raise NotFound(f"no user with email {email}", code="user_not_found")
        token, _ = _issue_invite(user, hub.settings.invite_hours)
        uow.commit()
    return token


def _issue_invite(user: User, hours: int) -> tuple[str, datetime]:
    """A new token replaces the user's last one: only the newest link works."""
    token, expires_at = secrets.token_urlsafe(32), utcnow() + timedelta(hours=hours)
    user.invite_hash, user.invite_expires_at = _digest(token), expires_at
    if user.status == "not_invited":
        user.status = "invited"
    return token, expires_at


@dataclass(frozen=True)
class Invitation:
    """A fresh invite link's token (shown once: only its hash is kept) and whom it lets in."""

    token: str
    email: str
    role: str
    expires_at: datetime
    created: bool  # there was no user with this email before


def invite_new_user(hub: Hub, email: str, name: str | None, role: str | None) -> Invitation:
    """The users page's "Invite a user": creates the user (with this name and role) when there is
    none with this email, else gives the existing one a fresh link that replaces their last.

    An existing user keeps their role and name: an invite is about signing in, and re-sending
    one must not change what someone may do by accident (the page says when the role differs).
    A deactivated user is refused, since their link would sign no one in."""
    address = email.strip().lower()
    if not workflows.EMAIL.match(address):
        raise ValidationFailed(f"not a valid email: {email.strip()!r}", code="email_invalid")
    if role is not None and role not in workflows.USER_ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(workflows.USER_ROLES)}")
    with hub.uow() as uow:
        user = _user_by_email(uow.session, address)
        created = user is None
        if user is None:
            if role is None:
                raise ValidationFailed("choose a role for the new user", code="role_required")
            user = workflows.new_user(uow.session, {"email": address, "name": name or None,
                                                    "role": role, "status": "not_invited"})
        elif user.status == "deactivated":
            raise Conflict(f"{address} is deactivated: an invite would not let them sign in")
        token, expires_at = _issue_invite(user, hub.settings.invite_hours)
        uow.commit()
    return Invitation(token, user.email, user.role, expires_at, created)


def invited_user(hub: Hub, token: str) -> User:
    with hub.uow(read_only=True) as uow:
        return _open_invite(uow.session, token)


def _open_invite(session: Session, token: str) -> User:
    user = session.scalar(select(User).where(User.invite_hash == _digest(token)))
    if user is None or user.invite_expires_at is None or user.invite_expires_at < utcnow():
        raise NotFound("this invite link is unknown, used or expired; ask an admin for a new one",
                       code="invite_not_found")
    return user


def accept_invite(hub: Hub, token: str, password: str) -> str:
    """The invited user chooses a password and is signed in; the link then stops working."""
    check_password_rules(password)
    with hub.uow() as uow:
        user = _open_invite(uow.session, token)
        _store_password(user, password)
        session_token = _open_session(uow.session, user, hub.settings.session_hours)
        uow.commit()
    return session_token


def sign_in(hub: Hub, email: str, password: str) -> str:
    """A new session token for the cookie, or SignInRefused / AccountLocked.

    A failed attempt is committed before the refusal is raised, so the count survives it."""
    if len(password) > MAX_PASSWORD:
        raise SignInRefused("wrong email or password")
    now = utcnow()
    with hub.uow() as uow:
        user = _user_by_email(uow.session, email)
        if user is None or user.password_hash is None or user.status == "deactivated":
            _verify(_DUMMY_HASH, password)
            raise SignInRefused("wrong email or password")
        if user.locked_until and user.locked_until > now:
            raise AccountLocked(f"too many wrong passwords: this account is locked until "
                                f"{user.locked_until:%H:%M} UTC")
        if not _verify(user.password_hash, password):
            _count_failure(user, hub, now)
            uow.commit()
            if user.locked_until:
                raise AccountLocked(f"too many wrong passwords: this account is locked for "
                                    f"{hub.settings.lockout_minutes} minutes")
            raise SignInRefused("wrong email or password")
        user.failed_sign_ins, user.locked_until = 0, None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        token = _open_session(uow.session, user, hub.settings.session_hours)
        uow.commit()
    return token


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _count_failure(user: User, hub: Hub, now: datetime) -> None:
    user.failed_sign_ins = (user.failed_sign_ins or 0) + 1
    if user.failed_sign_ins >= hub.settings.sign_in_attempts:
        user.locked_until = now + timedelta(minutes=hub.settings.lockout_minutes)
        user.failed_sign_ins = 0


def _open_session(session: Session, user: User, hours: int) -> str:
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_digest(token), user_id=user.id,
                           csrf_token=secrets.token_urlsafe(24),
                           expires_at=utcnow() + timedelta(hours=hours)))
    session.flush()
    return token


def signed_in(hub: Hub, token: str | None) -> SignedIn | None:
    """Who holds this cookie, on every page request (one read-only query); None when no one."""
    if not token:
        return None
    with hub.uow(read_only=True) as uow:
        row = uow.session.execute(
            select(WebSession.csrf_token, WebSession.expires_at, User.id, User.email, User.name,
                   User.role, User.status)
            .join(User, User.id == WebSession.user_id).where(WebSession.token_hash == _digest(token))
        ).first()
    if row is None or row.expires_at < utcnow() or row.status == "deactivated":
        return None
    return SignedIn(user_id=row.id, email=row.email, name=row.name, role=row.role,
                    csrf_token=row.csrf_token)


def sign_out(hub: Hub, token: str | None) -> None:
    if not token:
        return
    with hub.uow() as uow:
        uow.session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))
        uow.session.execute(delete(WebSession).where(WebSession.expires_at < utcnow()))
        uow.commit()
