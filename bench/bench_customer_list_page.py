"""The customer list page (/customers) with 100,000 customers: server time per case, against the
JSON API where it has the same filter.

    .venv/bin/python bench/bench_customer_list_page.py [--customers 100000] [--requests 30]
                                                       [--pg | --database-url postgresql+psycopg://...]

Seeds the demo data, 20 more account managers and N customers with custom fields (segment,
region, tier), a workflow and one or two managers each (bulk insert; COPY on PostgreSQL) into a
fresh SQLite file, or, with --database-url, HUB_TEST_DATABASE_URL or --pg (the local test
server), into a fresh PostgreSQL database created beside the one named (dropped at the end).
Signs in the demo admin (and, for one case, an account manager) through the sign-in form, then
times each case in-process with Flask's test client (time.perf_counter around the request:
server time, no network) N times and reports the median and p95, and the API's median for the
same filter (/api/v1/customers, limit 50) measured in the same run. /healthz is the floor.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
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
from hub.db.models import Customer, CustomerAccountManager, User  # noqa: E402
from hub.services.demo import DEMO_ADMIN, USERS, WORKFLOWS, load_demo  # noqa: E402
from hub.services.directory import sign_in  # noqa: E402

ADMIN_KEY = "bench-admin-key-0123456789"
MANAGER = "alice.martin@example.com"
PASSWORD = "correct horse battery"
LOCAL_PG = "postgresql+psycopg://root@127.0.0.1:5432/test"
SEGMENTS = ("smb",) * 6 + ("mid_market",) * 3 + ("enterprise",)  # enterprise: 10 %
REGIONS = ("emea", "na", "apac", "latam")
WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell", "Cyberdyne",
         "Soylent", "Wonka", "Harbor", "Summit", "Pioneer", "Atlas", "Orbit", "Nimbus", "Vertex")
KINDS = ("Logistics", "Freight", "Health", "Foods", "Labs", "Systems", "Retail", "Energy")
METHODS = ("card", "sepa_debit", "ach_debit", "bank_transfer", "check", "paypal")
EXTRA_MANAGERS = 20
TARGET_MS = 300.0


def customer_rows(count: int, workflows: list[str], managers: list[str]
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    pick = random.Random(11)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    customers, links = [], []
    for n in range(count):
        cid = str(uuid.UUID(int=pick.getrandbits(128)))
        fields: dict[str, Any] = {"segment": pick.choice(SEGMENTS), "region": pick.choice(REGIONS),
                                  "tier": str(1 + n % 5)}
        if n % 50 == 0:
            fields["industry"] = "logistics"
        at = start + timedelta(seconds=17 * n)
        customers.append({
            "id": cid, "external_id": f"cus_bench_{n:06d}", "source_system": "stripe",
            "name": f"{pick.choice(WORDS)} {pick.choice(KINDS)} {n}",
            "email": f"billing{n}@example.com", "currency": pick.choice(("usd", "eur", "gbp")),
            "payment_method": pick.choice(METHODS),
            "workflow_id": None if n % 20 == 0 else pick.choice(workflows),
            "custom_fields": fields, "ownership": {}, "profile_changed_at": at,
            "created_at": at, "updated_at": at,
        })
        for user_id in {pick.choice(managers) for _ in range(1 + n % 2)}:
            links.append({"customer_id": cid, "user_id": user_id})
    return customers, links


def seed(database_url: str, count: int) -> Any:
    migrate.upgrade(database_url)
    settings = load_settings(environ={}, overrides={"database_url": database_url,
                                                    "admin_api_key": ADMIN_KEY})
    hub = build_hub(settings)
    started = time.perf_counter()
    with hub.uow() as uow:
        load_demo(uow.session)
        for n in range(EXTRA_MANAGERS):
            uow.session.add(User(email=f"manager{n}@example.com", name=f"Manager {n}",
                                 role="account_manager"))
        uow.session.flush()
        managers = [u.id for u in uow.session.query(User).filter(User.role == "account_manager")]
        customers, links = customer_rows(count, [w[0] for w in WORKFLOWS], managers)
        for at in range(0, len(customers), 10_000):
            insert_rows(uow.session, Customer.__table__, customers[at:at + 10_000])  # type: ignore[arg-type]
        for at in range(0, len(links), 10_000):
            insert_rows(uow.session, CustomerAccountManager.__table__, links[at:at + 10_000])  # type: ignore[arg-type]
        uow.commit()
    # What autovacuum (PostgreSQL) or a maintenance ANALYZE would have done by then.
    with hub.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if hub.db.dialect == "postgresql" else "ANALYZE"))
    print(f"seeded {count} customers, {len(links)} manager links in "
          f"{time.perf_counter() - started:.1f} s ({hub.db.dialect})")
    for email in (DEMO_ADMIN, MANAGER):
        sign_in.set_password(hub, email, PASSWORD)
    assert any(email == MANAGER for email, _, _ in USERS)
    return hub








def cases() -> list[tuple[str, str, str | None, bool]]:
    """(name, page path, the API path for the same filter or None, as the account manager)."""
    api = "/api/v1/customers?limit=50"
    return [
        ("all customers", "/customers", api, False),
        ("cf.segment=enterprise", "/customers?cf.segment=enterprise",
         api + "&customFields.segment=enterprise", False),
        ("cf.segment + cf.region", "/customers?cf.segment=enterprise&cf.region=apac",
         api + "&customFields.segment=enterprise&customFields.region=apac", False),
        ("text q=harbor", "/customers?q=harbor", api + "&q=harbor", False),
        ("text q=cus_bench_04242", "/customers?q=cus_bench_04242", api + "&q=cus_bench_04242", False),
        ("workflow=wf_card", "/customers?workflow=wf_card", api + "&dunningPlanId=wf_card", False),
        ("manager=bob.chen", "/customers?manager=bob.chen@example.com",
         api + "&accountManager=bob.chen@example.com", False),
        ("sort=name", "/customers?sort=name", None, False),
        ("sort=-updated, cf columns", "/customers?sort=-updated&cols=name,cf.segment,cf.region,updated",
         None, False),
        ("deep page (offset 50000)", "/customers?offset=50000", api + "&offset=50000", False),
        ("deep page sorted by name", "/customers?sort=name&offset=50000", None, False),
        ("account manager's list", "/customers?cf.segment=smb", None, True),
    ]


def measure(hub: Any, samples: int) -> bool:
    app = create_app(hub=hub)
    admin, manager = signed_in(app, DEMO_ADMIN, PASSWORD), signed_in(app, MANAGER, PASSWORD)
    api = {"Authorization": f"Bearer {ADMIN_KEY}"}
    health = timed(admin, "/healthz", samples)
    print(f"/healthz floor: median {statistics.median(health):.1f} ms, p95 {p95(health):.1f} ms")
    from hub.services.queries.customer_list import custom_field_keys, forget_custom_field_keys
    forget_custom_field_keys(hub)
    started = time.perf_counter()
    custom_field_keys(hub)
    print(f"custom field keys, uncached (once a minute): {(time.perf_counter() - started) * 1000:.1f} ms")
    print(f"{'case':28} {'page median':>12} {'page p95':>9} {'API median':>11} {'ratio':>6}")
    ok = True
    for name, page, api_path, as_manager in cases():
        page_ms = timed(manager if as_manager else admin, page, samples)
        ok = ok and p95(page_ms) < TARGET_MS
        line = f"{name:28} {statistics.median(page_ms):9.1f} ms {p95(page_ms):6.1f} ms"
        if api_path:
            api_ms = timed(admin, api_path, samples, headers=api)
            ratio = statistics.median(page_ms) / statistics.median(api_ms)
            line += f" {statistics.median(api_ms):8.1f} ms {ratio:5.2f}x"
        print(line)
    print(f"every case under {TARGET_MS:.0f} ms (p95): {'yes' if ok else 'NO'}")
    return ok






def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per case")
    parser.add_argument("--database-url", default=None,
                        help="a PostgreSQL server URL; the bench creates and drops its own database")
    parser.add_argument("--pg", action="store_true",
                        help="PostgreSQL at HUB_TEST_DATABASE_URL (default: the local test server)")
    args = parser.parse_args()
    from_env = os.environ.get("HUB_TEST_DATABASE_URL", "")
    server = args.database_url or (from_env if from_env.startswith("postgresql") else None) or (
        LOCAL_PG if args.pg else None)
    return on_database(server, lambda url: seed(url, args.customers),
                       lambda hub: measure(hub, args.requests))

if __name__ == "__main__":
    sys.exit(main())
