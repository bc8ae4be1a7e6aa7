"""/healthz while 200 clients download export.csv, on the embedded stack `make run` serves.

    .venv/bin/python bench/bench_health_under_exports.py [--customers 20000] [--clients 200]
                                                         [--seconds 10] [--exports-at-once N]

Starts gunicorn exactly as `hub serve` does (its own command line) on a fresh SQLite file,
loads the demo data plus N customers, measures /healthz alone (the baseline), then again while
`--clients` threads download the customer export over and over. Reports p50/p99/max of
/healthz in both phases (p50/p95/p99/max, 200 samples under load) and their ratio, exports
completed, and any export that was not
complete (its Content-Length not met) or not a 200.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from hub.bootstrap import build_hub  # noqa: E402
from hub.commands.serve import _commands  # noqa: E402
from hub.config import load_settings  # noqa: E402
from hub.db import migrate  # noqa: E402
from hub.db.models import Customer  # noqa: E402
from hub.services.demo import load_demo  # noqa: E402
from tests.e2e.stack import Process, free_port, wait_until  # noqa: E402

ADMIN = "bench-admin-key"
SAMPLES = 200  # under load: enough that p99 is not simply the slowest answer


def seed(database_url: str, customers: int) -> None:
    migrate.upgrade(database_url)
    hub = build_hub(load_settings(environ={}, overrides={"database_url": database_url}))
    with hub.uow() as uow:
        load_demo(uow.session)
        rows = [{"id": f"bench-{n}", "external_id": f"cus_bench_{n}", "name": f"Bench customer {n}",
                 "email": f"billing{n}@example.com", "currency": "usd"} for n in range(customers)]
        for start in range(0, len(rows), 5000):
            uow.session.execute(insert(Customer), rows[start:start + 5000])
        uow.commit()
    hub.db.dispose()


def health_latencies(url: str, samples: int, every: float) -> list[float]:
    found = []
    with requests.Session() as session:
        for _ in range(samples):
            started = time.perf_counter()
            response = session.get(f"{url}/healthz", timeout=60)
            found.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
            time.sleep(every)
    return found


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)

    def rank(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))]

    return (f"p50 {statistics.median(ordered):.1f} ms, p95 {rank(0.95):.1f} ms, p99 {rank(0.99):.1f} ms, "
            f"max {ordered[-1]:.1f} ms, {sum(1 for x in ordered if x >= 100)} of {len(ordered)} >= 100 ms")


def exporter(url: str, stop: threading.Event, results: dict[str, int]) -> None:
    headers = {"Authorization": f"Bearer {ADMIN}"}
    while not stop.is_set():
        try:  # a connection of its own each time: a kept-alive one may be closed while it waits
            response = requests.get(f"{url}/api/v1/customers/export.csv", headers=headers, timeout=120)
            complete = len(response.content) == int(response.headers.get("Content-Length", -1))
            if response.status_code == 429:  # bounded: the client waits as told, then retries
                key = "429, retried"
                time.sleep(float(response.headers.get("Retry-After", 1)))
            else:
                key = "complete 200" if response.status_code == 200 and complete else f"bad {response.status_code}"
        except requests.RequestException as exc:
            key = f"error {type(exc).__name__}"
        results[key] = results.get(key, 0) + 1


def exporting_process(url: str, clients: int, seconds: float, queue: multiprocessing.Queue) -> None:
    """Clients in processes of their own: in the sampler's process they would take its GIL."""
    stop, results = threading.Event(), {}
    with ThreadPoolExecutor(clients) as pool:
        for _ in range(clients):
            pool.submit(exporter, url, stop, results)
        time.sleep(seconds)
        stop.set()
    queue.put(results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--exports-at-once", type=int, default=None, help="HUB_EXPORTS_AT_ONCE")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{folder}/hub.db"
        seed(database_url, args.customers)
        port = free_port()
        env = {"PATH": str(ROOT / ".venv" / "bin") + ":/usr/bin:/bin", "HUB_DATABASE_URL": database_url,
               "HUB_ADMIN_API_KEY": ADMIN, "HUB_RECIPES_DIR": str(ROOT / "recipes"),
               "HUB_BROKER_FOLDER": f"{folder}/broker", "HUB_LOG_LEVEL": "WARNING"}
        if args.exports_at_once:
            env["HUB_EXPORTS_AT_ONCE"] = str(args.exports_at_once)
        command = _commands(port, 2)["web"]
        if "--access-logfile" in command:  # quiet: 200 clients would flood it
            at = command.index("--access-logfile")
            del command[at:at + 2]
        web = Process("web", command, env, Path(folder))
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _up(url), 30, what="gunicorn")
            print(f"gunicorn: {' '.join(command[1:])}")
            health_latencies(url, 10, 0.02)  # warm: first requests load recipes, open connections
            baseline = health_latencies(url, 40, 0.02)
            print(f"/healthz alone:            {summary(baseline)}")
            queue: multiprocessing.Queue = multiprocessing.Queue()
            processes = [multiprocessing.Process(target=exporting_process,
                                                 args=(url, args.clients // 4, args.seconds + 2, queue))
                         for _ in range(4)]
            for process in processes:
                process.start()
            time.sleep(1.5)  # every client has a download under way
            loaded = health_latencies(url, SAMPLES, args.seconds / SAMPLES)
            results: dict[str, int] = {}
            for _ in processes:
                for key, count in queue.get().items():
                    results[key] = results.get(key, 0) + count
            for process in processes:
                process.join()
            print(f"/healthz, {args.clients} exporting: {summary(loaded)}")
            print(f"ratio (p50 loaded / p50 alone): {statistics.median(loaded) / statistics.median(baseline):.1f}")
            print(f"exports of {args.customers:,} customers: {results}")
        finally:
            web.stop()


def _up(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=1).status_code == 200
    except requests.RequestException:
        return False


if __name__ == "__main__":
    main()
