"""The pure half of bench/bench_pipeline.py: signed requests the Stripe SDK accepts, wrk's report read back.

No wrk and no server: a wrong signature would make every benchmarked request a 400, a misread
report would print wrong figures, so both are pinned here.
"""

from __future__ import annotations

import json

import pytest
import stripe

from bench.wrk.wrk_runs import SECRET, event, parse_wrk, signature, write_requests

WRK_REPORT = """Running 8s test @ http://127.0.0.1:41234/webhooks/stripe
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    65.12ms   12.40ms 312.50ms   81.20%
    Req/Sec   245.31     30.12   310.00     70.00%
  Latency Distribution
     50%   63.89ms
     75%   70.30ms
     90%   80.74ms
     99%    1.02s
  3912 requests in 8.03s, 607.52KB read
  Socket errors: connect 0, read 3, write 0, timeout 1
  Non-2xx or 3xx responses: 12
Requests/sec:    487.17
Transfer/sec:     75.66KB
bench: reused 0
"""


def test_every_request_in_the_file_passes_the_sdk_check_and_is_a_new_event(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "requests.txt"
    write_requests(path, "hub-r1", 50)
    ids = set()
    for line in path.read_text().splitlines():
        header, body = line.split("\t")
        verified = stripe.Webhook.construct_event(body, header, SECRET, tolerance=300)
        assert verified.type == "customer.created"
        ids.add(verified.id)
    assert len(ids) == 50
    assert "evt_hub-r1_49" in ids


def test_a_request_signed_with_another_secret_is_refused():  # type: ignore[no-untyped-def]
    body = event("x", 1)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.decode(), signature(body, 1_800_000_000, "whsec_other"), SECRET)


def test_fetch_events_name_the_payment_method_by_id_so_the_normaliser_fetches_it():  # type: ignore[no-untyped-def]
    by_id = json.loads(event("v", 7, fetch=True))["data"]["object"]["invoice_settings"]
    expanded = json.loads(event("v", 7))["data"]["object"]["invoice_settings"]
    assert by_id["default_payment_method"] == "pm_v_7"
    assert expanded["default_payment_method"] == {"id": "pm_v_7", "type": "card"}


def test_the_wrk_report_is_read_with_units_errors_and_reuse():  # type: ignore[no-untyped-def]
    result = parse_wrk(WRK_REPORT)
    assert (result.requests, result.seconds, result.non_2xx, result.socket_errors) == (3912, 8.03, 12, 4)
    assert (result.p50_ms, result.p99_ms, result.reused) == (63.89, 1020.0, 0)
    assert result.acknowledged_per_s == pytest.approx((3912 - 12) / 8.03)


def test_a_clean_report_has_no_errors_and_microsecond_latencies_read_as_such():  # type: ignore[no-untyped-def]
    clean = (WRK_REPORT.replace("  Non-2xx or 3xx responses: 12\n", "")
             .replace("  Socket errors: connect 0, read 3, write 0, timeout 1\n", "")
             .replace("50%   63.89ms", "50%  850.00us").replace("bench: reused 0", "bench: reused 7"))
    result = parse_wrk(clean)
    assert (result.non_2xx, result.socket_errors, result.p50_ms, result.reused) == (0, 0, 0.85, 7)


def test_a_report_without_the_script_line_is_an_error_not_a_zero():  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="reused"):
        parse_wrk(WRK_REPORT.replace("bench: reused 0\n", ""))
