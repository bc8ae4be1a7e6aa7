"""Benchmark the whole pipeline: N signed Stripe webhooks over HTTP to gunicorn, processed by a
Celery worker on Redis and PostgreSQL.

    .venv/bin/python bench/bench_pipeline.py [--events 5000] [--connections 32] [--web-workers 3]
                                             [--worker-concurrency 2]

Phase 1 (ingest): the worker is not running; every webhook is posted over keep-alive HTTP/1.1
connections from an asyncio client; we report acknowledged webhooks/s and p50/p99 latency.
Phase 2 (end to end): a worker starts on the backlog; we report events applied per second
(inbox events processed, each assigning a workflow through the Stripe recipe).
Uses a fresh PostgreSQL database beside HUB_BENCH_POSTGRES_URL (default: the local `test`
database's server) and a private Redis; both are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import stripe  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from tests.conftest import _create_postgres_database, _drop_postgres_database  # noqa: E402
from tests.e2e.stack import RedisServer, start_web, start_worker, wait_until  # noqa: E402

SECRET = "whsec_bench"


def event(n: int) -> bytes:
    obj = {"id": f"cus_bench_{n}", "object": "customer", "name": f"Bench {n}", "currency": "usd",
           "metadata": {}, "default_source": None,
           "invoice_settings": {"default_payment_method": {"id": f"pm_{n}", "type": "card"}}}
    return json.dumps({"id": f"evt_bench_{n}", "object": "event", "type": "customer.created",
                       "created": 1795340000 + n, "data": {"object": obj}}).encode()


def request_bytes(port: int, body: bytes) -> bytes:
    at = int(time.time())
    sig = stripe.WebhookSignature._compute_signature(f"{at}.{body.decode()}", SECRET)
    head = (f"POST /webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nStripe-Signature: t={at},v1={sig}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n")
    return head.encode() + body


async def one_connection(port: int, queue: asyncio.Queue, latencies: list, statuses: dict) -> None:
    """Sends requests one after another, reconnecting when the server closes (gunicorn sync)."""
    reader = writer = None
    while True:
        try:
            payload = queue.get_nowait()
        except asyncio.QueueEmpty:
            break
        started = time.perf_counter()
        if writer is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(payload)
        await writer.drain()
        code, close = await read_response(reader)
        latencies.append(time.perf_counter() - started)
        statuses[code] = statuses.get(code, 0) + 1
        if close:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    status_line = await reader.readline()
    length, close = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
        elif name.lower() == b"connection" and value.strip().lower() == b"close":
            close = True
    await reader.readexactly(length)
    return int(status_line.split()[1]), close


async def post_all(port: int, payloads: list[bytes], connections: int) -> tuple[float, list, dict]:
    queue: asyncio.Queue = asyncio.Queue()
    for p in payloads:
        queue.put_nowait(p)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    await asyncio.gather(*(one_connection(port, queue, latencies, statuses) for _ in range(connections)))
    return time.perf_counter() - started, latencies, statuses


def count_processed(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM inbox_events WHERE status = 'processed'")).scalar()
    engine.dispose()
    return int(n or 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class (sync, gthread)")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--ingest-only", action="store_true")
    args = parser.parse_args()
    server = os.environ.get("HUB_BENCH_POSTGRES_URL", f"postgresql+psycopg://{os.environ.get('USER', 'root')}@127.0.0.1:5432/test")
    database = _create_postgres_database(server)
    logs = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    redis = RedisServer(logs)
    env = {**os.environ, "HUB_DATABASE_URL": database, "HUB_BROKER_URL": f"redis://127.0.0.1:{redis.port}/0",
           "HUB_STRIPE_WEBHOOK_SECRET": SECRET, "HUB_RECIPES_DIR": str(ROOT / "recipes"),
           "HUB_LOG_LEVEL": "WARNING", "HUB_SWEEP_SECONDS": "3600"}
    processes = []
    try:
        import subprocess

        for command in (["db", "upgrade"], ["demo"]):
            subprocess.run([str(Path(sys.executable).parent / "hub"), *command], env=env, cwd=ROOT,
                           check=True, capture_output=True)
        web, url = start_web(env, logs, workers=args.web_workers,
                             extra=["--worker-class", args.worker_class, "--threads", str(args.threads)])
        processes.append(web)
        port = int(url.rsplit(":", 1)[1])
        payloads = [request_bytes(port, event(n)) for n in range(args.events)]
        asyncio.run(post_all(port, payloads[:200], 8))  # warm-up: connections, imports, caches
        payloads = payloads[200:]
        elapsed, latencies, statuses = asyncio.run(post_all(port, payloads, args.connections))
        latencies.sort()
        print(f"ingest: {len(payloads)} webhooks in {elapsed:.2f}s = {len(payloads) / elapsed:,.0f}/s; "
              f"p50 {statistics.median(latencies) * 1000:.1f} ms, "
              f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.1f} ms; statuses {statuses}")
        if args.ingest_only:
            return
        started = time.perf_counter()
        processes.append(start_worker(env, logs, concurrency=args.worker_concurrency, beat=False))
        wait_until(lambda: count_processed(database) >= args.events, 1800, every=0.5, what="processing")
        elapsed = time.perf_counter() - started
        print(f"end to end: {args.events} events applied in {elapsed:.2f}s = {args.events / elapsed:,.0f}/s "
              f"(worker concurrency {args.worker_concurrency}, start-up included)")
    finally:
        for process in processes:
            process.stop()
        redis.stop()
        _drop_postgres_database(server, database)


if __name__ == "__main__":
    main()
