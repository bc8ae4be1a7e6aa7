"""The customer list's filter, read from a query string: one parser for the list, its export, its
saved views and its bulk actions, so a selection means the same customers everywhere.

Parameters: ``q`` (text in name, email or external id), ``workflow`` (a dunningPlanId),
``unassigned=1``, ``manager`` (an account manager's email) and ``cf.<key>`` (a custom field
equals). Like every page query, an unknown parameter or a bad value is a 400 naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.errors import InvalidInput
from hub.services.directory.customers import CustomerFilter
from hub.web.pages.query import Parser, choice, read_query, text

CUSTOM_PREFIX = "cf."
MAX_CUSTOM_FILTERS = 10
MAX_CUSTOM_KEY = 100
FILTERS: dict[str, Parser] = {
    "q": text(200),
    "workflow": text(64),
    "unassigned": choice("1"),
    "manager": text(320),
}


@dataclass(frozen=True)
class ListQuery:
    """The validated query: ``values`` for links (with_query), ``filter`` for the services."""

    values: dict[str, Any]
    filter: CustomerFilter

    @property
    def filter_values(self) -> dict[str, Any]:
        """Only the filter's parameters (no sort, columns or paging): what a selection means."""
        return {k: v for k, v in self.values.items()
                if (k in FILTERS or k.startswith(CUSTOM_PREFIX)) and v not in (None, "")}


def read_list_query(source: Mapping[str, str], extra: Mapping[str, Parser] | None = None,
                    visible_to_user_id: str | None = None) -> ListQuery:
    """The filter (and the ``extra`` parameters a page adds, such as sort and paging)."""
    custom = {name: raw for name, raw in source.items() if name.startswith(CUSTOM_PREFIX)}
    if len(custom) > MAX_CUSTOM_FILTERS:
        raise InvalidInput(f"at most {MAX_CUSTOM_FILTERS} custom field filters",
                           code="parameter_invalid")
    fields: dict[str, str] = {}
    for name, raw in custom.items():
        key = name[len(CUSTOM_PREFIX):]
        if not key or len(key) > MAX_CUSTOM_KEY:
            raise InvalidInput(f"{name!r} does not name a custom field", code="parameter_invalid")
        if len(raw) > 200:
            raise InvalidInput(f"{name}: at most 200 characters", code="parameter_invalid")
        if raw.strip():
            fields[key] = raw.strip()
    rest = {name: raw for name, raw in source.items() if not name.startswith(CUSTOM_PREFIX)}
    values = read_query({**FILTERS, **(extra or {})}, rest)
    flt = CustomerFilter(
        dunning_plan_id=values["workflow"] or None,
        account_manager=values["manager"] or None,
        text=values["q"] or None,
        custom_fields=fields,
        unassigned=values["unassigned"] == "1" or None,
        visible_to_user_id=visible_to_user_id,
    )
    values.update({CUSTOM_PREFIX + key: value for key, value in fields.items()})
    return ListQuery(values, flt)
