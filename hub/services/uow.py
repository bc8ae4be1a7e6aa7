"""Unit of work: one transaction per use case, explicit commit, rollback by default.

Work that must happen only once the data is durable (enqueueing a Celery task) is registered
with ``after_commit`` and runs after a successful commit, never inside the open transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from hub.db.engine import Database
from hub.errors import NotFound, ServiceUnavailable

log = logging.getLogger(__name__)
Row = TypeVar("Row")


class UnitOfWork:
    """``read_only``: a transaction that never writes (on SQLite it then takes no write lock)."""

    def __init__(self, db: Database, read_only: bool = False) -> None:
        self._db = db
        self._read_only = read_only
        self._after_commit: list[Callable[[], object]] = []
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._db.read_session() if self._read_only else self._db.session()
        self._after_commit = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            # close() rolls back anything uncommitted, and (unlike rollback()) leaves loaded
            # objects readable after the block.
            self.session.close()
        except SQLAlchemyError as cleanup_error:  # the connection may already be gone
            log.warning("rollback failed: %s", cleanup_error)
            self.session.invalidate()
        if _is_connection_error(exc):
            raise ServiceUnavailable("the database is unavailable") from exc

    def after_commit(self, callback: Callable[[], object]) -> None:
        self._after_commit.append(callback)

    def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self.session.commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()


@contextmanager
def autocommit(db: Database) -> Iterator[Connection]:
    """A connection on which each statement commits by itself: for work done in one statement,
    which is atomic alone and then needs no BEGIN and COMMIT round trips. Database outages raise
    ServiceUnavailable, as in a unit of work."""
    try:
        with db.autocommit_engine.connect() as connection:
            yield connection
    except DBAPIError as exc:
        if _is_connection_error(exc):
            raise ServiceUnavailable("the database is unavailable") from exc
        raise


def get_row(session: Session, model: type[Row], ident: Any, *, lock: bool = False,
            what: str | None = None, code: str | None = None) -> Row:
    """A row by primary key, or NotFound ("{what} {ident} not found", with ``code``): asked for
    by a caller, or there a moment ago and pruned since (the inbox keeps rows for a retention
    period) or removed by another process."""
    row = session.get(model, ident, with_for_update=lock) if ident is not None else None
    if row is None:
        name = what or getattr(model, "__tablename__", model.__name__).rstrip("s").replace("_", " ")
        raise NotFound(f"{name} {ident} not found", code=code)
    return row


def fully_loaded(session: Session, row: Row) -> Row:
    """``row`` with everything it maps loaded, to be read after the unit of work closes.

    close() detaches the rows, and a detached row cannot load what the session expired (the
    assignment service expires the customers it writes around the ORM). Reloaded inside the
    transaction, so the row shows what the commit makes durable (or, in a dry run, what the
    transaction saw before it rolled back)."""
    if inspect(row).unloaded:
        session.flush()  # refresh() discards changes not yet flushed
        session.refresh(row)
    return row


def _is_connection_error(exc: BaseException | None) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    # SQLite reports schema problems as OperationalError too; those are bugs, not outages.
    text = str(exc.orig).lower()
    return isinstance(exc, OperationalError) and not any(
        marker in text for marker in ("no such table", "no such column", "syntax error"))
