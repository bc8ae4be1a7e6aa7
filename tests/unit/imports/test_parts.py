"""An import split into parts by customer: which part a line goes to, its chunks, and applying them.

No database: `apply` is a recorder. The threaded tests synchronise with events and with what the
bounded per-part queues guarantee, never with sleeps, so they pass the same way on every run.
"""

from __future__ import annotations

import threading
import zlib

import pytest

from hub.imports.reader import ImportLine
from hub.services.imports_parts import DEPTH, PartAppliers, part_chunks, part_of

WAIT = 10  # seconds; only a safety net so a broken implementation fails instead of hanging


def line(number: int, external_id: str | None = "C1") -> ImportLine:
    # external_id is typed str, but a blank cell must still land somewhere: None is tried too.
    raw = {"External Id": external_id or ""}
    return ImportLine(number, raw, external_id, None, None)  # type: ignore[arg-type]


def numbers(lines: list[ImportLine]) -> list[int]:
    return [ln.line_number for ln in lines]


def file_of(count: int, customers: int = 12) -> list[ImportLine]:
    """Lines 2..count+1 (line 1 is the header), customers cycling so every part gets many."""
    return [line(n, f"CUST-{n % customers}") for n in range(2, count + 2)]


def part_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("import-part-")]


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


# --- PartAppliers ----------------------------------------------------------------------------


class Recorder:
    """The apply function: records (part, line numbers, bytes_read, thread name) per chunk.

    `verdicts` maps a chunk's first line number to what applying it does: False (the claim was
    lost) or an exception to raise. `gate`, when given, holds every apply until it is set.
    """

    def __init__(
        self, verdicts: dict[int, bool | BaseException] | None = None, gate: threading.Event | None = None
    ) -> None:
        self.verdicts = verdicts or {}
        self.gate = gate
        self.applied: list[tuple[int, list[int], int, str]] = []
        self.lock = threading.Lock()

    def __call__(self, part: int, lines: list[ImportLine], bytes_read: int) -> bool:
        if self.gate is not None:
            assert self.gate.wait(WAIT), "the gate was never opened"
        with self.lock:
            self.applied.append((part, numbers(lines), bytes_read, threading.current_thread().name))
        verdict = self.verdicts.get(lines[0].line_number, True)
        if isinstance(verdict, BaseException):
            raise verdict
        return verdict

    def chunks_of(self, part: int) -> list[list[int]]:
        with self.lock:
            return [nums for p, nums, _, _ in self.applied if p == part]


def chunk_at(first: int, size: int = 2) -> list[ImportLine]:
    return [line(n) for n in range(first, first + size)]


class ReaderError(Exception):
    """Stands for MalformedBody/PayloadTooLarge raised while the file is read."""


@pytest.mark.parametrize("threaded", [False, True])
def test_every_chunk_is_applied_in_order_within_its_part(threaded):
    recorder = Recorder()
    # 3 parts x 8 chunks, interleaved as part_chunks would hand them over.
    plan = [
        (part, chunk_at(2 + 10 * (3 * i + part)), 100 * (3 * i + part)) for i in range(8) for part in range(3)
    ]

    with PartAppliers(recorder, 3, threaded) as appliers:
        assert len(part_threads()) == (3 if threaded else 0)  # a thread per part, or none
        for part, lines, bytes_read in plan:
            assert appliers.submit(part, lines, bytes_read) is True

    assert part_threads() == []  # leaving the block waited for every thread to finish
    assert appliers.still_ours
    for part in range(3):
        assert recorder.chunks_of(part) == [numbers(lines) for p, lines, _ in plan if p == part]
    assert sorted((p, b) for p, _, b, _ in recorder.applied) == sorted((p, b) for p, _, b in plan)
    for part, _, _, thread_name in recorder.applied:  # each part in its own thread, or the reader's
        assert thread_name == (f"import-part-{part}" if threaded else threading.current_thread().name)
    if not threaded:  # applied on the spot: the submission order, across parts too
        assert [nums for _, nums, _, _ in recorder.applied] == [numbers(lines) for _, lines, _ in plan]


def test_threaded_parts_do_not_wait_for_each_other():
    # Part 0 is stuck on its first chunk until part 1 has applied all of its own.
    part_1_done = threading.Event()
    part_1_chunks = [chunk_at(100 + 10 * i) for i in range(6)]

    recorder = Recorder()

    def apply(part: int, lines: list[ImportLine], bytes_read: int) -> bool:
        if part == 0:
            assert part_1_done.wait(WAIT), "part 1 was held up by part 0"
        applied = recorder(part, lines, bytes_read)
        if lines is part_1_chunks[-1]:
            part_1_done.set()  # after recording it, so the order recorded is the order applied
        return applied

    with PartAppliers(apply, 2, threaded=True) as appliers:
        for i in range(DEPTH + 1):  # one being applied (stuck) and DEPTH waiting: no blocking
            appliers.submit(0, chunk_at(2 + 10 * i), 0)
        for lines in part_1_chunks:
            appliers.submit(1, lines, 0)

    assert part_threads() == []
    assert [p for p, _, _, _ in recorder.applied] == [1] * 6 + [0] * (DEPTH + 1)


