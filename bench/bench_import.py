"""Benchmark the CSV assignment import on PostgreSQL: lines per second and peak memory.

    python bench/bench_import.py [--lines N] [--customers N] [--bad-share 0.02]
                                 [--parallelism 2] [--chunk 1000]
                                 [--server postgresql+psycopg://root@127.0.0.1:5432/test]

Creates a fresh database `hub_bench_<pid>` beside the server URL's database (as the test suite
does), migrates it, seeds customers with one server-side INSERT (so seeding costs the Python
process no memory), writes an N-line CSV to a temporary file (semicolons, extra column, one or
two account managers per cell, NBSP in workflow names, `--bad-share` bad lines of four kinds),
uploads it through the service the API uses and runs process_import in this process, timed
without tracemalloc (on PostgreSQL it forks one process per part). Peak memory is the maximum
resident size (getrusage) of this process and of the largest part process, and the peak
footprint of all of them together (proportional set size, sampled). The database is dropped at
the end.
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


class NoBroker:
    """The queue adapter's interface; the benchmark processes in-process instead."""

    def enqueue(self, task_name: str, *args: Any) -> bool:
        return True

    def ping(self) -> tuple[bool, str]:
        return True, "ok"


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
    """Peak proportional set size (PSS) of this process plus its part processes, sampled.

    Summing the parts' RSS would count the pages they share with this process (they are forks)
    once per process; PSS splits each shared page between its sharers, so the sum is what the
    import really occupies. Linux only (``/proc/<pid>/smaps_rollup``); elsewhere it reports 0.
    """

    def __init__(self, every: float = 0.05) -> None:
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
            pids = [os.getpid(), *_children(os.getpid())]
            self.peak_kib = max(self.peak_kib, sum(_pss_kib(pid) for pid in pids))


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:  # field 4: the parent's pid
            found.append(int(entry.name))
    return found


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


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
    from hub.services.imports.upload import create_import, process_import

    url = create_database(args.server)
    try:
        migrate.upgrade(url)
        settings = load_settings(environ={}, overrides={
            "database_url": url, "import_max_bytes": 2**40, "import_parallelism": args.parallelism})
        hub = build_hub(settings, queue=NoBroker())
        started = time.perf_counter()
        seed(hub, args.customers)
        print(f"seeded {args.customers:,} customers in {time.perf_counter() - started:.1f} s")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "assign.csv"
            bad = write_csv(path, args.lines, args.customers, args.bad_share)
            size = path.stat().st_size
            measure(hub, path, size, bad, args, create_import, process_import)
        hub.db.dispose()
    finally:
        drop_database(args.server, url)


def measure(hub: Any, path: Path, size: int, bad: int, args: argparse.Namespace,
            create_import: Any, process_import: Any) -> None:
    rss_before, probe_before = max_rss_mib(), machine_probe_ms()
    started = time.perf_counter()
    with path.open("rb") as stream:
        row = create_import(hub, stream, path.name, None, "bench")
    upload_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with FootprintSampler() as footprint:
        status = process_import(hub, row.id, chunk_lines=args.chunk)
    seconds = time.perf_counter() - started
    with hub.uow() as uow:
        from hub.services.imports.upload import get_import

        done = get_import(uow.session, row.id)
        counts = (done.updated, done.unchanged, done.failed, done.processed_lines)
    print(f"machine probe:   {probe_before:.0f} ms before, {machine_probe_ms():.0f} ms after, for 5M "
          "interpreter loop steps (lower is faster)")
    print(f"file:            {args.lines:,} lines, {size / 1e6:.1f} MB, {bad:,} bad lines")
    print(f"upload:          {upload_seconds:.2f} s (header check + storing the file)")
    print(f"process_import:  {seconds:.2f} s, {args.lines / seconds:,.0f} lines/s  -> {status}")
    print(f"counts:          updated {counts[0]:,}, unchanged {counts[1]:,}, failed {counts[2]:,}, "
          f"processed {counts[3]:,}")
    print(f"max RSS:         {rss_before:.1f} MiB before upload, {max_rss_mib():.1f} MiB after; "
          f"largest part process {max_rss_mib(resource.RUSAGE_CHILDREN):.1f} MiB")
    print(f"peak footprint:  {footprint.peak_kib / 1024:.1f} MiB PSS, this process and its parts "
          "together (sampled every 50 ms)")
    if counts[2] != bad or counts[3] != args.lines:
        raise SystemExit("unexpected counts")
    if args.per_line:
        per_line(hub, args.per_line)


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
    parser.add_argument("--chunk", type=int, default=1000, help="lines per transaction")
    parser.add_argument("--parallelism", type=int, default=2,
                        help="parts the import is split into (HUB_IMPORT_PARALLELISM)")
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
