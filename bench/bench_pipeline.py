"""Webhook pipeline throughput, side by side: the hub against a ceiling, a floor and a low-code peer.

    .venv/bin/python bench/bench_pipeline.py [--connections 32] [--duration 8] [--rounds 2]
        [--nodered ../shared/peers/nodered] [--sustained [--rate 400] [--sustained-seconds 60]
        [--worker-concurrency 4] [--vendor-delay-ms 50]]

The load comes from `wrk` (compiled, two threads), not from Python, so the generator does not
eat the cores it measures. bench/wrk/signed_webhooks.lua cycles through requests signed here
with Stripe's scheme just before each run (timestamps stay inside the 300 s tolerance), every
one a new event id, so no system gets the cheap duplicate path.

Ingest (always): each system in turn on the same generator settings, a 2 s warm-up, then
`--rounds` rounds; medians of acknowledged requests/s (2xx), p50, p99 and the ratios:
  bare   Flask under gunicorn answering 200 (bench/bare_app.py): the ceiling;
  floor  the hand-built durable minimum (bench/floor_app.py): SDK signature check, INSERT, LPUSH;
  nodered the Node-RED peer in ingest mode (`--nodered` = its folder, with run.sh);
  hub    gunicorn on a fresh PostgreSQL database and a private Redis, no worker running.
Any non-2xx answer or reused request fails the run (exit 1) after the report.

Sustained (`--sustained`): wrk for `--sustained-seconds` into the hub with a Celery worker
running, then into the Node-RED peer in sync mode (which does the whole job inside the request),
by default as fast as each acknowledges (`--rate` paces it); reports events applied/s in the
window, the ratio, and the lag received → applied p50/p99 (database timestamps; an event still
unapplied `--drain-seconds` after the window counts as infinitely late). On these two cores the
hub's web tier and its worker share the CPU, so the applied rate is what the worker gets while
the webhooks keep coming. `--vendor-delay-ms N` points the hub's Stripe connection at a local
stand-in API answering after N ms and makes every event name its payment method by id, so the
normaliser fetches the customer once per event (Node-RED does no fetch, so it sits that one
out). Everything started here is stopped and every database dropped, also on Ctrl-C (wrk
reports stay in the log folder).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402
import requests  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.floor_app import TABLE_DDL  # noqa: E402
from bench.wrk.wrk_runs import SECRET, Generator, WrkResult, run_wrk  # noqa: E402
from hub.commands.serve import GUNICORN_OPTIONS  # noqa: E402
from tests.conftest import _create_postgres_database, _drop_postgres_database  # noqa: E402
from tests.e2e.stack import BIN, Process, RedisServer, free_port, start_web, start_worker, wait_until  # noqa: E402

WEBHOOK_PATH = "/webhooks/stripe"
SYSTEMS = ("bare", "floor", "nodered", "hub")
BARE_REQUESTS = 20_000  # the ceiling ignores event ids: it may cycle through the file


# --- the systems ----------------------------------------------------------------------------

class Bench:
    """What every phase shares: options, the PostgreSQL server, a private Redis, the log folder."""

    def __init__(self, args: argparse.Namespace, stack: ExitStack) -> None:
        self.args = args
        default = f"postgresql+psycopg://{os.environ.get('USER', 'root')}@127.0.0.1:5432/test"
        self.server = os.environ.get("HUB_BENCH_POSTGRES_URL", default)
        self.logs = Path(tempfile.mkdtemp(prefix="hub-bench-"))
        self.redis = RedisServer(self.logs)
        stack.callback(self.redis.stop)
        self.generator = Generator(args.threads, args.connections, self.logs)
        self.vendor_url = ""
        if args.vendor_delay_ms:
            vendor = SlowStripe(args.vendor_delay_ms / 1000)
            stack.callback(vendor.stop)
            self.vendor_url = vendor.url

    def flush_redis(self) -> None:
        redis.Redis(port=self.redis.port).flushall()


def libpq(url: str) -> str:
    """A SQLAlchemy URL as psycopg and psql take it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def postgres_database(bench: Bench) -> Iterator[str]:
    url = _create_postgres_database(bench.server)
    try:
        yield url
    finally:
        _drop_postgres_database(bench.server, url)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


@contextmanager
def gunicorn_app(bench: Bench, module: str, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    args = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(bench.args.web_workers),
            "--log-level", "warning", "--pythonpath", str(ROOT / "bench"), f"{module}:app"]
    web = Process(module, args, env, bench.logs)
    try:
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), 30, what=module)
        yield f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    finally:
        web.stop()


