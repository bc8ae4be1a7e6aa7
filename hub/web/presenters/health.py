"""/healthz: states only, never problems or values (the page is anonymous)."""

from __future__ import annotations

from typing import Any

from hub.services.health import HealthReport


def health_dict(report: HealthReport) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "ok" if report.healthy else "degraded", "database": report.database,
                            "broker": report.broker, "connections": report.connections,
                            "recipes": report.recipes}
    if not report.connections_file_ok:
        body["connectionsFile"] = "invalid"
    return body
