"""An import split into parts by customer: which part a line goes to, its chunks, and applying the
parts side by side in forked processes.

No database. The chunking tests run on lines built in memory. `apply_in_processes` forks real
children, which cannot touch the test's memory: each part's `work` leaves its trail in files under
pytest's tmp_path (what it saw, its pid), and the tests read them once every child has been waited
for. Parts that must run at the same time meet through files too, polled with a deadline, never
timed with sleeps: a broken implementation fails within WAIT seconds instead of hanging.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import signal
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hub.csvfile.reader import ImportLine
from hub.services.imports.parts import apply_in_processes, can_fork, part_chunks, part_of

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
    # A part's process reads the whole file and applies its own lines: exactly the chunks that
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


# --- apply_in_processes --------------------------------------------------------------------

forks = pytest.mark.skipif(not can_fork(), reason="apply_in_processes needs os.fork")

SEEN_IN_WORK: list[int] = []  # appended to by work in the children: the parent's copy stays empty


class PartFailed(Exception):
    """What a part raises: an ordinary exception, pickled back to the parent as it is."""


class Unpicklable(Exception):
    """Holds a lambda, so pickle.dumps fails in the child."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.describe = lambda: message


def local_error(message: str) -> Exception:
    class LocalError(Exception):
        """Defined in a function: pickle cannot name its class."""

    return LocalError(message)


class NeedsTwo(Exception):
    """Pickles, but unpickling calls NeedsTwo(message), which fails: pickle.loads raises."""

    def __init__(self, table: str, reason: str) -> None:
        super().__init__(f"{table}: {reason}")


class Trail:
    """Files under tmp_path through which the children tell the test what they did."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def record(self, part: int, text: str) -> None:
        with (self.root / f"part-{part}.log").open("a", encoding="utf-8") as file:
            file.write(text + "\n")

    def lines(self, part: int) -> list[str]:
        path = self.root / f"part-{part}.log"
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else []

    def flag(self, name: str) -> Path:
        return self.root / name

    def put(self, name: str, text: str) -> None:
        """Writes a flag whole (renamed into place), so that whoever sees it sees all of it."""
        self.flag(f"{name}.tmp").write_text(text, encoding="utf-8")
        os.replace(self.flag(f"{name}.tmp"), self.flag(name))

    def wait_for(self, name: str) -> bool:
        return wait_until(self.flag(name).exists)


def wait_until(condition: Callable[[], bool]) -> bool:
    """Polls the condition: False when it still does not hold after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def reaped(pid: int) -> bool:
    """Whether the process is gone and waited for (a zombie, not yet waited for, takes signals)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def trail(tmp_path: Path) -> Trail:
    return Trail(tmp_path)


_FORKED: list[int] = []  # the children forked during the current test (see no_children)


def children_left() -> bool:
    """Whether a child forked during this test is still running or was never waited for.

    Only the test's own children count: the rest of the suite may keep servers running as
    children of this process (Redis, gunicorn, Celery for the end-to-end tests).
    """
    left = False
    for pid in _FORKED:
        try:
            os.waitpid(pid, os.WNOHANG)  # reaps it if it finished: it was left all the same
        except ChildProcessError:
            continue  # waited for already
        left = True
    return left


@pytest.fixture
def no_children(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Records every child forked during the test; whatever a broken implementation leaves
    behind is reaped afterwards (within WAIT seconds), so that it fails this test only."""
    real_fork = os.fork

    def recording_fork() -> int:
        pid = real_fork()
        if pid:
            _FORKED.append(pid)
        return pid

    _FORKED.clear()
    monkeypatch.setattr(os, "fork", recording_fork)
    yield
    deadline = time.monotonic() + WAIT
    for pid in _FORKED:
        while time.monotonic() < deadline:
            try:
                if os.waitpid(pid, os.WNOHANG) != (0, 0):
                    break
            except ChildProcessError:
                break
            time.sleep(0.01)
    _FORKED.clear()


def nothing() -> None:
    """An after_fork with nothing to drop."""


def notes(exc: BaseException) -> str:
    return "\n".join(getattr(exc, "__notes__", []))


