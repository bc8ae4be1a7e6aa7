"""The group commit's leader and followers (hub.services.ingest.group_commit), with a fake writer."""

from __future__ import annotations

import threading
import time

import pytest

from hub.services.ingest.group_commit import GroupCommit, Pending


class SlowWriter:
    """Doubles each number; the first batch waits until `release`, so the others queue up."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.first_started = threading.Event()
        self.release = threading.Event()

    def __call__(self, batch: list[Pending[int, int]]) -> None:
        self.batches.append([p.work for p in batch])
        if len(self.batches) == 1:
            self.first_started.set()
            assert self.release.wait(5)
        for pending in batch:
            if pending.work < 0:
                pending.fail(ValueError(f"negative: {pending.work}"))
            else:
                pending.settle(pending.work * 2)


Outcomes = dict[int, object]


def submit_all(group: GroupCommit[int, int], works: list[int]) -> tuple[Outcomes, list[threading.Thread]]:
    outcomes: dict[int, object] = {}

    def one(work: int) -> None:
        try:
            outcomes[work] = group.submit(work)
        except Exception as exc:  # noqa: BLE001 - the test looks at what each caller got
            outcomes[work] = exc

    threads = [threading.Thread(target=one, args=(w,)) for w in works]
    for thread in threads:
        thread.start()
        time.sleep(0.01)
    return outcomes, threads


def test_requests_arriving_while_one_writes_share_the_next_batch() -> None:
    writer = SlowWriter()
    group = GroupCommit(writer)
    first = threading.Thread(target=group.submit, args=(1,))
    first.start()
    assert writer.first_started.wait(5)
    outcomes, threads = submit_all(group, [2, 3, 4, -5])
    writer.release.set()
    first.join(5)
    for thread in threads:
        thread.join(5)
    assert writer.batches[0] == [1]
    assert sorted(writer.batches[1]) == [-5, 2, 3, 4]  # one transaction for all four
    assert len(writer.batches) == 2
    assert {k: v for k, v in outcomes.items() if k > 0} == {2: 4, 3: 6, 4: 8}
    assert isinstance(outcomes[-5], ValueError)  # its own error, the others unharmed
    assert (group.batches, group.requests) == (2, 5)


def test_a_lone_request_is_written_at_once() -> None:
    group: GroupCommit[int, int] = GroupCommit(lambda batch: [p.settle(p.work + 1) for p in batch])
    started = time.perf_counter()
    assert group.submit(41) == 42
    assert time.perf_counter() - started < 0.5  # no timer: nothing waits for company
    assert (group.batches, group.requests) == (1, 1)


def test_a_writer_that_raises_fails_the_whole_batch_and_the_next_leader_goes_on() -> None:
    calls = []

    def writer(batch: list[Pending[int, int]]) -> None:
        calls.append(len(batch))
        if len(calls) == 1:
            raise ConnectionError("database down")
        for pending in batch:
            pending.settle(0)

    group: GroupCommit[int, int] = GroupCommit(writer)
    with pytest.raises(ConnectionError):
        group.submit(1)
    assert group.submit(2) == 0  # the lock was released, a new leader writes


def test_an_item_the_writer_forgets_gets_an_error_not_a_hang() -> None:
    group: GroupCommit[int, int] = GroupCommit(lambda batch: None)
    with pytest.raises(RuntimeError, match="unsettled"):
        group.submit(1)


def test_a_forked_child_starts_with_a_fresh_lock_and_queue() -> None:
    group: GroupCommit[int, int] = GroupCommit(lambda batch: [p.settle(p.work) for p in batch])
    group._ready.acquire()  # as if the parent forked while a thread held it
    group._pid = -1  # the child sees another pid
    assert group.submit(7) == 7
