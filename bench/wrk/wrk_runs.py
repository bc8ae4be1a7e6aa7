"""Pre-signed Stripe webhooks for wrk and wrk's report, read back: the pure half of the pipeline bench.

bench/bench_pipeline.py writes a requests file with `write_requests` just before each wrk run
(signatures are time-stamped; Stripe's tolerance is 300 s), runs wrk with signed_webhooks.lua
beside this file, and reads the report with `parse_wrk`. Kept apart so unit tests can check both
without wrk or a server.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import stripe

SECRET = "whsec_bench"
LUA = Path(__file__).with_name("signed_webhooks.lua")
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def event(run: str, n: int, fetch: bool = False) -> bytes:
    """A `customer.created` for a new customer; `fetch` names the payment method by id only."""
    method: object = f"pm_{run}_{n}" if fetch else {"id": f"pm_{run}_{n}", "type": "card"}
    obj = {"id": f"cus_{run}_{n}", "object": "customer", "name": f"Bench {n}", "currency": "usd",
           "metadata": {}, "default_source": None, "invoice_settings": {"default_payment_method": method}}
    return json.dumps({"id": f"evt_{run}_{n}", "object": "event", "type": "customer.created",
                       "created": int(time.time()), "data": {"object": obj}}).encode()


def signature(body: bytes, at: int, secret: str = SECRET) -> str:
    """The `Stripe-Signature` header value, computed with the SDK's own scheme."""
    return f"t={at},v1={stripe.WebhookSignature._compute_signature(f'{at}.{body.decode()}', secret)}"


def write_requests(path: Path, run: str, count: int, fetch: bool = False) -> None:
    """One request a line, `signature<TAB>body`, the format signed_webhooks.lua reads."""
    at = int(time.time())
    with path.open("w") as out:
        for n in range(count):
            body = event(run, n, fetch)
            out.write(f"{signature(body, at)}\t{body.decode()}\n")


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    non_2xx: int  # wrk counts answers >= 400 ("Non-2xx or 3xx responses")
    socket_errors: int
    p50_ms: float
    p99_ms: float
    reused: int  # requests sent a second time (the file ran out): duplicates, cheaper

    @property
    def acknowledged_per_s(self) -> float:
        return (self.requests - self.non_2xx) / self.seconds


def _ms(value: str, unit: str) -> float:
    return float(value) * UNITS_MS[unit]


def parse_wrk(output: str) -> WrkResult:
    """Reads wrk's `--latency` report (and the script's reuse line); a missing line is an error."""
    def find(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise ValueError(f"wrk output has no line matching {pattern!r}:\n{output}")
        return match

    done = find(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    p50, p99 = (find(rf"^\s*{p}%\s+([\d.]+)(us|ms|s|m)\s*$") for p in (50, 99))
    return WrkResult(
        requests=int(done[1]), seconds=_ms(done[2], done[3]) / 1000,
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
        p50_ms=_ms(p50[1], p50[2]), p99_ms=_ms(p99[1], p99[2]),
        reused=int(find(r"^bench: reused (\d+)")[1]))


@dataclass(frozen=True)
class Generator:
    """wrk's settings, the same for every system of a run."""

    threads: int
    connections: int
    logs: Path  # requests files live here during a run, wrk reports stay


def run_wrk(generator: Generator, url: str, run: str, count: int, seconds: float, rate: float = 0,
            fetch: bool = False) -> WrkResult:
    """Signs `count` new requests named after `run`, posts them for `seconds` (paced when `rate`)."""
    requests_file = generator.logs / f"requests-{run}.txt"
    write_requests(requests_file, run, count, fetch)
    env = {**os.environ, "BENCH_REQUESTS": str(requests_file), "BENCH_THREADS": str(generator.threads),
           "BENCH_RATE": str(rate)}
    command = ["wrk", "--latency", "-t", str(generator.threads), "-c", str(generator.connections),
               "-d", f"{seconds:g}s", "--timeout", "10s", "-s", str(LUA), url]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    finally:
        requests_file.unlink()
    (generator.logs / f"wrk-{run}.txt").write_text(done.stdout)
    return parse_wrk(done.stdout)