@forks
@pytest.mark.parametrize("parts", [1, 3])
def test_every_part_runs_once_in_a_child_of_its_own_after_after_fork(trail, parts, no_children):
    def after_fork() -> None:
        trail.flag(f"after-fork-{os.getpid()}").touch(exist_ok=False)  # once per process

    def work(part: int) -> bool:
        after_fork_ran = trail.flag(f"after-fork-{os.getpid()}").exists()
        trail.record(part, f"{os.getpid()} {os.getppid()} {after_fork_ran}")
        return True

    assert apply_in_processes(work, parts, after_fork) is True

    assert not children_left()  # every child was waited for
    runs = [trail.lines(part) for part in range(parts)]
    assert all(len(run) == 1 for run in runs), runs  # each part exactly once
    assert sorted(path.name for path in trail.root.glob("part-*.log")) == [
        f"part-{part}.log" for part in range(parts)
    ]
    pids = [int(run[0].split()[0]) for run in runs]
    assert os.getpid() not in pids
    assert len(set(pids)) == parts  # a process per part
    for run in runs:  # forked by this very process, after_fork done before work
        assert run[0].split()[1:] == [str(os.getpid()), "True"]
    assert sorted(path.name for path in trail.root.glob("after-fork-*")) == sorted(
        f"after-fork-{pid}" for pid in pids
    )  # in every child, never in the parent


@forks
def test_the_children_do_not_touch_the_parents_memory(trail, no_children):
    SEEN_IN_WORK.clear()

    def work(part: int) -> bool:
        SEEN_IN_WORK.append(part)
        trail.record(part, repr(SEEN_IN_WORK))
        return True

    assert apply_in_processes(work, 2, nothing) is True

    assert SEEN_IN_WORK == []
    assert [trail.lines(0), trail.lines(1)] == [["[0]"], ["[1]"]]  # each child its own copy


@forks
@pytest.mark.parametrize("lost", [[], [0], [2], [0, 2]], ids=["none", "first", "last", "two"])
def test_true_only_when_every_part_is_still_ours(trail, lost, no_children):
    # A part that returns False lost the claim to a newer run.
    def work(part: int) -> bool:
        trail.record(part, "lost" if part in lost else "done")
        return part not in lost

    assert apply_in_processes(work, 3, nothing) is (not lost)

    assert not children_left()
    assert [trail.lines(part) for part in range(3)] == [
        ["lost" if part in lost else "done"] for part in range(3)
    ]


@forks
def test_the_parts_run_side_by_side(trail, no_children):
    # Every part waits until every other part has started: were they run one after the other,
    # the first would wait in vain for WAIT seconds and fail.
    parts = 3

    def work(part: int) -> bool:
        trail.flag(f"started-{part}").touch()
        for other in range(parts):
            if not trail.wait_for(f"started-{other}"):
                raise AssertionError(f"part {part} never saw part {other} start")
        trail.record(part, "met the others")
        return True

    started = time.monotonic()
    assert apply_in_processes(work, parts, nothing) is True

    assert time.monotonic() - started < WAIT
    assert [trail.lines(part) for part in range(parts)] == [["met the others"]] * parts
    assert not children_left()


@forks
@pytest.mark.parametrize("failing", [0, 1])
def test_an_error_in_a_part_is_raised_in_the_parent_with_the_childs_traceback(trail, failing, no_children):
    other = 1 - failing

    def failing_work(part: int) -> bool:
        trail.record(part, str(os.getpid()))
        if part == failing:
            raise PartFailed(f"database went away in part {part}")
        trail.record(part, "done")
        return True

    with pytest.raises(PartFailed) as raised:
        apply_in_processes(failing_work, 2, nothing)

    assert type(raised.value) is PartFailed
    assert raised.value.args == (f"database went away in part {failing}",)
    note = notes(raised.value)
    child_pid = trail.lines(failing)[0]
    assert re.search(rf"\bimport part {failing}\b", note), note
    assert child_pid in note and child_pid != str(os.getpid())  # the child's, not ours
    assert "Traceback (most recent call last)" in note
    assert "in failing_work" in note and "raise PartFailed" in note
    assert trail.lines(other) == [trail.lines(other)[0], "done"]
    assert not children_left()


@forks
@pytest.mark.parametrize("trouble", ["error", "lost claim", "no result"])
def test_a_part_in_trouble_does_not_stop_the_others(trail, trouble, no_children):
    # Part 1 finishes only after the parent has waited for part 0, so knows what became of it.
    test_pid = os.getpid()

    def work(part: int) -> bool:
        if part == 0:
            trail.put("part-0-pid", str(os.getpid()))
            if trouble == "error":
                raise PartFailed("part 0 broke")
            if trouble == "no result":
                exit_3(test_pid)
            return False
        part_0_known = trail.wait_for("part-0-pid") and wait_until(
            lambda: reaped(int(trail.flag("part-0-pid").read_text(encoding="utf-8")))
        )
        trail.record(part, "done" if part_0_known else "part 0 was never waited for")
        return True

    if trouble == "lost claim":
        assert apply_in_processes(work, 2, nothing) is False
    else:
        with pytest.raises(PartFailed if trouble == "error" else RuntimeError, match="part 0"):
            apply_in_processes(work, 2, nothing)

    assert trail.lines(1) == ["done"]
    assert not children_left()


