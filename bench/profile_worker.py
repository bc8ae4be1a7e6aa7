"""Where a worker's time goes: N stored Stripe `customer.created` events processed in process,
one at a time (`process_event`, the path before issue 16) or in batches (`process_events`).

    .venv/bin/python bench/profile_worker.py [--events 400] [--mode batch|single] [--batch 50]
        [--database-url postgresql+psycopg://root@127.0.0.1:5432/test] [--top 25]

A fresh PostgreSQL database beside the given one is migrated and loaded with the demo data; the
events are posted through the webhook (Flask's test client) and claimed as the dispatcher
would; the first one is processed outside the measurement (imports, the first recipe load).
It prints events/s, ms per event, the SQL statements per event and cProfile's top functions by
cumulative time. One process, no broker, no network: the cost of the work itself.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event as sa_event  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.wrk.wrk_runs import SECRET, event, signature  # noqa: E402
from tests.conftest import _create_postgres_database, _drop_postgres_database  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--mode", choices=("batch", "single"), default="batch")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--database-url", default="postgresql+psycopg://root@127.0.0.1:5432/test")
    parser.add_argument("--top", type=int, default=25)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    url = _create_postgres_database(args.database_url)
    broker = tempfile.mkdtemp(prefix="hub-profile-")
    env = {"HUB_DATABASE_URL": url, "HUB_STRIPE_WEBHOOK_SECRET": SECRET,
           "HUB_RECIPES_DIR": str(ROOT / "recipes"), "HUB_LOG_LEVEL": "WARNING",
           "HUB_BROKER_URL": "filesystem://", "HUB_BROKER_FOLDER": broker, "HUB_DISPATCH_IN_FLIGHT": "0"}
    try:
        for command in (["db", "upgrade"], ["demo"]):
            subprocess.run([str(Path(sys.executable).parent / "hub"), *command], env={**os.environ, **env},
                           check=True, capture_output=True, cwd=ROOT)
        os.environ.update(env)
        from hub.app import create_app
        from hub.context import hub_of
        from hub.services.ingest.dispatch import claim
        from hub.services.processing import batch, process

        app = create_app()
        hub = hub_of(app)
        client, at = app.test_client(), int(time.time())
        for n in range(args.events + 1):
            body = event("profile", n)
            headers = {"Stripe-Signature": signature(body, at)}
            answer = client.post("/webhooks/stripe", data=body, headers=headers)
            assert answer.status_code == 200, answer.data  # noqa: S101 - a bench, not a test
        ids = claim(hub, args.events + 1)
        statements = [0]  # through SQLAlchemy; the COPYs of hub.db.bulk go to the driver directly

        def count(*_: object) -> None:
            statements[0] += 1

        sa_event.listen(hub.db.engine, "before_cursor_execute", count)
        with app.app_context():
            process.process_event(hub, ids[0])
            statements[0] = 0
            profile, started = cProfile.Profile(), time.perf_counter()
            profile.enable()
            if args.mode == "single":
                for inbox_id in ids[1:]:
                    process.process_event(hub, inbox_id)
            else:
                for start in range(1, len(ids), args.batch):
                    batch.process_events(hub, ids[start:start + args.batch])
            profile.disable()
            elapsed = time.perf_counter() - started
        with hub.db.engine.connect() as conn:
            done = conn.execute(text("SELECT count(*) FROM inbox_events WHERE status = 'processed'")).scalar()
        print(f"mode {args.mode} (batch {args.batch}): {args.events} events in {elapsed:.2f} s = "
              f"{args.events / elapsed:,.0f} events/s, {elapsed / args.events * 1000:.2f} ms/event, "
              f"{statements[0] / args.events:.2f} SQL statements/event besides the COPYs; "
              f"{done} processed in all")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
        hub.db.dispose()
    finally:
        _drop_postgres_database(args.database_url, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
