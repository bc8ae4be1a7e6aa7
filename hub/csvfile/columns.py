"""The three import targets: which file column feeds each one, and how their cells are read."""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from hub.errors import ValidationFailed

EXTERNAL_ID = "external_id"
ACCOUNT_MANAGER_EMAILS = "account_manager_emails"
WORKFLOW_NAME = "workflow_name"
TARGETS: tuple[str, ...] = (EXTERNAL_ID, ACCOUNT_MANAGER_EMAILS, WORKFLOW_NAME)
# external_id is always required; at least one of these must be present too.
ASSIGNED_TARGETS: tuple[str, ...] = (ACCOUNT_MANAGER_EMAILS, WORKFLOW_NAME)

# Header spellings seen in the wild, compared after header_key() squashed case and separators.
HEADER_VARIANTS: Mapping[str, frozenset[str]] = {
    EXTERNAL_ID: frozenset(
        {
            "externalid",
            "externalids",
            "customerexternalid",
            "externalcustomerid",
            "clientexternalid",
            "externalreference",
            "externalref",
        }
    ),
    ACCOUNT_MANAGER_EMAILS: frozenset(
        {
            "accountmanageremail",
            "accountmanageremails",
            "accountmanagersemail",
            "accountmanagersemails",
            "accountmanager",
            "accountmanagers",
            "accountmanageremailaddress",
            "accountmanageremailaddresses",
            "amemail",
            "amemails",
        }
    ),
    WORKFLOW_NAME: frozenset(
        {"workflowname", "workflow", "dunningplan", "dunningplanname", "dunningworkflow"}
    ),
}

# Zero-width characters survive str.strip()/split() but are invisible in a spreadsheet.
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_HEADER_NOISE = re.compile(r"[\s_\-.()\u200b\u200c\u200d\u2060\ufeff]+")
_EMAIL_SEPARATORS = re.compile(r"[,;\s\u200b\u200c\u200d\u2060\ufeff]+")
_EMAIL_ATOM = r"[\w!#$%&'*+/=?^`{|}~-]+"
_EMAIL = re.compile(
    rf"{_EMAIL_ATOM}(?:\.{_EMAIL_ATOM})*"  # local part: no leading, trailing or double dot
    r"@(?:[^\W_](?:[^\W_]|-)*(?<!-)\.)+"  # domain labels: letters, digits, inner hyphens
    r"(?:[^\W\d_]{2,}|xn--[a-z0-9-]+)"  # top-level domain, letters or punycode
)
_MAX_EMAIL_LENGTH = 254


def header_key(header: str) -> str:
    """Squash a header for matching: "Account manager e-mail(s)" → "accountmanageremails"."""
    # NFKC folds NBSP and full-width forms onto their plain equivalents first.
    return _HEADER_NOISE.sub("", unicodedata.normalize("NFKC", header)).casefold()


def resolve_columns(
    headers: Sequence[str], mapping: Mapping[str, str | None] | None = None
) -> dict[str, int]:
    """Map each target to a column index, or raise ValidationFailed naming what is missing.

    An explicit `mapping` (target → header name) wins for the targets it names; a target mapped
    to None is not imported even when a matching column exists. The other targets are found
    automatically from the header spellings in HEADER_VARIANTS.
    """
    explicit = _explicit_columns(headers, mapping or {})
    taken = {index for index in explicit.values() if index is not None}
    wanted = [target for target in TARGETS if target not in explicit]
    columns = _automatic_columns(headers, wanted, taken)
    columns.update({t: i for t, i in explicit.items() if i is not None})
    _require(columns, headers)
    return {target: columns[target] for target in TARGETS if target in columns}


def _explicit_columns(headers: Sequence[str], mapping: Mapping[str, str | None]) -> dict[str, int | None]:
    unknown_targets = sorted(set(mapping) - set(TARGETS))
    columns: dict[str, int | None] = {}
    unknown_columns: dict[str, str] = {}
    for target, header in mapping.items():
        if target in unknown_targets:
            continue
        # A mapping may come from JSON: a value that is not a string names no column either.
        index = _find_header(headers, header) if isinstance(header, str) else None
        if header is not None and index is None:
            unknown_columns[target] = str(header)
        columns[target] = index
    if unknown_targets or unknown_columns:
        raise _bad_mapping(unknown_targets, unknown_columns, headers)
    return columns


def _find_header(headers: Sequence[str], name: str) -> int | None:
    """Exact name first, then ignoring case and spacing, so `--map` is forgiving to type."""
    if name in headers:
        return headers.index(name)
    wanted = normalise_spaces(name).casefold()
    loose = [i for i, header in enumerate(headers) if normalise_spaces(header).casefold() == wanted]
    return loose[0] if len(loose) == 1 else None