@forks
@pytest.mark.parametrize("make_error", [Unpicklable, local_error], ids=["lambda-attribute", "local-class"])
def test_an_error_that_cannot_be_pickled_arrives_described(trail, make_error, no_children):
    with pytest.raises(Exception):  # the premise: pickle fails, whatever it raises
        pickle.dumps(make_error("premise"))

    def work(part: int) -> bool:
        if part == 1:
            raise make_error("no connection to the database")
        trail.record(part, "done")
        return True

    with pytest.raises(RuntimeError) as raised:
        apply_in_processes(work, 2, nothing)

    assert type(raised.value) is RuntimeError
    assert "import part 1" in str(raised.value)
    assert "no connection to the database" in str(raised.value)  # described, not lost
    assert trail.lines(0) == ["done"]
    assert not children_left()


@forks
def test_an_error_that_cannot_be_unpickled_arrives_described(trail, no_children):
    error = NeedsTwo("customers", "no connection to the database")
    with pytest.raises(TypeError):
        pickle.loads(pickle.dumps(error))  # the premise

    def work(part: int) -> bool:
        if part == 0:
            raise NeedsTwo("customers", "no connection to the database")
        trail.record(part, "done")
        return True

    with pytest.raises(RuntimeError) as raised:
        apply_in_processes(work, 2, nothing)

    assert "import part 0" in str(raised.value)
    assert "no connection to the database" in str(raised.value)
    assert trail.lines(1) == ["done"]
    assert not children_left()


def exit_3(test_pid: int) -> None:
    assert os.getpid() != test_pid, "work runs in the test's own process"  # which would end
    os._exit(3)


def kill_9(test_pid: int) -> None:
    assert os.getpid() != test_pid, "work runs in the test's own process"
    os.kill(os.getpid(), signal.SIGKILL)


@forks
@pytest.mark.parametrize(
    ("die", "how"), [(exit_3, "exit status 3"), (kill_9, "killed by signal 9")], ids=["exit-3", "sigkill"]
)
def test_a_child_that_ends_without_a_result_is_an_error(trail, die, how, no_children):
    test_pid = os.getpid()

    def work(part: int) -> bool:
        if part == 0:
            die(test_pid)
            trail.record(part, "survived")  # never reached
        else:
            trail.record(part, "done")
        return True

    with pytest.raises(RuntimeError, match=r"^import part 0 ended without a result\b") as raised:
        apply_in_processes(work, 2, nothing)

    assert how in str(raised.value)
    assert [trail.lines(0), trail.lines(1)] == [[], ["done"]]
    assert not children_left()


@forks
def test_of_two_errors_the_first_parts_is_raised_and_the_other_logged(trail, caplog, no_children):
    # Part 2 fails first, part 1 after it; part 0 succeeds once both have failed.
    def work(part: int) -> bool:
        if part == 2:
            trail.flag("failed-2").touch()
            raise PartFailed("part 2 broke")
        if part == 1:
            trail.wait_for("failed-2")
            trail.flag("failed-1").touch()
            raise PartFailed("part 1 broke")
        trail.record(part, "done" if trail.wait_for("failed-1") else "part 1 never failed")
        return True

    with caplog.at_level(logging.ERROR, logger="hub.services.imports.parts"):
        with pytest.raises(PartFailed) as raised:
            apply_in_processes(work, 3, nothing)

    assert raised.value.args == ("part 1 broke",)
    logged = [r.getMessage() for r in caplog.records if r.name == "hub.services.imports.parts"]
    assert len(logged) == 1, logged
    assert "part 2 broke" in logged[0]
    assert trail.lines(0) == ["done"]
    assert not children_left()


@forks
def test_an_error_in_after_fork_is_the_parts_error_and_its_work_does_not_run(trail, no_children):
    def after_fork() -> None:
        raise PartFailed("cannot drop the inherited connections")

    def work(part: int) -> bool:
        trail.record(part, "ran")
        return True

    with pytest.raises(PartFailed) as raised:
        apply_in_processes(work, 2, after_fork)

    assert raised.value.args == ("cannot drop the inherited connections",)
    assert "import part 0" in notes(raised.value)
    assert [trail.lines(0), trail.lines(1)] == [[], []]
    assert not children_left()


@forks
def test_when_a_fork_fails_the_children_already_started_are_waited_for(trail, monkeypatch, no_children):
    real_fork = os.fork
    forked: list[int] = []

    def fork_once() -> int:
        if forked:
            raise BlockingIOError("Resource temporarily unavailable")
        pid = real_fork()
        forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork_once)

    def work(part: int) -> bool:
        trail.record(part, "done")
        return True

    with pytest.raises(BlockingIOError):
        apply_in_processes(work, 3, nothing)

    assert [trail.lines(part) for part in range(3)] == [["done"], [], []]
    assert not children_left()
