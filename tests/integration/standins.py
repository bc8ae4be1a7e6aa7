"""Real HTTP stand-ins for the vendors' APIs on loopback ports, as a staging set-up would have them.

Each stand-in is a ThreadingHTTPServer on 127.0.0.1 (plain http, a port of its own) answering
what the vendor's SDK asks for, recording every request it got. Unlike `responses`/`respx`,
nothing in the client is patched: the SDK really builds the URL, connects and parses the answer.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "unit" / "connectors" / "fixtures"

Answer = tuple[Any, ...]  # status, JSON-able body[, extra headers]


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class StandIn:
    """Routes (method, path regex) → handler(match, seen) → (status, JSON body)."""

    routes: list[tuple[str, re.Pattern[str], Callable[..., Answer]]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    base: str = ""

    def route(self, method: str, pattern: str) -> Callable[[Callable[..., Answer]], Callable[..., Answer]]:
        def decorator(handler: Callable[..., Answer]) -> Callable[..., Answer]:
            self.routes.append((method, re.compile(pattern + "$"), handler))
            return handler
        return decorator

    def answer(self, seen: Seen) -> Answer:
        self.seen.append(seen)
        for method, pattern, handler in self.routes:
            match = pattern.match(seen.path)
            if method == seen.method and match:
                return handler(match, seen)
        return 404, {"error": f"stand-in has no route for {seen.method} {seen.path}"}

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]


@contextmanager
def serving(stand_in: StandIn) -> Iterator[StandIn]:
    """Serve on a free loopback port for the duration of the block."""

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            seen = Seen(self.command, parts.path, parse_qs(parts.query),
                        {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            status, body, *extra = stand_in.answer(seen)  # (status, body[, headers])
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in (extra[0] if extra else {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, *args: Any) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stand_in.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()


def load(*parts: str) -> Any:
    return json.loads(FIXTURES.joinpath(*parts).read_text(encoding="utf-8"))


# --- the vendors ---------------------------------------------------------------------------------


def stripe(prefix: str) -> StandIn:
    """Stripe's API under ``prefix``: customers with their default payment method expanded."""
    stand_in = StandIn()
    customers = load("stripe", "api", "customers.json")

    @stand_in.route("GET", rf"{prefix}/v1/customers/(?P<id>[^/]+)")
    def customer(match: re.Match[str], seen: Seen) -> Answer:
        found = customers.get(match["id"])
        return (200, found) if found else (404, {"error": {"code": "resource_missing",
                                                           "type": "invalid_request_error"}})

    return stand_in


def chargebee(prefix: str) -> StandIn:
    """Chargebee's REST API v2 under ``prefix`` (e.g. /staging/api/v2)."""
    stand_in = StandIn()
    sources = load("chargebee", "api", "payment_sources.json")

    @stand_in.route("GET", rf"{prefix}/payment_sources/(?P<id>[^/]+)")
    def payment_source(match: re.Match[str], seen: Seen) -> Answer:
        found = sources.get(match["id"])
        return (200, found) if found else (404, {"api_error_code": "resource_not_found",
                                                  "http_status_code": 404, "message": "not found",
                                                  "type": "invalid_request"})

    return stand_in


@dataclass
class IntuitTokens:
    """Intuit's token endpoint: every refresh replaces the refresh token, the old one stops working."""

    current: str
    issued: int = 0
    access_tokens: set[str] = field(default_factory=set)  # each valid for its hour, as at Intuit
    refused: int = 0
    presented: list[str] = field(default_factory=list)

    def refresh(self, seen: Seen) -> Answer:
        form = parse_qs(seen.body.decode())
        token = form.get("refresh_token", [""])[0]
        self.presented.append(token)
        if token != self.current:
            self.refused += 1
            return 400, {"error": "invalid_grant"}
        self.issued += 1
        self.current = f"rt-rotated-{self.issued}"
        self.access_tokens.add(f"at-{self.issued}")
        return 200, {"token_type": "bearer", "access_token": f"at-{self.issued}",
                     "refresh_token": self.current, "expires_in": 3600,
                     "x_refresh_token_expires_in": 8726400}


def quickbooks(realm: str, tokens: IntuitTokens, discovery_path: str) -> StandIn:
    """Intuit's discovery document, token endpoint and the QuickBooks v3 API on one host."""
    stand_in = StandIn()
    entities = {"customer": load("quickbooks", "api", "customers.json"),
                "paymentmethod": load("quickbooks", "api", "payment_methods.json"),
                "term": load("quickbooks", "api", "terms.json")}

    @stand_in.route("GET", re.escape(discovery_path))
    def discovery(match: re.Match[str], seen: Seen) -> Answer:
        document = load("quickbooks", "api", "discovery.json")
        document["token_endpoint"] = f"{stand_in.base}/oauth2/v1/tokens/bearer"
        return 200, document

    @stand_in.route("POST", "/oauth2/v1/tokens/bearer")
    def token(match: re.Match[str], seen: Seen) -> Answer:
        return tokens.refresh(seen)

    @stand_in.route("GET", rf"/v3/company/{realm}/(?P<entity>\w+)/(?P<id>\d+)")
    def entity(match: re.Match[str], seen: Seen) -> Answer:
        if seen.headers.get("authorization", "").removeprefix("Bearer ") not in tokens.access_tokens:
            return 401, {"Fault": {"Error": [{"Message": "AuthenticationFailed", "code": "3200"}],
                                   "type": "AUTHENTICATION"}}
        found = entities.get(match["entity"], {}).get(match["id"])
        return (200, found) if found else (400, {"Fault": {"Error": [{"Message": "Object Not Found",
                                                                      "code": "610"}],
                                                           "type": "ValidationFault"}})

    return stand_in


def salesforce(prefix: str, version: str = "59.0") -> StandIn:
    """The Salesforce REST API (sObject reads and SOQL) under ``prefix``."""
    stand_in = StandIn()
    accounts = load("salesforce", "api", "accounts.json")
    users = load("salesforce", "api", "users.json")
    base = f"{prefix}/services/data/v{version}"

    @stand_in.route("GET", rf"{re.escape(base)}/sobjects/Account/(?P<id>\w+)")
    def account(match: re.Match[str], seen: Seen) -> Answer:
        found = accounts.get(match["id"])
        return (200, found) if found else (404, [{"errorCode": "NOT_FOUND", "message": "not found"}])

    @stand_in.route("GET", rf"{re.escape(base)}/query/?")
    def query(match: re.Match[str], seen: Seen) -> Answer:
        soql = seen.query["q"][0]
        wanted = set(re.findall(r"'(005\w+)'", soql))
        records = [u for u in users if u["Id"] in wanted] if "FROM User" in soql else []
        return 200, {"totalSize": len(records), "done": True, "records": records}

    return stand_in
