"""What the page benchmarks share: a signed-in test client, timed GETs with their p95, and a
PostgreSQL database of their own (created, then dropped, as the tests make theirs) or a temporary SQLite file.

Server time is measured through Flask's test client, so the figures are the hub's work per
request (routing, queries, templates) without a network or a browser in them.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from typing import Any

from tests.conftest import _create_postgres_database, _drop_postgres_database


def signed_in(app: Any, email: str, password: str) -> Any:
    client = app.test_client()
    form = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', form)
    assert token, "no CSRF token on the sign-in form"
    answer = client.post("/sign-in", data={"email": email, "password": password, "next": "/",
                                           "csrf_token": token.group(1)})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client


def timed(client: Any, path: str, samples: int, headers: dict[str, str] | None = None) -> list[float]:
    """Milliseconds per GET, after one warm-up (templates compiled, statements cached)."""
    client.get(path, headers=headers)
    found = []
    for _ in range(samples):
        started = time.perf_counter()
        answer = client.get(path, headers=headers)
        found.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code, answer.get_data(as_text=True)[:300])
    return found


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def on_database(server: str | None, seed: Callable[[str], Any], measure: Callable[[Any], bool]) -> int:
    """Seed a database of the bench's own (PostgreSQL on ``server``, else a temporary SQLite file),
    measure, clean up; the exit status says whether every case met its target."""
    if server:
        url = _create_postgres_database(server)
        try:
            hub = seed(url)
            ok = measure(hub)
            hub.db.dispose()
        finally:
            _drop_postgres_database(server, url)
        return 0 if ok else 1
    with tempfile.TemporaryDirectory() as folder:
        hub = seed(f"sqlite:///{folder}/bench.db")
        ok = measure(hub)
        hub.db.dispose()
    return 0 if ok else 1