@contextmanager
def bare(bench: Bench) -> Iterator[str]:
    with gunicorn_app(bench, "bare_app", dict(os.environ)) as url:
        yield url


@contextmanager
def floor(bench: Bench) -> Iterator[str]:
    with postgres_database(bench) as database:
        with psycopg.connect(libpq(database), autocommit=True) as conn:
            conn.execute(TABLE_DDL)
        env = {**os.environ, "FLOOR_DATABASE_URL": libpq(database), "FLOOR_STRIPE_SECRET": SECRET,
               "FLOOR_REDIS_URL": f"redis://127.0.0.1:{bench.redis.port}/1"}
        with gunicorn_app(bench, "floor_app", env) as url:
            yield url


@contextmanager
def hub(bench: Bench, worker: bool = False) -> Iterator[tuple[str, str]]:
    """The hub's web tier (and a worker) on a fresh database; yields (webhook URL, libpq URL)."""
    with postgres_database(bench) as database:
        bench.flush_redis()
        env = {**os.environ, "HUB_DATABASE_URL": database, "HUB_BROKER_URL": f"redis://127.0.0.1:{bench.redis.port}/0",
               "HUB_STRIPE_WEBHOOK_SECRET": SECRET, "HUB_RECIPES_DIR": str(ROOT / "recipes"),
               "HUB_LOG_LEVEL": "WARNING", "HUB_SWEEP_SECONDS": "3600"}
        metrics = Path(tempfile.mkdtemp(prefix="metrics-", dir=bench.logs))
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)  # as `hub serve` and docker-compose.yml run it
        if bench.vendor_url:
            env |= {"HUB_STRIPE_API_KEY": "sk_test_bench", "HUB_STRIPE_API_BASE": bench.vendor_url}
        for command in (["db", "upgrade"], ["demo"]):
            subprocess.run([str(BIN / "hub"), *command], env=env, cwd=ROOT, check=True, capture_output=True)
        processes = []
        try:
            web, url = start_web(env, bench.logs, workers=bench.args.web_workers, extra=GUNICORN_OPTIONS)
            processes.append(web)
            if worker:
                processes.append(start_worker(env, bench.logs, concurrency=bench.args.worker_concurrency,
                                              beat=False))
            yield f"{url}{WEBHOOK_PATH}", libpq(database)
        finally:
            for process in reversed(processes):
                process.stop()


@contextmanager
def nodered(bench: Bench, mode: str) -> Iterator[tuple[str, str]]:
    """The Node-RED peer through its run.sh, on a database of its own; yields (URL, libpq URL)."""
    database = make_url(bench.server).set(database=f"nodered_bench_{os.getpid()}")
    server_root = libpq(bench.server).rsplit("/", 1)[0]
    env = {**os.environ, "PEER_PG_SERVER": server_root, "PEER_PG_DB": database.database or "",
           "PEER_RESET": "1", "PEER_EDITOR": "0"}
    port = free_port()
    started = subprocess.run([str(Path(bench.args.nodered) / "run.sh"), bench.args.nodered_install,
                              str(port), mode], env=env, capture_output=True, text=True, timeout=900)
    pid = int(started.stdout.split()[-1]) if started.stdout.split() else 0
    try:
        if started.returncode != 0:
            raise RuntimeError(f"Node-RED peer did not start:\n{started.stderr[-2000:]}")
        yield f"http://127.0.0.1:{port}{WEBHOOK_PATH}", libpq(database.render_as_string(hide_password=False))
    finally:
        if pid:
            _stop_pid(pid)
        _drop_postgres_database(bench.server, database.render_as_string(hide_password=False))


