"""The run log page (/runs) with 100,000 runs: server time per filter, against the JSON API.

    .venv/bin/python bench/bench_run_log_page.py [--runs 100000] [--requests 30]
                                                 [--database-url postgresql+psycopg://root@127.0.0.1:5432/test]

Seeds the demo data and N runs (bulk insert; COPY on PostgreSQL) into a fresh SQLite file, or,
with --database-url, into a fresh PostgreSQL database created beside the one named (dropped at
the end). Signs in an ops user through the sign-in form, then times each case in-process with
Flask's test client (time.perf_counter around the request: server time, no network) N times and
reports the median and p95, and the ratio to the JSON API's answer for the same filter
(/api/v1/runs, limit 50), measured in the same run. /healthz is timed as a floor.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from sqlalchemy import text  # noqa: E402

from bench.page_timing import on_database, p95, signed_in, timed  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.bootstrap import build_hub  # noqa: E402
from hub.config import load_settings  # noqa: E402
from hub.db import migrate  # noqa: E402
from hub.db.bulk import insert_rows  # noqa: E402
from hub.db.models import RecipeRun  # noqa: E402
from hub.services.demo import load_demo  # noqa: E402
from hub.services.directory import sign_in  # noqa: E402

ADMIN = "bench-admin-key-0123456789"
OPS = "ops.oncall@example.com"
PASSWORD = "correct horse battery"
CONNECTIONS = ("stripe", "chargebee", "quickbooks", "salesforce")
RECIPES = ("stripe-payment-method-to-workflow", "chargebee-payment-method-to-workflow",
           "quickbooks-payment-terms-to-workflow", "salesforce-owner-to-account-manager", "bad-payers")
# Mostly succeeded, as in production: failed is the rare filter ops look for.
STATUSES = ("succeeded",) * 85 + ("partial",) * 5 + ("skipped",) * 6 + ("failed",) * 3 + ("retrying",)
CUSTOMERS = 5000
TARGET_MS = 200.0


def run_rows(count: int) -> list[dict[str, Any]]:
    pick = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for n in range(count):
        status = pick.choice(STATUSES)
        at = start + timedelta(seconds=30 * n)
        failed = status in ("failed", "retrying")
        rows.append({
            "connection": CONNECTIONS[n % len(CONNECTIONS)], "recipe_name": RECIPES[n % len(RECIPES)],
            "recipe_version": 1 + n % 3, "recipe_hash": "0" * 64,
            "customer_external_id": f"cus_bench_{pick.randrange(CUSTOMERS)}", "status": status,
            "error_class": pick.choice(("config", "retryable", "invalid")) if failed else None,
            "message": "workflow 'Card payers' does not exist" if failed else "workflow applied",
            "attempts": 1, "started_at": at, "finished_at": at, "duration_ms": 3.5,
            "trace": [{"kind": "recipe", "recipe": RECIPES[n % len(RECIPES)]}],
            "updates": [{"field": "workflow", "op": "set", "value": {"name": "Card payers"}}],
            "created_at": at,
        })
    return rows


def seed(database_url: str, runs: int) -> Any:
    migrate.upgrade(database_url)
    settings = load_settings(environ={}, overrides={"database_url": database_url, "admin_api_key": ADMIN})
    hub = build_hub(settings)
    rows = run_rows(runs)
    started = time.perf_counter()
    with hub.uow() as uow:
        load_demo(uow.session)
        for at in range(0, len(rows), 10_000):
            insert_rows(uow.session, RecipeRun.__table__, rows[at:at + 10_000])  # type: ignore[arg-type]
        uow.commit()
    # What autovacuum (PostgreSQL) or a maintenance ANALYZE would have done by then; on
    # PostgreSQL VACUUM also sets the visibility map that index-only scans need.
    with hub.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE recipe_runs" if hub.db.dialect == "postgresql" else "ANALYZE"))
    print(f"seeded {runs} runs in {time.perf_counter() - started:.1f} s ({hub.db.dialect})")
    sign_in.set_password(hub, OPS, PASSWORD)
    return hub








def cases() -> list[tuple[str, str, str]]:
    """(name, page path, the API path for the same filter)."""
    return [
        ("all runs", "/runs", "/api/v1/runs?limit=50"),
        ("status=failed", "/runs?status=failed", "/api/v1/runs?status=failed&limit=50"),
        ("connection=stripe", "/runs?connection=stripe", "/api/v1/runs?connection=stripe&limit=50"),
        ("customer=cus_bench_42", "/runs?customer=cus_bench_42",
         "/api/v1/runs?customer=cus_bench_42&limit=50"),
        ("page 100 (offset 5000)", "/runs?offset=5000", "/api/v1/runs?offset=5000&limit=50"),
        ("live partial", "/runs?partial=rows", "/api/v1/runs?limit=50"),
    ]


def measure(hub: Any, samples: int) -> bool:
    app = create_app(hub=hub)
    client = signed_in(app, OPS, PASSWORD)
    api = {"Authorization": f"Bearer {ADMIN}"}
    health = timed(client, "/healthz", samples)
    print(f"/healthz floor: median {statistics.median(health):.1f} ms, p95 {p95(health):.1f} ms")
    print(f"{'case':26} {'page median':>12} {'page p95':>9} {'API median':>11} {'API p95':>8} {'ratio':>6}")
    ok = True
    for name, page, api_path in cases():
        page_ms = timed(client, page, samples)
        api_ms = timed(client, api_path, samples, headers=api)
        ratio = statistics.median(page_ms) / statistics.median(api_ms)
        ok = ok and p95(page_ms) < TARGET_MS
        print(f"{name:26} {statistics.median(page_ms):9.1f} ms {p95(page_ms):6.1f} ms "
              f"{statistics.median(api_ms):8.1f} ms {p95(api_ms):5.1f} ms {ratio:5.2f}x")
    print(f"every case under {TARGET_MS:.0f} ms (p95): {'yes' if ok else 'NO'}")
    return ok






def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per case")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server URL; the bench creates and drops its own database")
    args = parser.parse_args()
    return on_database(args.database_url, lambda url: seed(url, args.runs),
                       lambda hub: measure(hub, args.requests))

if __name__ == "__main__":
    sys.exit(main())
