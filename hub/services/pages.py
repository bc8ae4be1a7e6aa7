"""A page of results: the rows asked for and how many match in all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import Select, func, select

if TYPE_CHECKING:
    from hub.services.hub import Hub

Item = TypeVar("Item")


@dataclass(frozen=True)
class Page(Generic[Item]):
    offset: int
    limit: int
    total: int
    items: list[Item]


def newest_first(hub: Hub, model: Any, where: Callable[[Select], Select], offset: int, limit: int,
                 reverse: bool = False) -> Page:
    """One page of a log (runs, inbox events), newest first (oldest first with ``reverse``), and
    how many rows match in all; read in one read-only transaction, so the count and the page agree."""
    order = model.id.asc() if reverse else model.id.desc()
    with hub.uow(read_only=True) as uow:
        total = uow.session.scalar(where(select(func.count(model.id)))) or 0
        rows = uow.session.scalars(where(select(model)).order_by(order).offset(offset).limit(limit))
        return Page(offset, limit, total, list(rows))
