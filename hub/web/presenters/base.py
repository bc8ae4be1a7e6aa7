"""Pages as the API writes them: every paged list has the same envelope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from hub.services.pages import Page

Item = TypeVar("Item")


def page_dict(name: str, page: Page[Item], present: Callable[[Item], dict[str, Any]]) -> dict[str, Any]:
    """``{"offset", "limit", "total", name: [...]}``: every paged list of the API."""
    return {"offset": page.offset, "limit": page.limit, "total": page.total,
            name: [present(item) for item in page.items]}
