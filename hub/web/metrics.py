"""GET /metrics in Prometheus text: request and webhook counters, plus gauges read from the
database at scrape time (runs by status, inbox by status, refused webhooks, queue lag) and the
recipes this process runs (refused folder, count).

Counters live in this process; under gunicorn set PROMETHEUS_MULTIPROC_DIR (``hub serve`` and
docker-compose do) so every worker's counts are added up. The database gauges are exact across
processes either way.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterator

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from hub.context import current_hub, hub_of
from hub.errors import AuthenticationRequired
from hub.services.hub import Hub
from hub.services.queries.gauges import count_database
from hub.web.context import bearer_token

bp = Blueprint("metrics", __name__)


class Metrics:
    def __init__(self, hub: Hub) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        # In multiprocess mode the counters write to files and are read back, summed over all
        # processes, by the MultiProcessCollector: registering them here too would count twice.
        own = None if multiprocess else self.registry
        self.requests = Counter("hub_http_requests_total", "HTTP requests by route and status",
                                ["route", "method", "status"], registry=own)
        self.webhooks = Counter("hub_webhooks_total", "Webhook deliveries by connection and outcome "
                                "(accepted, duplicate, refused_signature, malformed, unavailable)",
                                ["connection", "outcome"], registry=own)
        self.registry.register(DatabaseGauges(hub))
        self.registry.register(RecipeGauges(hub))
        if multiprocess:
            MultiProcessCollector(self.registry)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class DatabaseGauges:
    """Read at scrape time, so they agree whatever process answers."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def describe(self) -> list:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        runs = GaugeMetricFamily("hub_runs", "Recipe runs by status", labels=["status"])
        inbox = GaugeMetricFamily("hub_inbox_events", "Inbox events by connection and status",
                                  labels=["connection", "status"])
        refused = GaugeMetricFamily("hub_security_events", "Refused webhooks by connection and kind",
                                    labels=["connection", "kind"])
        lag = GaugeMetricFamily("hub_queue_lag_seconds", "Age of the oldest event waiting to be processed")
        counts = count_database(self.hub)
        for status, n in counts.runs:
            runs.add_metric([status], n)
        for conn, status, n in counts.inbox:
            inbox.add_metric([conn, status], n)
        for conn, kind, n in counts.refused:
            refused.add_metric([conn, kind], n)
        lag.add_metric([], counts.queue_lag_seconds)
        usable = GaugeMetricFamily("hub_connection_usable",
                                   "1 when a connection's settings are valid, 0 when it is misconfigured",
                                   labels=["connection"])
        for name, state in self.hub.connections.health().items():
            usable.add_metric([name], 1.0 if state == "ok" else 0.0)
        yield from (runs, inbox, refused, lag, usable)


class RecipeGauges:
    """Whether the recipes folder is refused and how many recipes run: while the last good set
    runs, a refused folder shows nowhere in the runs, so it needs gauges of its own."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    def describe(self) -> list:
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        loaded = self.hub.recipes.current()
        refused = GaugeMetricFamily("hub_recipes_refused",
                                    "1 when the recipes folder is refused (the last good set runs)")
        refused.add_metric([], 1.0 if loaded.refused else 0.0)
        count = GaugeMetricFamily("hub_recipes_loaded", "Recipes running now")
        count.add_metric([], float(len(loaded.recipes)))
        yield from (refused, count)


def register(app: Flask) -> None:
    app.extensions["metrics"] = Metrics(hub_of(app))

    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule else "unmatched"
        app.extensions["metrics"].requests.labels(route, request.method, str(response.status_code)).inc()
        return response


def count_webhook(connection: str, outcome: str) -> None:
    current_app.extensions["metrics"].webhooks.labels(connection, outcome).inc()


@bp.get("/metrics")
def metrics() -> Response:
    required = current_hub().settings.metrics_key
    if required and not hmac.compare_digest((bearer_token() or "").encode(), required.encode()):
        raise AuthenticationRequired("/metrics needs Authorization: Bearer <HUB_METRICS_KEY>")
    return Response(current_app.extensions["metrics"].exposition(), mimetype=CONTENT_TYPE_LATEST)

