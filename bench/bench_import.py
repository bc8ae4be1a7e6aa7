"""Benchmark the CSV assignment import on PostgreSQL: lines per second and peak memory.

    python bench/bench_import.py [--lines N] [--customers N] [--bad-share 0.02]
                                 [--parallelism 2] [--workers 2]
                                 [--server postgresql+psycopg://root@127.0.0.1:5432/test]

Creates a fresh database `hub_bench_<pid>` beside the server URL's database (as the test suite
does), migrates it, seeds customers with one server-side INSERT (so seeding costs the Python
process no memory), writes an N-line CSV to a temporary file (semicolons, extra column, one or
two account managers per cell, NBSP in workflow names, `--bad-share` bad lines of four kinds),
uploads it through the service the API uses, and processes it the way production does: a
private redis-server and `--workers` real Celery worker processes (`celery -A worker.app:celery
worker`, one process each, one message at a time: docker-compose.yml's bulk workers), started,
ready and warmed up by a 40-line import (unknown customers, so nothing changes) before the
clock starts, as long-running workers would be. The timed span runs from process_import in this
process (it claims the import and hands one part task per part to the broker) until the last
part task has closed the import (the `finished_at` that part stamps; the status is read every
0.2 s only to know when to stop). CPU seconds in that span are summed by kind of process (this
one, the workers' pool and main processes, PostgreSQL's backends for the database): on a shared
machine they vary far less than wall time. Peak memory: this process's maximum resident size
(getrusage), the largest worker process's (VmHWM), and the peak footprint of this process and
every worker process together (proportional set size, sampled). The database is dropped at the
end.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

WORKFLOWS = ["Card payers", "Direct debit", "Key accounts", "Public sector", "Default"]
MANAGERS = [f"manager.{i}@example.com" for i in range(40)]
BAD_KINDS = ("unknown customer", "unknown email", "unknown workflow", "malformed")


def machine_probe_ms() -> float:
    """A fixed stretch of pure interpreter work, timed (best of three): this VM's speed swings
    by half from one hour to the next, so every figure is printed beside it."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for i in range(5_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best * 1000


def max_rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory of this process, or (RUSAGE_CHILDREN) of its largest child."""
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # ru_maxrss: KiB on Linux
    return resource.getrusage(who).ru_maxrss / scale


class FootprintSampler:
    """Peak proportional set size (PSS) of this process plus every process below it, sampled.

    A Celery worker's pool process is a fork of the worker: summing RSS would count the pages
    they share once per process; PSS splits each shared page between its sharers, so the sum is
    what the import really occupies. Linux only (``/proc/<pid>/smaps_rollup``); elsewhere 0.
    Every 0.25 s: reading smaps_rollup walks a process's page tables, and at 50 ms for six
    processes that took a fifth of a core from the import on a two-core machine.
    """

    def __init__(self, every: float = 0.25) -> None:
        self.peak_kib = 0
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> FootprintSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            pids = [os.getpid(), *descendants(os.getpid())]
            self.peak_kib = max(self.peak_kib, sum(_pss_kib(pid) for pid in pids))


def descendants(root: int) -> list[int]:
    """Every process below `root` (the workers and their pool processes), read from the
    kernel's per-process child lists rather than a scan of every process on the machine."""
    found, todo = [], [root]
    while todo:
        below = _children_of(todo.pop())
        found += below
        todo += below
    return found


def _children_of(parent: int) -> list[int]:
    try:
        return [int(pid) for pid in
                Path(f"/proc/{parent}/task/{parent}/children").read_text().split()]
    except OSError:
        return []


