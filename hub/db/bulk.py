"""Set-based writes of many rows: on PostgreSQL, one statement over the rows sent as one JSON text.

psycopg's executemany costs tens of microseconds per row, multi-row VALUES statements as much
again in query parsing, and typed arrays for unnest() are quoted element by element in Python.
One JSON document, expanded by the server with json_populate_recordset() into rows of the
table's own type, costs one round trip and about a microsecond per row on the client (the C
JSON encoder). SQLite's executemany is native and fast, so other databases use it.

Rows are dicts keyed by column name, all with the same keys; datetimes must be aware (they are
sent in ISO 8601 with their offset), JSON columns take plain Python values.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, any_, bindparam, delete, insert, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter, ColumnElement

Row = Mapping[str, Any]


def insert_rows(
    session: Session, table: Table, rows: Sequence[Row], same: Row | None = None
) -> None:
    """INSERT the rows; `same` holds values shared by every row (sent once, not per row)."""
    if not rows:
        return
    if not _is_postgres(session):
        session.execute(insert(table), [{**row, **(same or {})} for row in rows])
        return
    quote, names = _quoter(session), list(rows[0])
    shared, params = _shared(session, table, same)
    columns = ", ".join(quote(n) for n in [*names, *(same or {})])
    values = ", ".join([*(f"v.{quote(n)}" for n in names), *shared.values()])
    target, source = _table(session, table), _recordset(session, table)
    # Identifiers come from the table's metadata, quoted by the dialect; values are bound.
    sql = f"INSERT INTO {target} ({columns}) SELECT {values} FROM {source} AS v"  # noqa: S608
    session.execute(text(sql).bindparams(*params), {"rows": _json(rows)})


def update_rows(
    session: Session, table: Table, keys: Sequence[str], rows: Sequence[Row], same: Row | None = None
) -> None:
    """UPDATE the rows matched by the `keys` columns with each row's other values, and `same`."""
    if not rows:
        return
    names = [name for name in rows[0] if name not in keys]
    if not _is_postgres(session):
        stmt = update(table).where(_match(table, keys)).values(
            {name: bindparam(f"b_{name}") for name in [*names, *(same or {})]})
        session.execute(stmt, _prefixed([{**row, **(same or {})} for row in rows]))
        return
    target, quote = _table(session, table), _quoter(session)
    shared, params = _shared(session, table, same)
    sets = ", ".join([*(f"{quote(n)} = v.{quote(n)}" for n in names),
                      *(f"{quote(n)} = {value}" for n, value in shared.items())])
    where = " AND ".join(f"{target}.{quote(k)} = v.{quote(k)}" for k in keys)
    sql = f"UPDATE {target} SET {sets} FROM {_recordset(session, table)} AS v WHERE {where}"  # noqa: S608
    session.execute(text(sql).bindparams(*params), {"rows": _json(rows)})


def delete_rows(session: Session, table: Table, rows: Sequence[Row]) -> None:
    """DELETE the rows whose columns equal one of the given rows."""
    if not rows:
        return
    names = list(rows[0])
    if not _is_postgres(session):
        session.execute(delete(table).where(_match(table, names)), _prefixed(rows))
        return
    target, quote = _table(session, table), _quoter(session)
    where = " AND ".join(f"{target}.{quote(n)} = v.{quote(n)}" for n in names)
    sql = f"DELETE FROM {target} USING {_recordset(session, table)} AS v WHERE {where}"  # noqa: S608
    session.execute(text(sql), {"rows": _json(rows)})


def _shared(
    session: Session, table: Table, same: Row | None
) -> tuple[dict[str, str], list[BindParameter[Any]]]:
    """SQL for each shared value (a typed parameter) and the parameters themselves."""
    dialect = session.get_bind().dialect
    sql, params = {}, []
    for position, (name, value) in enumerate((same or {}).items()):
        column_type = table.c[name].type
        params.append(bindparam(f"s{position}", value, type_=column_type))
        sql[name] = f"CAST(:s{position} AS {column_type.compile(dialect=dialect)})"
    return sql, params


def one_of(session: Session, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN (values)`; on PostgreSQL as `= ANY(array)`, one parameter however many values.

    A thousand-value IN list costs milliseconds per query to render and to parse again in the
    driver; one array parameter does not.
    """
    values = list(values)
    if _is_postgres(session):
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _recordset(session: Session, table: Table) -> str:
    # NULL::<table> gives the server the row type: each JSON value is read as its column's type.
    return f"json_populate_recordset(NULL::{_table(session, table)}, CAST(:rows AS JSON))"


def _json(rows: Sequence[Row]) -> str:
    return json.dumps(rows, default=_encode, separators=(",", ":"))


def _encode(value: Any) -> str:
    if isinstance(value, datetime):
        return _iso(value)
    raise TypeError(f"cannot write {type(value).__name__} in a bulk statement")


@functools.lru_cache(maxsize=256)
def _iso(value: datetime) -> str:
    """Batches repeat a few timestamps (occurred_at, now) on every row: format each once."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a bulk write")
    return value.isoformat()


def _match(table: Table, names: Sequence[str]) -> Any:
    return and_(*(table.c[n] == bindparam(f"b_{n}") for n in names))


def _prefixed(rows: Sequence[Row]) -> list[dict[str, Any]]:
    # Bind names must differ from column names in an UPDATE ... SET.
    return [{f"b_{k}": v for k, v in row.items()} for row in rows]


def _table(session: Session, table: Table) -> str:
    return session.get_bind().dialect.identifier_preparer.format_table(table)


def _quoter(session: Session) -> Any:
    return session.get_bind().dialect.identifier_preparer.quote


def _names(session: Session, row: Row) -> str:
    quote = _quoter(session)
    return ", ".join(quote(name) for name in row)
