"""No vendor name in the hub's code: what differs between vendors is a connector's capability
(connectors/), read through the registry, never an ``if connector == "<vendor>"`` in hub/.

Names, attributes and string literals are checked; comments and docstrings may name a vendor as
an example. What may still name one is listed below, each with the reason it stays.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HUB = ROOT / "hub"
VENDOR = re.compile(r"salesforce|quickbooks|chargebee|stripe|intuit", re.IGNORECASE)

ALLOWED_FILES = {
    "hub/db/migrations": "history: migrations that ran are never rewritten",
    "hub/domain/sources.py": "the source 'salesforce' is a value stored in rows and written in recipes",
    "hub/commands/try_webhook.py": "`hub try-webhook` posts a Stripe-signed event, by design",
    "hub/commands/init_env.py": "writes the Stripe test secret `hub try-webhook` signs with",
    "hub/services/directory/credentials.py": "its error names the setting an operator must change",
}
ALLOWED_NAMES = {
    # Celery tasks, their names and their settings (HUB_SALESFORCE_POLL_SECONDS, ...) that
    # deployments already use; the tasks poll and backfill every capable connection.
    "POLL_SALESFORCE", "BACKFILL_QUICKBOOKS",
    "hub.poll_salesforce", "hub.backfill_quickbooks",
    "salesforce_poll_seconds", "quickbooks_backfill_seconds",
}
SOURCE_MEMBER = "SALESFORCE"  # Source.SALESFORCE: the source value, wherever writes name it


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _words(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, text) of every name, attribute, definition and string literal outside docstrings."""
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            source_member = isinstance(node.value, ast.Name) and node.value.id == "Source"
            if not (source_member and node.attr == SOURCE_MEMBER):
                yield node.lineno, node.attr
        elif isinstance(node, ast.Name):
            yield node.lineno, node.id
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.lineno, node.name
        elif isinstance(node, ast.arg | ast.keyword) and (name := getattr(node, "arg", None)):
            yield node.lineno, name
        elif isinstance(node, ast.alias):
            yield node.lineno, node.asname or node.name
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def _allowed_file(path: Path) -> bool:
    relative = path.relative_to(ROOT).as_posix()
    return any(relative == allowed or relative.startswith(allowed + "/") for allowed in ALLOWED_FILES)


def _findings() -> list[str]:
    found = []
    for path in sorted(HUB.rglob("*.py")):
        if _allowed_file(path):
            continue
        for line, word in _words(ast.parse(path.read_text(encoding="utf-8"))):
            if VENDOR.search(word) and word not in ALLOWED_NAMES:
                found.append(f"{path.relative_to(ROOT)}:{line}: {word[:80]!r}")
    return sorted(set(found))


def test_no_vendor_name_in_the_hubs_code():
    assert _findings() == [], "give the connector a capability instead (connectors/base.py)"


def test_every_allowed_file_still_names_a_vendor():
    """The allowlist only shrinks: an entry whose file no longer needs it is removed."""
    for allowed in ALLOWED_FILES:
        paths = [ROOT / allowed] if allowed.endswith(".py") else sorted((ROOT / allowed).rglob("*.py"))
        assert any(VENDOR.search(p.read_text(encoding="utf-8")) for p in paths), allowed


def test_every_allowed_name_is_still_used():
    used = {word for path in HUB.rglob("*.py") if not _allowed_file(path)
            for _, word in _words(ast.parse(path.read_text(encoding="utf-8")))}
    assert ALLOWED_NAMES <= used, sorted(ALLOWED_NAMES - used)