@pytest.mark.parametrize("threaded", [False, True])
def test_a_lost_claim_stops_applying(threaded):
    recorder = Recorder(verdicts={52: False})  # the chunk starting at line 52: a newer run took over
    lost = chunk_at(52)
    submitted_after_stop: list[list[ImportLine]] = []

    with PartAppliers(recorder, 2, threaded) as appliers:
        for i in range(5):
            assert appliers.submit(0, chunk_at(2 + 10 * i), 0) is True
        for i in range(3):
            appliers.submit(1, chunk_at(202 + 10 * i), 0)  # may or may not be applied
        ours = appliers.submit(0, lost, 0)
        if not threaded:
            assert ours is False  # applied on the spot, so known at once
        # Threaded, the part's thread learns it later; but submit blocks once DEPTH chunks wait
        # behind the lost one, and the thread takes the next only after applying it: so by the
        # (DEPTH + 1)th chunk after it at the latest, submit has said stop.
        followers = [chunk_at(62 + 10 * i) for i in range(DEPTH + 1)]
        for lines in followers:
            if not ours:
                break
            ours = appliers.submit(0, lines, 0)
        assert ours is False
        for part, first in [(0, 500), (1, 600), (0, 700)]:
            submitted_after_stop.append(chunk_at(first))
            assert appliers.submit(part, submitted_after_stop[-1], 0) is False  # and stays so

    assert part_threads() == []
    assert appliers.still_ours is False
    # Part 0: everything before the lost chunk, the lost chunk, and nothing after it.
    assert recorder.chunks_of(0) == [[2 + 10 * i, 3 + 10 * i] for i in range(5)] + [[52, 53]]
    applied = [nums for _, nums, _, _ in recorder.applied]
    assert not any(numbers(lines) in applied for lines in submitted_after_stop + followers)


@pytest.mark.parametrize("threaded", [False, True])
def test_an_error_while_applying_is_raised_when_the_block_is_left(threaded):
    boom = RuntimeError("database went away")
    recorder = Recorder(verdicts={32: boom})

    with pytest.raises(RuntimeError) as raised:
        with PartAppliers(recorder, 2, threaded) as appliers:
            for i in range(10):
                if not appliers.submit(0, chunk_at(2 + 10 * i), 0):
                    break

    assert raised.value is boom  # the very error, not a wrapper
    assert part_threads() == []
    assert appliers.still_ours  # an error is not a lost claim
    assert recorder.chunks_of(0) == [[2, 3], [12, 13], [22, 23], [32, 33]]  # nothing after it


def test_a_threaded_error_does_not_interrupt_the_reader_but_stops_it():
    # In a thread the error cannot surface in submit(); it is kept for the end of the block and
    # submit answers False (stop reading) by the DEPTH + 1th chunk after the failing one.
    boom = RuntimeError("database went away")
    recorder = Recorder(verdicts={2: boom})
    answers = []
    body_finished = False

    with pytest.raises(RuntimeError) as raised:
        with PartAppliers(recorder, 1, threaded=True) as appliers:
            for i in range(DEPTH + 2):
                answers.append(appliers.submit(0, chunk_at(2 + 10 * i), 0))  # never raises
            body_finished = True

    assert body_finished
    assert raised.value is boom
    assert answers[-1] is False
    assert part_threads() == []
    assert recorder.chunks_of(0) == [[2, 3]]


@pytest.mark.parametrize("threaded", [False, True])
def test_a_reader_error_still_applies_what_was_submitted_and_propagates(threaded):
    # Threaded, every apply is held until the reader has failed: what is applied afterwards is
    # applied because leaving the block waited for it.
    gate = threading.Event()
    if not threaded:
        gate.set()  # applied on the spot in the reading thread, which must not wait for itself
    recorder = Recorder(gate=gate)
    error = ReaderError("quote never closed")
    plan = [(part, chunk_at(2 + 10 * (2 * i + part))) for i in range(DEPTH + 1) for part in range(2)]

    with pytest.raises(ReaderError) as raised:
        with PartAppliers(recorder, 2, threaded) as appliers:
            for part, lines in plan:
                assert appliers.submit(part, lines, 0) is True
            if threaded:
                assert recorder.applied == []
            gate.set()
            raise error

    assert raised.value is error
    assert part_threads() == []
    assert appliers.still_ours
    for part in range(2):
        assert recorder.chunks_of(part) == [numbers(lines) for p, lines in plan if p == part]


@pytest.mark.parametrize("verdict", [RuntimeError("database went away"), False], ids=["error", "lost"])
def test_a_reader_error_is_not_replaced_by_trouble_in_a_part(verdict):
    # The part's error (or lost claim) happened before the block is left, and yet what the
    # caller sees is the reader's own error.
    recorder = Recorder(verdicts={2: verdict})
    error = ReaderError("quote never closed")

    with pytest.raises(ReaderError) as raised:
        with PartAppliers(recorder, 2, threaded=True) as appliers:
            appliers.submit(0, chunk_at(2), 0)
            raise error

    assert raised.value is error
    assert part_threads() == []
    assert recorder.chunks_of(0) == [[2, 3]]  # it was applied (and failed) all the same
    assert appliers.still_ours is (verdict is not False)
