"""The web layer never commits and never queries: it calls a service, which opens (and commits)
its own unit of work, then a presenter. Read from the source, so a view that slips a query in
fails here before review; the import-linter contract keeps hub.db and sqlalchemy out too."""

from __future__ import annotations

import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "hub" / "web"
# A commit, a select() statement, a unit of work or a session opened by the view itself.
FORBIDDEN = {
    ".commit(": re.compile(r"\.commit\("),
    "select(": re.compile(r"\bselect\("),
    ".uow(": re.compile(r"\.uow\("),
    "session.": re.compile(r"\bsession\."),
}


def _offences(source: str) -> list[str]:
    return [name for name, pattern in FORBIDDEN.items() if pattern.search(source)]


def test_web_modules_never_commit_query_or_open_a_unit_of_work():  # type: ignore[no-untyped-def]
    modules = sorted(WEB.rglob("*.py"))
    found = {str(path.relative_to(WEB.parent.parent)): offences for path in modules
             if (offences := _offences(path.read_text()))}
    assert modules and found == {}


def test_the_scan_finds_what_a_view_that_queries_would_write():  # type: ignore[no-untyped-def]
    view = ("with current_hub().uow() as uow:\n"
            "    rows = uow.session.scalars(select(RecipeRun))\n"
            "    uow.commit()\n")
    assert _offences(view) == [".commit(", "select(", ".uow(", "session."]
