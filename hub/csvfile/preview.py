"""The head of an uploaded CSV for the column-mapping step: its header, its first lines, and a
guess of which column feeds each target.

The admin maps columns before anything is imported, so the header must read here exactly as the
import's reader (``hub.csvfile.reader``) will read it: the same decoding and delimiter sniffing,
blank lines before the header skipped, phantom empty columns at the right edge dropped, blank and
repeated names made unique. The mapping names columns by these headers.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import BinaryIO

from hub.csvfile.columns import (
    ACCOUNT_MANAGER_EMAILS,
    EXTERNAL_ID,
    HEADER_VARIANTS,
    TARGETS,
    WORKFLOW_NAME,
    header_key,
)
from hub.csvfile.decoding import open_text
from hub.csvfile.reader import read_header, sniff_delimiter
from hub.errors import MalformedBody

PREVIEW_LINES = 5
TARGET_LABELS: Mapping[str, str] = {
    EXTERNAL_ID: "External id",
    ACCOUNT_MANAGER_EMAILS: "Account manager email(s)",
    WORKFLOW_NAME: "Workflow name",
}
# A close spelling counts as a guess only when it is a typo, not another word: "Extrenal Id" is
# the external id, but "Email" (the customer's own) is not the account manager's, nor "Workflow
# id" the workflow's name, though difflib finds both similar.
TYPO_SIMILARITY = 0.85
TYPO_LENGTH_DIFFERENCE = 1
MIN_TYPO_KEY_LENGTH = 6


@dataclass(frozen=True)
class FileHead:
    headers: list[str]  # as the import's reader names them
    rows: list[list[str]]  # the first non-blank lines, each cut or padded to the header's width
    encoding: str
    delimiter: str


@dataclass(frozen=True)
class MappingGuess:
    columns: dict[str, str | None]  # every target → the header guessed for it, or None
    close_spellings: frozenset[str]  # the targets guessed from a typo rather than a known name


def read_head(stream: BinaryIO, lines: int = PREVIEW_LINES) -> FileHead:
    """Decode the start of a CSV upload: refuse binary files, empty files and files with a header
    but no line; the rest of the stream is left unread."""
    decoded = open_text(stream, max_bytes=None)  # the caller's stream enforces any size limit
    delimiter = sniff_delimiter(decoded.sample)
    rows = csv.reader(decoded.text, delimiter=delimiter)
    try:
        _, headers = read_header(rows)
        first = list(islice(_data_rows(rows, len(headers)), lines))
    except csv.Error as exc:
        raise MalformedBody(f"The file cannot be read as CSV: {exc} (an unbalanced quote?)",
                            details={"reason": "bad_csv"}) from exc
    if not first:
        raise MalformedBody("The file has a header but no lines to import",
                            details={"reason": "empty_file"})
    return FileHead(headers, first, decoded.encoding.name, delimiter)


def _data_rows(rows: Iterator[list[str]], width: int) -> Iterator[list[str]]:
    for cells in rows:
        if "".join(cells).strip():
            yield (cells + [""] * width)[:width]


def guess_mapping(headers: Sequence[str]) -> MappingGuess:
    """Each target's column: a header spelled as one of its known names (resolve_columns' own
    rule; two such headers are left for the admin to choose), else a unique close misspelling."""
    keys = [header_key(header) for header in headers]
    found: dict[str, int] = {}
    for target in TARGETS:
        hits = [i for i, key in enumerate(keys) if key in HEADER_VARIANTS[target]]
        if len(hits) == 1:
            found[target] = hits[0]
    close: set[str] = set()
    for target in TARGETS:
        if target in found:
            continue
        free = [i for i in range(len(headers)) if i not in found.values()]
        hits = [i for i in free if _is_typo_of(keys[i], HEADER_VARIANTS[target])]
        if len(hits) == 1:
            found[target] = hits[0]
            close.add(target)
    return MappingGuess({t: headers[found[t]] if t in found else None for t in TARGETS},
                        frozenset(close))


def _is_typo_of(key: str, variants: frozenset[str]) -> bool:
    if len(key) < MIN_TYPO_KEY_LENGTH:
        return False
    return any(abs(len(key) - len(variant)) <= TYPO_LENGTH_DIFFERENCE
               and difflib.SequenceMatcher(None, key, variant).ratio() >= TYPO_SIMILARITY
               for variant in variants)


def discarded_columns(headers: Sequence[str], mapping: Mapping[str, str | None]) -> list[str]:
    """The file's columns that no target reads: they are not imported (but stay in errors.csv)."""
    used = {header for header in mapping.values() if header}
    return [header for header in headers if header not in used]
