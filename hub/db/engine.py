"""Engine and session factory, built on demand by the composition root, never at import time."""

from __future__ import annotations

import json
from typing import Any

import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers work while one writer writes; the busy timeout makes writers queue
    # instead of failing; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # SQLite has no row locks: taking the write lock at BEGIN serialises writers the way
    # SELECT ... FOR UPDATE does on PostgreSQL, and avoids lock-upgrade deadlocks.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(conn: Any) -> None:
    # Reads take no lock at BEGIN: in WAL mode they see a snapshot while a writer writes, so a
    # slow export or /healthz never queues behind (or ahead of) a webhook's write.
    conn.exec_driver_sql("BEGIN")


def read_json(text: str | bytes) -> Any:
    """JSON columns as Python values: orjson where it can (a CSV import decodes every customer's
    ownership; the standard library took 4% of an import part's time), the standard library
    for what orjson refuses (integers beyond 64 bits)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def make_engine(url: str, read_only: bool = False, **kwargs: Any) -> Engine:
    kwargs.setdefault("json_deserializer", read_json)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"isolation_level": None, "timeout": 30}, **kwargs
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_deferred if read_only else _sqlite_begin_immediate)
        return engine
    # No pre-ping: it costs a round trip per checkout. A connection found dead raises a
    # disconnect error, SQLAlchemy then invalidates the whole pool, and the caller answers 503
    # (webhooks) or retries (tasks); the next checkout connects afresh.
    kwargs.setdefault("pool_recycle", 1800)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._engine_kwargs = engine_kwargs
        self._read_engine: Engine | None = None
        self._autocommit_engine: Engine | None = None
        self._read_sessions: sessionmaker[Session] | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Session:
        return self.sessions()

    @property
    def read_engine(self) -> Engine:
        """For work that only reads: on SQLite an engine whose transactions take no write lock
        (the main one takes it at BEGIN to serialise writers); elsewhere the main engine."""
        if self.dialect != "sqlite":
            return self.engine
        if self._read_engine is None:
            self._read_engine = make_engine(self.url, read_only=True, **self._engine_kwargs)
        return self._read_engine

    @property
    def autocommit_engine(self) -> Engine:
        """Connections that stay in autocommit, for work done in one statement: switching a pooled
        connection to autocommit and back costs more than that statement. Small: the webhook
        path's group commit writes from one thread per process at a time."""
        if self._autocommit_engine is None:
            self._autocommit_engine = make_engine(
                self.url, **{"pool_size": 2, "max_overflow": 4, **self._engine_kwargs,
                             "isolation_level": "AUTOCOMMIT"})
        return self._autocommit_engine

    def read_session(self) -> Session:
        if self._read_sessions is None:
            self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        return self._read_sessions()

    def dispose(self) -> None:
        self.engine.dispose()
        for other in (self._read_engine, self._autocommit_engine):
            if other is not None:
                other.dispose()
