"""Stream an uploaded CSV as ImportLines: one pass, flat memory, physical line numbers.

What "line" means: `ImportLine.line_number` is the 1-based physical line of the file on which
the record starts, as a text editor counts them. The header is line 1 (or later when blank lines
precede it); every line break counts — CRLF, LF or a lone CR, blank lines that are skipped, and
the line breaks inside quoted cells. A record whose quoted cell spans lines 4-6 is line 4 and the
next record is line 7.

Errors: open_csv() raises what is wrong with the file as a whole (not a CSV, empty, too large,
columns missing). Iterating yields one ImportLine per record; a record that cannot be used
carries a `problem` ("Malformed line: ..."). Iteration itself may still raise PayloadTooLarge
(a stream whose size was unknown up front) or MalformedBody (an unbalanced quote: a quoted cell
still open at the end of the file or grown past csv's field size limit): callers that must apply
nothing on such errors should read to the end before applying anything.

Progress: `bytes_read` against `total_bytes` (None when the stream is not seekable). Bytes run
ahead of the lines yielded by at most one 64 KiB buffer, which is fine for a progress bar and
costs no second pass over the file.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from typing import BinaryIO, TypeVar

from hub.csvfile.columns import (
    ACCOUNT_MANAGER_EMAILS,
    EXTERNAL_ID,
    WORKFLOW_NAME,
    normalise_spaces,
    parse_emails,
    resolve_columns,
    strip_cell,
)
from hub.csvfile.decoding import DEFAULT_MAX_BYTES, DecodedStream, open_text
from hub.csvfile.report import unescape_cell
from hub.errors import MalformedBody

DELIMITERS = ",;\t"
_SNIFF_LINES = 50
_END_MARKER = "\x00hub:end-of-file\x00"
T = TypeVar("T")


# Not frozen: a frozen dataclass's __init__ costs twice as much, on every one of a million lines.
@dataclass(slots=True)
class ImportLine:
    line_number: int
    raw: dict[str, str]  # the file's own columns and values, in file order (for errors.csv)
    external_id: str
    account_manager_emails: tuple[str, ...] | None  # None: column absent or cell empty
    workflow_name: str | None  # None: column absent or cell empty
    problem: str | None = None  # "Malformed line: ..." when the line cannot be applied


def open_csv(
    stream: BinaryIO,
    mapping: Mapping[str, str | None] | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> CsvImportReader:
    """Read the header of a binary CSV upload and return a reader for its lines.

    `mapping` is target → header name ("external_id", "account_manager_emails",
    "workflow_name"); targets it leaves out are matched on header names automatically.
    """
    decoded = open_text(stream, max_bytes)
    delimiter = sniff_delimiter(decoded.sample)
    # The end marker shows whether the file ended inside a quoted cell; see _check_end().
    rows = csv.reader(chain(decoded.text, [_END_MARKER]), delimiter=delimiter)
    header_line, headers = read_header(rows)
    column_map = resolve_columns(headers, mapping)
    return CsvImportReader(decoded, rows, delimiter, header_line, headers, column_map)


def chunks(lines: Iterable[T], size: int = 1000) -> Iterator[list[T]]:
    """Group any iterable into lists of `size` (the last one shorter), lazily."""
    iterator = iter(lines)
    while chunk := list(islice(iterator, size)):
        yield chunk


class CsvImportReader:
    """Single-pass iterator over the data lines of an opened CSV; see open_csv()."""

    def __init__(
        self,
        decoded: DecodedStream,
        rows: Iterator[list[str]],
        delimiter: str,
        header_line: int,
        headers: list[str],
        column_map: dict[str, int],
    ) -> None:
        self._decoded = decoded
        self._rows = rows
        self.delimiter = delimiter
        self.header_line = header_line
        self.headers = headers  # unique, trimmed: blank → "Column N", repeats → "Name (2)"
        self._columns = column_map
        self._external_at = column_map[EXTERNAL_ID]
        self._emails_at = column_map.get(ACCOUNT_MANAGER_EMAILS)
        self._workflow_at = column_map.get(WORKFLOW_NAME)
        self._keep: Callable[[str], bool] | None = None

    @property
    def encoding(self) -> str:
        return self._decoded.encoding.name

    @property
    def column_map(self) -> dict[str, str]:
        """Target → the header feeding it, for showing the admin what will be imported."""
        return {target: self.headers[index] for target, index in self._columns.items()}

    @property
    def bytes_read(self) -> int:
        return self._decoded.meter.bytes_read

    @property
    def total_bytes(self) -> int | None:
        return self._decoded.meter.total_bytes

    def where_external_id(self, keep: Callable[[str], bool]) -> CsvImportReader:
        """Yield only the lines whose external id `keep` accepts; the others are skipped before
        anything else is made of them (one part of an import reads the whole file for its own
        customers' lines, and building the others' would double its reading time)."""
        self._keep = keep
        return self

    def __iter__(self) -> Iterator[ImportLine]:
        rows = self._rows
        start = rows.line_num + 1  # type: ignore[attr-defined]
        try:
            for cells in rows:
                if cells and cells[-1].endswith(_END_MARKER):
                    _check_end(cells, start)
                    return
                line = self._to_line(start, cells)
                start = rows.line_num + 1  # type: ignore[attr-defined]
                if line is not None:
                    yield line
        except csv.Error as exc:
            raise _unreadable(start, exc) from exc

    def _to_line(self, line_number: int, cells: list[str]) -> ImportLine | None:
        if self._keep is not None and not self._keep(self._external_id(cells)):
            return None
        if not "".join(cells).strip():
            return None  # blank line, or only delimiters
        width, problems = len(self.headers), []
        if len(cells) > width and not "".join(cells[width:]).strip():
            cells = cells[:width]  # trailing empty cells: Excel pads rows like this
        if len(cells) != width:
            problems.append(_field_count_problem(cells, width))
            cells = (cells + [""] * width)[:width]
        # Misaligned cells would only add misleading complaints, so values go unchecked then.
        external_id, emails, workflow = self._targets(cells, [] if problems else problems)
        return ImportLine(
            line_number=line_number,
            raw=dict(zip(self.headers, cells, strict=False)),  # same length by now
            external_id=external_id,
            account_manager_emails=emails,
            workflow_name=workflow,
            problem="Malformed line: " + "; ".join(problems) if problems else None,
        )

    def _external_id(self, cells: list[str]) -> str:
        """The external id the line will carry, also when its cells are too few (padded)."""
        at = self._external_at
        return strip_cell(unescape_cell(cells[at])) if at < len(cells) else ""

    def _targets(
        self, cells: list[str], problems: list[str]
    ) -> tuple[str, tuple[str, ...] | None, str | None]:
        external_id = self._external_id(cells)
        if not external_id:
            problems.append("the external id is empty")
        emails = None
        if self._emails_at is not None:
            emails, invalid = parse_emails(unescape_cell(cells[self._emails_at]))
            if invalid:
                problems.extend(f"'{email}' is not a valid email address" for email in invalid)
        workflow = None
        if self._workflow_at is not None:
            workflow = normalise_spaces(unescape_cell(cells[self._workflow_at])) or None
        return external_id, emails, workflow


def _field_count_problem(cells: list[str], width: int) -> str:
    problem = f"{len(cells)} fields instead of {width} (check delimiters and quotes)"
    if len(cells) > width:
        # errors.csv keeps only the header's columns: show what did not fit.
        surplus = ", ".join(repr(cell) for cell in cells[width : width + 3])
        problem += f"; extra cells: {surplus}" + (", ..." if len(cells) > width + 3 else "")
    return problem


def sniff_delimiter(sample: str) -> str:
    """Comma, semicolon or tab, decided from the header line, with csv.Sniffer as tie-breaker.

    The header is the most reliable witness: it has no free text, and splitting it on the
    right delimiter gives the most columns. Only when that is a tie (or the header is a single
    column) do the data lines get a say, through csv.Sniffer restricted to DELIMITERS.
    """
    lines = [line for line in sample.splitlines()[:_SNIFF_LINES] if line.strip()]
    if not lines:
        return ","
    widths = {d: len(next(csv.reader([lines[0]], delimiter=d))) for d in DELIMITERS}
    widest = max(widths.values())
    best = [d for d in DELIMITERS if widths[d] == widest]
    if widest > 1 and len(best) == 1:
        return best[0]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        return best[0]


def read_header(rows: Iterator[list[str]]) -> tuple[int, list[str]]:
    """The header's line number and its names (blank lines before it skipped, phantom empty
    columns at the right edge dropped, names made unique): the import and its mapping step
    read a file's header with this one rule."""
    start = 1
    try:
        for cells in rows:
            if cells and cells[-1].endswith(_END_MARKER):
                _check_end(cells, start)
                break
            cleaned = [strip_cell(cell) for cell in cells]
            if any(cleaned):
                while not cleaned[-1]:
                    cleaned.pop()  # phantom empty columns at the right edge
                return start, unique_headers(cleaned)
            start = rows.line_num + 1  # type: ignore[attr-defined]
    except csv.Error as exc:
        raise _unreadable(start, exc) from exc
    raise MalformedBody("The file is empty", details={"reason": "empty_file"})


def _unreadable(start: int, error: csv.Error) -> MalformedBody:
    return MalformedBody(
        f"The file cannot be read as CSV from line {start}: {error} (an unbalanced quote?)",
        details={"reason": "bad_csv", "line": start},
    )


def _check_end(cells: list[str], start: int) -> None:
    """Raise when a quoted cell swallowed the end marker: a quote never closed.

    csv.reader, when not strict, silently ends a quoted cell left open at the end of the file,
    which would turn the rest of the file into one long cell of one line.
    """
    if cells == [_END_MARKER]:
        return
    raise MalformedBody(
        f'The quoted cell that starts on line {start} is never closed (a missing ")',
        details={"reason": "bad_csv", "line": start},
    )


def unique_headers(headers: Sequence[str]) -> list[str]:
    """Name blank headers "Column N" and suffix repeats "Name (2)", so rows fit in a dict."""
    seen: set[str] = set()
    unique = []
    for position, header in enumerate(headers, start=1):
        name = header or f"Column {position}"
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name} ({n})"
        seen.add(candidate)
        unique.append(candidate)
    return unique
