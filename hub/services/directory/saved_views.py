"""Saved views of the customer list: a user's named query (filter, sort, columns), private or
shared with the team.

The caller hands in the query already validated by the list's own parser, so a stored view can
only hold what the list accepts and opening it is opening that URL. Visibility is decided here,
in one place: the owner sees and changes their views; everyone sees shared views but only the
owner may change or delete one; another user's private view does not exist for them (a 404, so
its name does not leak), while a shared one they try to change is a 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.db.models import SavedView, User
from hub.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from hub.services.directory.workflows import normalise_name
from hub.services.hub import Hub

MAX_NAME = 100
MAX_QUERY_VALUES = 40  # the list's parameters: a handful of filters, sort, columns


@dataclass(frozen=True)
class ViewEntry:
    """A view as the list shows it: its stored query and who owns it."""

    id: int
    name: str
    query: dict[str, str]
    shared: bool
    owner_id: str
    owner_email: str


@dataclass(frozen=True)
class VisibleViews:
    mine: list[ViewEntry]
    shared: list[ViewEntry]  # shared by other users


def clean_name(name: str) -> str:
    cleaned = normalise_name(name or "")
    if not cleaned:
        raise ValidationFailed("a saved view needs a name", code="view_name_required")
    if len(cleaned) > MAX_NAME:
        raise ValidationFailed(f"a view's name has at most {MAX_NAME} characters",
                               code="view_name_too_long")
    return cleaned


def _clean_query(query: dict[str, Any]) -> dict[str, str]:
    if len(query) > MAX_QUERY_VALUES:
        raise ValidationFailed("too many parameters for a saved view")
    return {str(k): str(v) for k, v in query.items() if v not in (None, "")}


def save_view(hub: Hub, owner_id: str, name: str, query: dict[str, Any], shared: bool,
              replace: bool = False) -> ViewEntry:
    """A new view, or with ``replace`` the owner's view of that name overwritten. A name the
    owner already uses is a Conflict otherwise: a view is never overwritten by surprise."""
    cleaned, stored = clean_name(name), _clean_query(query)
    with hub.uow() as uow:
        existing = uow.session.scalar(
            select(SavedView).where(SavedView.owner_id == owner_id, SavedView.name == cleaned))
        if existing is not None and not replace:
            raise Conflict(f"you already have a view named {cleaned!r}: choose another name, "
                           "or tick \u201creplace\u201d to overwrite it", code="view_name_taken")
        view = existing or SavedView(owner_id=owner_id, name=cleaned)
        view.query, view.shared = stored, shared
        uow.session.add(view)
        _flush_unique(uow.session, cleaned)
        entry = _entry(uow.session, view)
        uow.commit()
    return entry


def update_view(hub: Hub, view_id: int, user_id: str, *, name: str | None = None,
                shared: bool | None = None, query: dict[str, Any] | None = None) -> ViewEntry:
    """Rename, share or unshare, or store a new query: the owner only."""
    with hub.uow() as uow:
        view = _owned(uow.session, view_id, user_id)
        if name is not None:
            view.name = clean_name(name)
        if shared is not None:
            view.shared = shared
        if query is not None:
            view.query = _clean_query(query)
        _flush_unique(uow.session, view.name)
        entry = _entry(uow.session, view)
        uow.commit()
    return entry


def delete_view(hub: Hub, view_id: int, user_id: str) -> None:
    with hub.uow() as uow:
        uow.session.delete(_owned(uow.session, view_id, user_id))
        uow.commit()


def get_view(hub: Hub, view_id: int, user_id: str) -> ViewEntry:
    """The user's own view or a shared one; anything else is a NotFound."""
    with hub.uow(read_only=True) as uow:
        return _entry(uow.session, _visible(uow.session, view_id, user_id))


def visible_views(session: Session, user_id: str) -> VisibleViews:
    """The user's views and the views others share, by name (one query)."""
    rows = session.execute(
        select(SavedView, User.email).join(User, User.id == SavedView.owner_id)
        .where(or_(SavedView.owner_id == user_id, SavedView.shared.is_(True)))
        .order_by(func.lower(SavedView.name), SavedView.id)
    ).all()
    entries = [_as_entry(view, email) for view, email in rows]
    return VisibleViews([e for e in entries if e.owner_id == user_id],
                        [e for e in entries if e.owner_id != user_id])


def list_views(hub: Hub, user_id: str) -> VisibleViews:
    with hub.uow(read_only=True) as uow:
        return visible_views(uow.session, user_id)


def _visible(session: Session, view_id: int, user_id: str) -> SavedView:
    view = session.get(SavedView, view_id)
    if view is None or (view.owner_id != user_id and not view.shared):
        raise NotFound(f"saved view {view_id} not found", code="view_not_found")
    return view


def _owned(session: Session, view_id: int, user_id: str) -> SavedView:
    view = _visible(session, view_id, user_id)
    if view.owner_id != user_id:
        raise PermissionDenied("only the user who saved this view may change or delete it",
                               code="view_not_yours")
    return view


def _flush_unique(session: Session, name: str) -> None:
    """Two saves of one name at once: the unique constraint decides, reported like the check."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"you already have a view named {name!r}", code="view_name_taken") from exc


def _entry(session: Session, view: SavedView) -> ViewEntry:
    email = session.scalar(select(User.email).where(User.id == view.owner_id)) or ""
    return _as_entry(view, email)


def _as_entry(view: SavedView, owner_email: str) -> ViewEntry:
    return ViewEntry(int(view.id), view.name, dict(view.query or {}), bool(view.shared),
                     view.owner_id, owner_email)
