"""An import split into parts by customer: which part a line goes to, and its chunks (also when one
part is applied alone, as its part task does, and when a part resumes).

No database: the lines are built in memory. Running the parts as tasks is tested in
tests/integration/test_import_parts.py and, with real workers, tests/e2e/test_import_worker.py.
"""

from __future__ import annotations

import zlib

import pytest

from hub.csvfile.reader import ImportLine
from hub.services.imports.parts import part_chunks, part_of


def line(number: int, external_id: str | None = "C1") -> ImportLine:
    # external_id is typed str, but a blank cell must still land somewhere: None is tried too.
    raw = {"External Id": external_id or ""}
    return ImportLine(number, raw, external_id, None, None)  # type: ignore[arg-type]


def numbers(lines: list[ImportLine]) -> list[int]:
    return [ln.line_number for ln in lines]


def file_of(count: int, customers: int = 12) -> list[ImportLine]:
    """Lines 2..count+1 (line 1 is the header), customers cycling so every part gets many."""
    return [line(n, f"CUST-{n % customers}") for n in range(2, count + 2)]


# --- part_of -------------------------------------------------------------------------------


def test_part_of_is_the_crc32_of_the_external_id():
    # Known values: a resumed import (another process, another PYTHONHASHSEED) must split alike,
    # so the part may never come from hash(). crc32("CUST-0000001") == 2110765374.
    assert part_of(line(2, "CUST-0000001"), 4) == 2
    assert part_of(line(3, "CUST-0000002"), 4) == 0
    assert part_of(line(4, "Müller & Söhne"), 3) == 2  # the id's UTF-8 bytes are hashed
    for external_id in ("CUST-0000001", "CUST-0000002", "Müller & Söhne", "x"):
        for parts in (1, 2, 3, 4, 8):
            assert part_of(line(2, external_id), parts) == zlib.crc32(external_id.encode()) % parts


def test_part_of_is_stable_across_calls():
    lines = file_of(50, customers=50)
    first = [part_of(ln, 4) for ln in lines]

    assert [part_of(ln, 4) for ln in lines] == first
    assert len(set(first)) > 1  # the ids really are spread over the parts


@pytest.mark.parametrize("external_id", ["", None])
@pytest.mark.parametrize("parts", [1, 2, 5])
def test_a_line_without_external_id_lands_in_a_valid_part(external_id, parts):
    # Such lines fail later ("Malformed line"), but they must be reported, so not dropped here.
    assert 0 <= part_of(line(2, external_id), parts) < parts
    assert part_of(line(2, external_id), parts) == part_of(line(3, ""), parts)


def test_every_line_of_one_customer_goes_to_the_same_part():
    lines = file_of(300, customers=11)
    part_by_customer: dict[str, set[int]] = {}
    for ln in lines:
        part_by_customer.setdefault(ln.external_id, set()).add(part_of(ln, 4))

    assert all(len(parts) == 1 for parts in part_by_customer.values())


# --- part_chunks ---------------------------------------------------------------------------


def test_chunks_hold_each_line_once_in_its_own_part_and_in_file_order():
    lines = file_of(103)
    chunks = list(part_chunks(lines, [0, 0, 0], 4))

    assert {part for part, _ in chunks} == {0, 1, 2}  # the customers fill every part
    applied = [ln for _, chunk in chunks for ln in chunk]
    assert sorted(numbers(applied)) == numbers(lines)  # every line exactly once...
    assert len({id(ln) for ln in applied}) == len(lines)  # ...the very objects read
    for part, chunk in chunks:
        assert 1 <= len(chunk) <= 4
        assert {part_of(ln, 3) for ln in chunk} == {part}
    for part in range(3):  # within a part, the file's order: a customer's last line wins
        mine = [ln for p, chunk in chunks if p == part for ln in chunk]
        assert mine == [ln for ln in lines if part_of(ln, 3) == part]


def test_full_chunks_come_as_they_fill_and_leftovers_at_the_end():
    lines = file_of(103)
    chunks = list(part_chunks(lines, [0, 0, 0], 4))
    full = [chunk for _, chunk in chunks if len(chunk) == 4]
    rest = chunks[len(full) :]

    assert chunks[: len(full)] == [(p, c) for p, c in chunks if len(c) == 4]  # full ones first
    ends = [chunk[-1].line_number for chunk in full]
    assert ends == sorted(ends)  # each yielded when its last line is read
    assert all(len(chunk) < 4 for _, chunk in rest)
    assert [part for part, _ in rest] == sorted({part for part, _ in rest})  # one flush per part
    assert sum(len(chunk) for _, chunk in chunks) == len(lines)


def test_a_chunk_is_yielded_before_the_next_line_is_read():
    # Lazily: memory stays flat and the first chunk is applied while the file is still read.
    read: list[int] = []

    def reader():
        for ln in file_of(40, customers=1):  # one customer: one part gets every line
            read.append(ln.line_number)
            yield ln

    chunks = part_chunks(reader(), [0, 0], 5)
    _, chunk = next(chunks)

    assert numbers(chunk) == [2, 3, 4, 5, 6]
    assert read == [2, 3, 4, 5, 6]


def test_chunk_size_one_yields_every_line_alone_in_file_order():
    lines = file_of(20)
    chunks = list(part_chunks(lines, [0, 0, 0, 0], 1))

    assert [chunk for _, chunk in chunks] == [[ln] for ln in lines]
    assert [part for part, _ in chunks] == [part_of(ln, 4) for ln in lines]