def _stop_pid(pid: int) -> None:
    """Node-RED is not our child (run.sh backgrounds it): signal it and wait until it is gone."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


class SlowStripe:
    """A local stand-in for the Stripe API: any customer, default payment method a card, after a delay."""

    def __init__(self, delay_s: float) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Stripe's API answers: no connect per fetch

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                time.sleep(delay_s)
                customer_id = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
                card = {"id": f"pm_{customer_id}", "object": "payment_method", "type": "card"}
                payload = json.dumps({"id": customer_id, "object": "customer", "currency": "usd",
                                      "metadata": {}, "default_source": None,
                                      "invoice_settings": {"default_payment_method": card}})
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload.encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the worker was stopped while this fetch waited: nobody to answer

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


# --- the phases -----------------------------------------------------------------------------

def ingest_comparison(bench: Bench) -> dict[str, list[WrkResult]]:
    args = bench.args
    systems = {"bare": bare, "floor": floor, "hub": lambda b: _first(hub(b))}
    if args.nodered:
        systems = {"bare": bare, "floor": floor, "nodered": lambda b: _first(nodered(b, "ingest")),
                   "hub": systems["hub"]}
    results: dict[str, list[WrkResult]] = {}
    for name, start in systems.items():
        if name not in args.systems:
            continue
        count = BARE_REQUESTS if name == "bare" else math.ceil(args.max_rate * args.duration)
        fetch = bool(bench.vendor_url)
        with start(bench) as url:
            log(f"{name}: warm-up 2 s, then {args.rounds} × {args.duration:g} s")
            run_wrk(bench.generator, url, f"{name}-warm", math.ceil(args.max_rate * 2), 2, fetch=fetch)
            results[name] = [run_wrk(bench.generator, url, f"{name}-r{n}", count, args.duration, fetch=fetch)
                             for n in range(1, args.rounds + 1)]
    return results


@contextmanager
def _first(pair: AbstractContextManager[tuple[str, str]]) -> Iterator[str]:
    with pair as (url, _database):
        yield url


@dataclass(frozen=True)
class Sustained:
    sent: WrkResult
    applied_per_s: float
    backlog_at_end: int
    lag_p50_s: float
    lag_p99_s: float


def sustained(bench: Bench, url: str, database: str, name: str) -> Sustained:
    """Paced load for the window, then applied/s and lag from the rows' own timestamps."""
    args = bench.args
    fetch = bool(bench.vendor_url) and name == "hub"
    table = "inbox_events" if name == "hub" else "inbox"  # both have received_at and processed_at
    window = "received_at >= %(started)s AND received_at < %(ended)s"
    with psycopg.connect(database, autocommit=True) as conn:
        run_wrk(bench.generator, url, f"{name}-s-warm", 400, 2, rate=100, fetch=fetch)
        wait_until(lambda: _unapplied(conn, table) == 0, 120, every=0.5, what=f"{name} warm-up applied")
        times = {"started": _now(conn)}
        count = math.ceil((args.rate or args.max_rate) * args.sustained_seconds * 1.1) + 100
        sent = run_wrk(bench.generator, url, f"{name}-s", count, args.sustained_seconds, rate=args.rate,
                       fetch=fetch)
        times["ended"] = _now(conn)
        applied_in_window = "processed_at >= %(started)s AND processed_at < %(ended)s"
        first, applied = _row(conn, f"SELECT min(received_at) FILTER (WHERE {window}),"
                                    f" count(*) FILTER (WHERE {applied_in_window}) FROM {table}", times)
        backlog = _unapplied(conn, table)
        deadline = time.monotonic() + args.drain_seconds
        while _unapplied(conn, table) and time.monotonic() < deadline:
            time.sleep(0.5)
        lags = sorted(math.inf if lag is None else float(lag) for (lag,) in conn.execute(
            f"SELECT extract(epoch FROM processed_at - received_at) FROM {table} WHERE {window}", times))
    seconds = (times["ended"] - (first or times["started"])).total_seconds()
    return Sustained(sent, applied / seconds, backlog, _percentile(lags, 0.5), _percentile(lags, 0.99))


def _row(conn: psycopg.Connection, sql: str, params: dict[str, datetime] | None = None) -> tuple:
    row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]  # SQL built from our own names
    assert row is not None, sql
    return row


def _now(conn: psycopg.Connection) -> datetime:
    return _row(conn, "SELECT now()")[0]


def _unapplied(conn: psycopg.Connection, table: str) -> int:
    return int(_row(conn, f"SELECT count(*) FROM {table} WHERE processed_at IS NULL")[0])


def _percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] if ordered else math.nan


# --- the report -----------------------------------------------------------------------------

