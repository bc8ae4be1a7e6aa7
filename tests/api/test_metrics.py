"""GET /metrics: Prometheus text with request, webhook and database-derived figures."""

from __future__ import annotations


def test_metrics_count_requests_webhooks_runs_and_lag(client, admin):  # type: ignore[no-untyped-def]
    client.get("/api/v1/customers", headers=admin)
    client.post("/webhooks/nope", data=b"{}")
    text = client.get("/metrics").data.decode()
    assert 'hub_http_requests_total{method="GET",route="/api/v1/customers",status="200"} 1.0' in text
    assert "hub_queue_lag_seconds 0.0" in text
    assert "# TYPE hub_runs gauge" in text


def test_multiprocess_mode_sums_counters_without_duplicates(settings, tmp_path):  # type: ignore[no-untyped-def]
    """`hub serve` sets PROMETHEUS_MULTIPROC_DIR; two apps (two gunicorn workers) add up.
    prometheus_client reads that variable when imported, hence a fresh interpreter."""
    import os
    import subprocess
    import sys

    config = repr({"database_url": settings.database_url})
    script = (
        "from hub.app import create_app\n"
        f"first = create_app({config}).test_client()\n"
        "first.get('/healthz')\n"
        "# a process started after others wrote their counters (a restarted worker) must start\n"
        f"second = create_app({config}).test_client()\n"
        "second.get('/healthz')\n"
        "print(second.get('/metrics').data.decode())\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert 'hub_http_requests_total{method="GET",route="/healthz",status="200"} 2.0' in out


def test_metrics_require_the_metrics_key_when_one_is_set(hub):  # type: ignore[no-untyped-def]
    from hub.app import create_app

    keyed = create_app(hub=type(hub)(**{**hub.__dict__, "settings": hub.settings.with_overrides(
        {"metrics_key": "scrape-me"})}))
    client = keyed.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    scraped = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert scraped.status_code == 200 and b"hub_runs" in scraped.data