def _bad_mapping(
    unknown_targets: list[str], unknown_columns: dict[str, str], headers: Sequence[str]
) -> ValidationFailed:
    parts = []
    if unknown_targets:
        parts.append(f"unknown mapping targets {unknown_targets} (expected {list(TARGETS)})")
    if unknown_columns:
        named = ", ".join(f"{target} → '{name}'" for target, name in unknown_columns.items())
        parts.append(f"the mapping names columns that are not in the file: {named}")
    found = ", ".join(f"'{h}'" for h in headers)
    return ValidationFailed(
        f"Invalid column mapping: {'; '.join(parts)}. Columns found: {found}",
        details={
            "unknown_targets": unknown_targets,
            "unknown_columns": unknown_columns,
            "headers": list(headers),
        },
    )


def _automatic_columns(headers: Sequence[str], wanted: Iterable[str], taken: set[int]) -> dict[str, int]:
    keys = [header_key(header) for header in headers]
    columns: dict[str, int] = {}
    for target in wanted:
        variants = HEADER_VARIANTS[target]
        hits = [i for i, key in enumerate(keys) if key in variants and i not in taken]
        if len(hits) > 1:
            names = ", ".join(f"'{headers[i]}'" for i in hits)
            raise ValidationFailed(
                f"Several columns could be {target}: {names}; choose one with a mapping",
                details={"ambiguous": {target: [headers[i] for i in hits]}, "headers": list(headers)},
            )
        if hits:
            columns[target] = hits[0]
    return columns


def _require(columns: Mapping[str, int], headers: Sequence[str]) -> None:
    missing = [] if EXTERNAL_ID in columns else [EXTERNAL_ID]
    missing_one_of = [] if any(t in columns for t in ASSIGNED_TARGETS) else list(ASSIGNED_TARGETS)
    if not missing and not missing_one_of:
        return
    parts = [f"'{t}' (e.g. a column named 'External Id')" for t in missing]
    if missing_one_of:
        parts.append(
            "at least one of 'account_manager_emails' or 'workflow_name' "
            "(e.g. 'Account manager email', 'Workflow name')"
        )
    found = ", ".join(f"'{h}'" for h in headers) or "none"
    raise ValidationFailed(
        f"Missing required columns: {' and '.join(parts)}. Columns found: {found}",
        details={"missing": missing, "missing_one_of": missing_one_of, "headers": list(headers)},
    )


def normalise_spaces(value: str) -> str:
    """Any run of whitespace (NBSP and other unicode spaces included) → one space; trimmed."""
    return " ".join(_drop_zero_width(value).split())


def strip_cell(value: str) -> str:
    """Trim surrounding unicode whitespace and drop zero-width marks; the rest stays exact."""
    return _drop_zero_width(value).strip()


def _drop_zero_width(value: str) -> str:
    # isascii() is a flag check, while translate() walks the string: this runs on every cell.
    return value if value.isascii() else value.translate(_ZERO_WIDTH)


# A team has a handful of account managers, so the same cells recur on thousands of lines.
@functools.lru_cache(maxsize=4096)
def parse_emails(cell: str) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """Split a cell into lower-cased, de-duplicated emails; also return the invalid ones.

    Commas and semicolons separate addresses; whitespace does too, since no unquoted address
    contains it. An empty cell gives None: "do not change the account managers".
    """
    tokens = [token.lower() for token in _EMAIL_SEPARATORS.split(cell) if token]
    if not tokens:
        return None, ()
    emails = tuple(dict.fromkeys(tokens))
    return emails, tuple(email for email in emails if not is_valid_email(email))


def is_valid_email(value: str) -> bool:
    """Syntax only: whether the user exists is the assignment service's question."""
    return len(value) <= _MAX_EMAIL_LENGTH and _EMAIL.fullmatch(value) is not None


def workflow_key(name: str) -> str:
    """How two workflow names compare: spacing (NBSP included) and case do not matter."""
    return normalise_spaces(name).casefold()


def suggest(name: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate `name` was probably meant to be, for "did you mean ...?" messages.

    A name equal up to spacing and case (e.g. "Card\u00a0payers" for "Card payers") wins
    outright; otherwise difflib's closest match above `cutoff`, or None.
    """
    by_key = {workflow_key(candidate): candidate for candidate in candidates}
    key = workflow_key(name)
    if key in by_key:
        return by_key[key]
    close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=cutoff)
    return by_key[close[0]] if close else None
