"""GET /metrics: Prometheus text with request, webhook and database-derived figures."""

from __future__ import annotations


def test_metrics_count_requests_webhooks_runs_and_lag(client, admin):  # type: ignore[no-untyped-def]
    client.get("/api/v1/customers", headers=admin)
    client.post("/webhooks/nope", data=b"{}")
    text = client.get("/metrics").data.decode()
    assert 'hub_http_requests_total{method="GET",route="/api/v1/customers",status="200"} 1.0' in text
    assert "hub_queue_lag_seconds 0.0" in text
    assert "# TYPE hub_runs gauge" in text