def test_a_single_part_is_plain_chunking():
    lines = file_of(11)

    assert [(p, numbers(c)) for p, c in part_chunks(lines, [0], 5)] == [
        (0, numbers(lines[:5])),
        (0, numbers(lines[5:10])),
        (0, numbers(lines[10:])),
    ]


def test_nothing_to_read_or_nothing_left_yields_nothing():
    lines = file_of(10)

    assert list(part_chunks([], [0, 0], 3)) == []
    assert list(part_chunks(lines, [100, 100], 3)) == []


def test_committed_lines_are_skipped_per_part_only():
    lines = file_of(60)
    done = [30, 0, 45]
    chunks = list(part_chunks(lines, done, 4))

    kept = sorted(numbers([ln for _, chunk in chunks for ln in chunk]))
    assert kept == [ln.line_number for ln in lines if ln.line_number > done[part_of(ln, 3)]]
    # Part 1 committed nothing, so its lines before line 30 and 45 are all still there.
    part_1 = [ln for p, chunk in chunks if p == 1 for ln in chunk]
    assert part_1 == [ln for ln in lines if part_of(ln, 3) == 1]
    assert any(ln.line_number <= 30 for ln in part_1)


def test_a_resumed_run_yields_exactly_the_chunks_the_first_run_did_not_commit():
    # Each part committed a prefix of its own chunks (parts run side by side, so not a prefix
    # of the whole sequence); done[part] is the last line it committed, as _apply_chunk stores.
    lines = file_of(103)
    first = list(part_chunks(lines, [0, 0, 0], 4))
    per_part = [[chunk for p, chunk in first if p == part] for part in range(3)]
    committed = [2, 0, 5]
    assert all(len(per_part[part]) > committed[part] for part in range(3))  # some left to do
    done = [per_part[part][n - 1][-1].line_number if n else 0 for part, n in enumerate(committed)]

    resumed = list(part_chunks(lines, done, 4))

    for part in range(3):
        assert [chunk for p, chunk in resumed if p == part] == per_part[part][committed[part] :]


# --- part_chunks(..., only=part) -----------------------------------------------------------


def chunks_of_part(chunks: list[tuple[int, list[ImportLine]]], part: int) -> list[list[ImportLine]]:
    return [chunk for p, chunk in chunks if p == part]


@pytest.mark.parametrize("only", [0, 1, 2])
def test_only_yields_that_parts_chunks_and_nothing_else(only):
    # A part's task reads the whole file and applies its own lines: exactly the chunks that
    # part gets when every part is applied, cut at the same lines, in the same order.
    lines = file_of(103)
    every_part = list(part_chunks(lines, [0, 0, 0], 4))
    mine = list(part_chunks(lines, [0, 0, 0], 4, only=only))

    assert mine  # the customers fill every part
    assert {part for part, _ in mine} == {only}
    assert [chunk for _, chunk in mine] == chunks_of_part(every_part, only)
    applied = [ln for _, chunk in mine for ln in chunk]
    assert applied == [ln for ln in lines if part_of(ln, 3) == only]  # file order, each once
    assert all(1 <= len(chunk) <= 4 for _, chunk in mine)


def test_only_none_is_every_part():
    lines = file_of(50)

    assert list(part_chunks(lines, [0, 0], 3, only=None)) == list(part_chunks(lines, [0, 0], 3))


def test_only_skips_that_parts_committed_lines_and_ignores_the_others_progress():
    lines = file_of(60)
    chunks = list(part_chunks(lines, [30, 0, 45], 4, only=2))

    assert [chunk for _, chunk in chunks] == chunks_of_part(list(part_chunks(lines, [30, 0, 45], 4)), 2)
    assert numbers([ln for _, chunk in chunks for ln in chunk]) == [
        ln.line_number for ln in lines if part_of(ln, 3) == 2 and ln.line_number > 45
    ]
    # Whatever the other parts committed, part 1 alone is unaffected by it.
    assert list(part_chunks(lines, [10**6, 0, 10**6], 4, only=1)) == list(
        part_chunks(lines, [0, 0, 0], 4, only=1)
    )
    assert list(part_chunks(lines, [0, 10**6, 0], 4, only=1)) == []  # all of part 1 committed


def test_a_resumed_part_yields_exactly_its_chunks_the_first_run_did_not_commit():
    lines = file_of(103)
    first = list(part_chunks(lines, [0, 0, 0], 4))
    per_part = [chunks_of_part(first, part) for part in range(3)]
    committed = [2, 0, 5]
    done = [per_part[part][n - 1][-1].line_number if n else 0 for part, n in enumerate(committed)]

    for part in range(3):
        resumed = list(part_chunks(lines, done, 4, only=part))
        assert [chunk for _, chunk in resumed] == per_part[part][committed[part] :]
        assert {p for p, _ in resumed} <= {part}


def test_only_with_a_single_part_is_plain_chunking():
    lines = file_of(11)

    assert [(p, numbers(c)) for p, c in part_chunks(lines, [0], 5, only=0)] == [
        (0, numbers(lines[:5])),
        (0, numbers(lines[5:10])),
        (0, numbers(lines[10:])),
    ]
