"""Connections with their state and problems, settings redacted (admins only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.services.directory.connections import INVALID, OK

if TYPE_CHECKING:
    from connectors.config import ConnectionReport


def connections_dict(report: ConnectionReport) -> dict[str, Any]:
    items: list[dict[str, Any]] = [
        {"name": c.name, "connector": c.connector, "state": OK, "problems": [],
         "config": c.redacted_config()}
        for c in report.connections.values()
    ]
    items += [
        {"name": b.name, "connector": b.connector, "state": INVALID, "problems": list(b.problems),
         "config": None}
        for b in report.broken.values()
    ]
    return {"connections": sorted(items, key=lambda item: item["name"]),
            "problems": list(report.problems)}