def report_ingest(results: dict[str, list[WrkResult]], args: argparse.Namespace) -> list[str]:
    print(f"\ningest: wrk {args.threads} threads, {args.connections} connections, {args.duration:g} s, "
          f"{args.rounds} rounds, medians")
    rounds_title = "rounds (acked/s; p99 ms)"
    print(f"{'system':<8} {'acked/s':>8} {'p50 ms':>7} {'p99 ms':>7}  {rounds_title:<34} non-2xx socket-err")
    rates = {}
    problems = []
    for name, rounds in results.items():
        rates[name] = statistics.median(r.acknowledged_per_s for r in rounds)
        each = " / ".join(f"{r.acknowledged_per_s:,.0f}; {r.p99_ms:.0f}" for r in rounds)
        print(f"{name:<8} {rates[name]:>8,.0f} {statistics.median(r.p50_ms for r in rounds):>7.1f} "
              f"{statistics.median(r.p99_ms for r in rounds):>7.1f}  {each:<34} "
              f"{sum(r.non_2xx for r in rounds):>7} {sum(r.socket_errors for r in rounds):>10}")
        problems += [f"{name}: {r.non_2xx} non-2xx answers" for r in rounds if r.non_2xx]
        problems += [f"{name}: {r.reused} requests reused (raise --max-rate)" for r in rounds
                     if r.reused and name != "bare"]
    for top, bottom in (("hub", "floor"), ("hub", "nodered"), ("floor", "bare")):
        if top in rates and bottom in rates:
            print(f"{top} / {bottom}: {rates[top] / rates[bottom]:.2f}×")
    return problems


def report_sustained(name: str, result: Sustained, args: argparse.Namespace) -> list[str]:
    offered = f"{args.rate:g}/s" if args.rate else "unpaced"
    print(f"sustained {name}: offered {offered}, acked {result.sent.acknowledged_per_s:,.0f}/s "
          f"(p99 {result.sent.p99_ms:.0f} ms), applied {result.applied_per_s:,.0f}/s, backlog at the end "
          f"{result.backlog_at_end:,}, lag p50 {_seconds(result.lag_p50_s)}, "
          f"p99 {_seconds(result.lag_p99_s)}")
    return [f"{name} sustained: {result.sent.non_2xx} non-2xx answers"] if result.sent.non_2xx else []


def _seconds(value: float) -> str:
    return "unapplied after the drain" if math.isinf(value) else f"{value:.2f} s"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _systems(value: str) -> set[str]:
    names = set() if value == "none" else set(value.split(","))
    if names - set(SYSTEMS):
        raise argparse.ArgumentTypeError(f"unknown: {', '.join(sorted(names - set(SYSTEMS)))}")
    return names


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per ingest round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--web-workers", type=int, default=4, help="gunicorn workers (bare, floor, hub)")
    parser.add_argument("--systems", type=_systems, default=set(SYSTEMS),
                        help=f"the ingest comparison's systems, comma-separated: {', '.join(SYSTEMS)}, "
                             "or none (default: all)")
    parser.add_argument("--max-rate", type=float, default=6000.0,
                        help="requests/s the signed request files are sized for (unpaced runs)")
    parser.add_argument("--nodered", help="the Node-RED peer's folder (with run.sh)")
    parser.add_argument("--nodered-install", default="/tmp/hub-bench-nodered",
                        help="where run.sh installs Node-RED")
    parser.add_argument("--sustained", action="store_true", help="also run the sustained phase")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="sustained requests/s (0, the default: as fast as each system acknowledges)")
    parser.add_argument("--sustained-seconds", type=float, default=60.0)
    parser.add_argument("--drain-seconds", type=float, default=30.0)
    parser.add_argument("--worker-concurrency", type=int, default=4)
    parser.add_argument("--vendor-delay-ms", type=float, default=0.0)
    return parser.parse_args(argv)


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwinds like Ctrl-C: everything stops
    problems: list[str] = []
    with ExitStack() as stack:
        bench = Bench(args, stack)
        log(f"logs and wrk reports in {bench.logs}")
        ingested = ingest_comparison(bench)
        if ingested:
            problems += report_ingest(ingested, args)
        if args.sustained:
            print(f"\nsustained: {args.sustained_seconds:g} s, worker concurrency {args.worker_concurrency}"
                  + (f", vendor stand-in {args.vendor_delay_ms:g} ms" if args.vendor_delay_ms else ""))
            applied = {}
            with hub(bench, worker=True) as (url, database):
                applied["hub"] = sustained(bench, url, database, "hub")
                problems += report_sustained("hub", applied["hub"], args)
            if args.nodered and not args.vendor_delay_ms:  # Node-RED does no fetch: no peer for that
                with nodered(bench, "sync") as (url, database):
                    applied["nodered"] = sustained(bench, url, database, "nodered")
                    problems += report_sustained("nodered", applied["nodered"], args)
                print(f"sustained hub / nodered applied: "
                      f"{applied['hub'].applied_per_s / applied['nodered'].applied_per_s:.2f}×")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