def _proc_kib(pid: int, path: str, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kib(pid: int) -> int:
    return _proc_kib(pid, "smaps_rollup", "Pss:")


def peak_rss_mib(pid: int) -> float:
    return _proc_kib(pid, "status", "VmHWM:") / 1024


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process so far (Linux; 0 elsewhere or when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # fields 14 and 15


class CpuSampler:
    """CPU seconds spent during the timed span, by kind of process, sampled every 0.25 s so that
    processes that end meanwhile (forked parts, their database connections) are counted too.

    Kinds: "bench" (this process), "pool" (processes two levels below it: a Celery worker's
    pool processes), "workers" (one level below: the workers' main processes and the private
    redis-server) or "parts" (an earlier release's forked part processes, when no worker
    runs), and "postgres" (the backends serving the benchmark's database, by process title).
    The machine is shared: wall time swings with the neighbours' load, CPU per line much less.
    A process that ends during the span loses up to one interval of its CPU time (forked parts
    and their backends, in the earlier release).
    """

    def __init__(self, database: str, every: float = 0.25) -> None:
        self.database, self._every = database, every
        self._postmaster = _postmaster()
        self._first: dict[int, tuple[str, float]] = {}
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CpuSampler:
        self._sample(first=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def seconds(self) -> dict[str, float]:
        spent: dict[str, float] = {}
        for pid, (kind, first) in self._first.items():
            spent[kind] = spent.get(kind, 0.0) + self._last.get(pid, first) - first
        return spent

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._sample()

    def _sample(self, first: bool = False) -> None:
        me = os.getpid()
        children = set(_children_of(me))
        for pid, kind in [(me, "bench"), *self._below(me, children), *self._backends()]:
            seconds = cpu_seconds(pid)
            if pid not in self._first:  # a process born during the span counts from zero
                self._first[pid] = (kind, seconds if first else 0.0)
            self._last[pid] = max(self._last.get(pid, 0.0), seconds)

    def _below(self, me: int, children: set[int]) -> list[tuple[int, str]]:
        grandchildren = [(pid, "pool") for child in children for pid in _children_of(child)]
        kind = "workers" if grandchildren else "parts"
        return [*((pid, kind) for pid in children), *grandchildren]

    def _backends(self) -> list[tuple[int, str]]:
        found = []
        for pid in _children_of(self._postmaster):
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and f" {self.database} ".encode() in title:
                found.append((pid, "postgres"))
        return found


def _postmaster() -> int:
    """The PostgreSQL server on this machine: the parent of its backends (found once)."""
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if (entry / "cmdline").read_bytes().startswith(b"postgres: "):
                return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
    return 0


class Workers:
    """A private redis-server and `count` Celery workers on the benchmark's database, ready."""

    def __init__(self, database_url: str, count: int, log_dir: Path) -> None:
        self.database_url, self.count, self.log_dir = database_url, count, log_dir
        self.processes: list[Any] = []

    def __enter__(self) -> Workers:
        from tests.e2e.stack import ROOT, RedisServer, start_worker, wait_until

        self.redis = RedisServer(self.log_dir)
        self.broker_url = f"redis://127.0.0.1:{self.redis.port}/0"
        env = {"PATH": str(ROOT / ".venv" / "bin") + ":/usr/bin:/bin",
               "HUB_DATABASE_URL": self.database_url, "HUB_BROKER_URL": self.broker_url,
               "HUB_RECIPES_DIR": str(ROOT / "recipes"), "HUB_LOG_LEVEL": "WARNING"}
        self.processes = [start_worker(env, self.log_dir, concurrency=1, beat=False,
                                       name=f"bench-worker{n}", prefetch=1)
                          for n in range(self.count)]
        wait_until(lambda: all(" ready." in w.log_path.read_text(errors="replace")
                               for w in self.processes), 60, what="the workers")
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            process.stop()
        self.redis.stop()

    def peak_rss_mib(self) -> float:
        """The largest worker process's peak resident size (a pool process applies the parts)."""
        return max((peak_rss_mib(pid) for w in self.processes for pid in [w.proc.pid,
                    *descendants(w.proc.pid)]), default=0.0)


def create_database(server: str) -> str:
    """A fresh database beside `server`, created the way the test suite creates its own."""
    from tests.conftest import _create_postgres_database

    return _create_postgres_database(server)


def drop_database(server: str, url: str) -> None:
    from tests.conftest import _drop_postgres_database

    _drop_postgres_database(server, url)


def seed(hub: Any, customers: int) -> None:
    from sqlalchemy import text

    with hub.db.engine.begin() as conn:
        for i, name in enumerate(WORKFLOWS):
            conn.execute(text("INSERT INTO workflows (id, name, created_at) VALUES (:id, :n, now())"),
                         {"id": f"wf_{i}", "n": name})
        for email in MANAGERS:
            conn.execute(text("INSERT INTO users (id, email, role, status, created_at) "
                              "VALUES (gen_random_uuid()::text, :e, 'account_manager', 'active', now())"),
                         {"e": email})
        conn.execute(text(
            "INSERT INTO customers (id, external_id, custom_fields, ownership, created_at, updated_at) "
            "SELECT gen_random_uuid()::text, 'CUST-' || lpad(i::text, 7, '0'), '{}'::jsonb, '{}'::jsonb, now(), now() "
            "FROM generate_series(0, :n - 1) AS i"), {"n": customers})
    with hub.db.engine.connect() as conn:
        conn.execute(text("ANALYZE"))


def write_csv(path: Path, lines: int, customers: int, bad_share: float) -> int:
    """Write the upload; returns how many lines are bad on purpose."""
    bad_every = round(1 / bad_share) if bad_share > 0 else 0
    bad = 0
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write("External Id;Name;Account manager email;Workflow name\r\n")
        for i in range(lines):
            customer = f"CUST-{i % customers:07d}"
            managers = MANAGERS[i % 40] + (f", {MANAGERS[(i * 7) % 40]}" if i % 3 == 0 else "")
            workflow = WORKFLOWS[i % 5].replace(" ", "\u00a0", 1 if i % 4 == 0 else 0)
            if bad_every and i % bad_every == bad_every // 2:
                kind = BAD_KINDS[bad % len(BAD_KINDS)]
                bad += 1
                if kind == "unknown customer":
                    customer = f"NOPE-{i}"
                elif kind == "unknown email":
                    managers = f"ghost.{i}@example.com"
                elif kind == "unknown workflow":
                    workflow = "Card payer"
                else:
                    out.write(f"{customer};Customer {i};{managers}\r\n")
                    continue
            out.write(f"{customer};Customer {i};{managers};{workflow}\r\n")
    return bad


def run(args: argparse.Namespace) -> None:
    from hub.bootstrap import build_hub
    from hub.config import load_settings
    from hub.db import migrate
    from hub.services.imports.run import CHUNK_LINES

    if args.chunk != CHUNK_LINES:
        raise SystemExit(f"the part tasks apply chunks of {CHUNK_LINES} lines (CHUNK_LINES)")
    url = create_database(args.server)
    try:
        migrate.upgrade(url)
        with tempfile.TemporaryDirectory() as folder, Workers(url, args.workers, Path(folder)) as workers:
            settings = load_settings(environ={}, overrides={
                "database_url": url, "broker_url": workers.broker_url, "import_max_bytes": 2**40,
                "import_parallelism": args.parallelism})
            hub = build_hub(settings)
            started = time.perf_counter()
            seed(hub, args.customers)
            print(f"seeded {args.customers:,} customers in {time.perf_counter() - started:.1f} s")
            path = Path(folder) / "assign.csv"
            bad = write_csv(path, args.lines, args.customers, args.bad_share)
            measure(hub, path, path.stat().st_size, bad, args, workers)
            hub.db.dispose()
    finally:
        drop_database(args.server, url)


def wait_until_finished(hub: Any, import_id: int, every: float = 0.2) -> str:
    from sqlalchemy import text

    from hub.db.models.imports import IMPORT_FINISHED

    with hub.db.engine.connect() as conn:
        while True:
            status = conn.execute(text("SELECT status FROM imports WHERE id = :id"),
                                  {"id": import_id}).scalar()
            conn.rollback()
            if status in IMPORT_FINISHED:
                return str(status)
            time.sleep(every)


def warm_up(hub: Any, path: Path) -> None:
    """A small import through the workers first, untimed, so that each worker process has
    imported the code and opened its connection, as a worker that has been running has: lines
    for customers that do not exist, so that nothing the timed import writes is changed."""
    from hub.services.imports.run import process_import
    from hub.services.imports.upload import create_import

    path.write_text("External Id;Name;Account manager email;Workflow name\r\n" + "".join(
        f"WARM-{i};Warm-up {i};{MANAGERS[0]};{WORKFLOWS[0]}\r\n" for i in range(40)),
        encoding="utf-8")
    with path.open("rb") as stream:
        row = create_import(hub, stream, path.name, None, "bench warm-up")
    process_import(hub, row.id)
    wait_until_finished(hub, row.id)


def measure(hub: Any, path: Path, size: int, bad: int, args: argparse.Namespace,
            workers: Workers) -> None:
    from hub.db.types import utcnow
    from hub.services.imports.run import process_import
    from hub.services.imports.upload import create_import, get_import

    warm_up(hub, path.parent / "warm-up.csv")
    rss_before, probe_before = max_rss_mib(), machine_probe_ms()
    started = time.perf_counter()
    with path.open("rb") as stream:
        row = create_import(hub, stream, path.name, None, "bench")
    upload_seconds = time.perf_counter() - started
    with FootprintSampler() as footprint, CpuSampler(database_name(hub)) as cpu:
        started = utcnow()
        handed_out = process_import(hub, row.id)  # claims; hands the parts to the workers
        status = wait_until_finished(hub, row.id)
    with hub.uow() as uow:
        done = get_import(uow.session, row.id)
        counts = (done.updated, done.unchanged, done.failed, done.processed_lines)
        seconds = (done.finished_at - started).total_seconds()  # stamped by the closing part
    print(f"machine probe:   {probe_before:.0f} ms before, {machine_probe_ms():.0f} ms after, for 5M "
          "interpreter loop steps (lower is faster)")
    print(f"file:            {args.lines:,} lines, {size / 1e6:.1f} MB, {bad:,} bad lines")
    print(f"upload:          {upload_seconds:.2f} s (header check + storing the file)")
    print(f"import:          {seconds:.2f} s, {args.lines / seconds:,.0f} lines/s  -> {status} "
          f"({args.parallelism} part tasks on {args.workers} workers; process_import: {handed_out})")
    print(f"counts:          updated {counts[0]:,}, unchanged {counts[1]:,}, failed {counts[2]:,}, "
          f"processed {counts[3]:,}")
    print_cpu(cpu.seconds(), args.lines)
    print(f"max RSS:         {rss_before:.1f} MiB before upload, {max_rss_mib():.1f} MiB after; "
          f"largest worker process {workers.peak_rss_mib():.1f} MiB")
    print(f"peak footprint:  {footprint.peak_kib / 1024:.1f} MiB PSS, this process and every worker "
          "process together (sampled every 0.25 s)")
    if counts[2] != bad or counts[3] != args.lines:
        raise SystemExit("unexpected counts")
    if args.per_line:
        per_line(hub, args.per_line)


def database_name(hub: Any) -> str:
    return str(hub.db.engine.url.database)


def print_cpu(spent: dict[str, float], lines: int) -> None:
    total = sum(spent.values())
    kinds = ", ".join(f"{kind} {seconds:.2f}" for kind, seconds in sorted(spent.items()))
    print(f"CPU:             {total:.2f} s = {1e6 * total / lines:.0f} µs per line ({kinds})")


def per_line(hub: Any, lines: int) -> None:
    """For comparison: the same writes through assign(), one customer at a time."""
    from sqlalchemy import text

    from hub.db.types import utcnow
    from hub.services.assignment import AssignmentService, Cause, FieldWrite

    with hub.db.engine.connect() as conn:  # customers the import did not touch: its bad lines
        ids = list(conn.execute(text("SELECT id FROM customers WHERE workflow_id IS NULL LIMIT :n"),
                                {"n": lines}).scalars())
    started, at = time.perf_counter(), utcnow()
    for start in range(0, len(ids), 1000):
        with hub.uow() as uow:
            service = AssignmentService(uow.session)
            for n, cid in enumerate(ids[start:start + 1000], start=start):
                service.assign(cid, [FieldWrite("workflow", f"wf_{n % 5}"),
                                     FieldWrite("account_managers", (MANAGERS[n % 40],))],
                               source="csv", occurred_at=at, cause=Cause("bench", str(n)))
            uow.commit()
    seconds = time.perf_counter() - started
    print(f"assign() per line: {len(ids):,} lines in {seconds:.2f} s, {len(ids) / seconds:,.0f} lines/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=None, help="default: as many as lines")
    parser.add_argument("--bad-share", type=float, default=0.02)
    parser.add_argument("--chunk", type=int, default=1000,
                        help="lines per transaction (the part tasks' CHUNK_LINES)")
    parser.add_argument("--parallelism", type=int, default=2,
                        help="parts the import is split into (HUB_IMPORT_PARALLELISM)")
    parser.add_argument("--workers", type=int, default=2,
                        help="Celery worker processes (one pool process each) that run the parts")
    parser.add_argument("--per-line", type=int, default=0, metavar="N",
                        help="then time N lines through assign() one by one, for comparison")
    parser.add_argument("--server", default=os.environ.get(
        "HUB_BENCH_DATABASE_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"))
    args = parser.parse_args()
    args.customers = args.customers or args.lines
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
    run(args)


if __name__ == "__main__":
    main()
