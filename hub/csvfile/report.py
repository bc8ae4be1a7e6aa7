"""CSV downloads (errors.csv, the customer export): Excel-friendly and safe against formulas.

Every download is comma-separated UTF-8 with a BOM (so Excel picks the right encoding) and CRLF
line ends. Cells that a spreadsheet would run as a formula get a leading apostrophe (OWASP "CSV
injection"); the import reader strips that apostrophe again, so export → edit → import keeps
values such as an external id "-42" intact.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import BinaryIO, TextIO, cast

# Column names of the customer export; the import's automatic matching recognises each, and
# any extra column (a customer "Name", say) is ignored on the way back in.
EXPORT_HEADERS: tuple[str, ...] = ("External Id", "Account manager email", "Workflow name")
ERROR_HEADER = "Error"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
SPOOL_BYTES = 8 * 1024 * 1024  # a download is kept in memory below this, in a temporary file above


def escape_cell(value: object) -> str:
    """Text for one cell, prefixed with ' when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def unescape_cell(value: str) -> str:
    """Undo escape_cell() on a cell read back from one of our downloads."""
    if value.startswith("'") and value[1:].startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def format_emails(emails: Iterable[str]) -> str:
    """One export cell for several account managers, in the form the import splits again."""
    return ", ".join(emails)


class _Echo:
    """A file-like whose write() hands the text back, so csv.writer can yield row by row."""

    def write(self, text: str) -> str:
        return text


def iter_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """Yield a download one row at a time (BOM first), every cell escaped; for streaming."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield BOM + writer.writerow([escape_cell(header) for header in headers])
    for row in rows:
        yield writer.writerow([escape_cell(cell) for cell in row])


def spool(texts: Iterable[str]) -> tuple[BinaryIO, int]:
    """A download written out whole (UTF-8), rewound, and its size in bytes.

    Downloads are built before their answer starts: a failure while reading the rows is then an
    error answer, never a 200 cut off half-way, the Content-Length tells any client whether it got
    everything, and no database transaction stays open while a slow client reads."""
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (returned open)
    try:
        for text in texts:
            spooled.write(text.encode("utf-8"))
    except BaseException:
        spooled.close()
        raise
    size = spooled.tell()
    spooled.seek(0)
    return cast(BinaryIO, spooled), size


def iter_error_report(
    headers: Sequence[str], failed_lines: Iterable[tuple[Mapping[str, str], str]]
) -> Iterator[str]:
    """Yield errors.csv: each failed line's original cells plus its error, row by row.

    `failed_lines` pairs an ImportLine's `raw` with the message for the admin. A file that is
    itself a re-imported errors.csv already has an "Error" column: it is reused, not repeated.
    """
    columns = list(headers)
    if ERROR_HEADER not in columns:
        columns.append(ERROR_HEADER)
    error_at = columns.index(ERROR_HEADER)

    def row(raw: Mapping[str, str], error: str) -> list[str]:
        cells = [raw.get(column, "") for column in columns]
        cells[error_at] = error
        return cells

    return iter_csv(columns, (row(raw, error) for raw, error in failed_lines))


def write_error_report(
    out: TextIO, headers: Sequence[str], failed_lines: Iterable[tuple[Mapping[str, str], str]]
) -> int:
    """Write errors.csv to a text stream opened with encoding="utf-8", newline="".

    Returns the number of failed lines written. The BOM is written here, so do not open the
    stream as "utf-8-sig" as well.
    """
    rows = iter_error_report(headers, failed_lines)
    out.write(next(rows))
    count = 0
    for text in rows:
        out.write(text)
        count += 1
    return count
