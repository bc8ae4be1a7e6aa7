"""connectors._limits on its own: what a vendor body may hold before it is stored."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from connectors._limits import (
    EARLIEST,
    FUTURE_TOLERANCE,
    MAX_DEPTH,
    MAX_EXTERNAL_ID,
    MAX_INTEGER,
    MAX_JSON_BYTES,
    bounded_json,
    check_identifier,
    check_payload,
    check_time,
    unix_time,
)
from hub.errors import MalformedBody

BOM = b"\xef\xbb\xbf"


def wrapped(value: object, lists: int) -> object:
    """``value`` inside ``lists`` lists, built without recursion."""
    for _ in range(lists):
        value = [value]
    return value


def nested_lists(depth: int) -> object:
    """``depth`` lists inside each other (the innermost empty)."""
    return wrapped([], depth - 1)


# --- bounded_json ----------------------------------------------------------------------------


def test_bounded_json_parses_body_with_bom():
    assert bounded_json(BOM + b'{"id":"evt_1"}', "Vendor") == {"id": "evt_1"}


def test_bounded_json_parses_body_without_bom():
    assert bounded_json(b'[1,"two",null]', "Vendor") == [1, "two", None]


def test_bounded_json_refuses_body_with_two_boms():
    with pytest.raises(MalformedBody, match="not valid JSON"):
        bounded_json(BOM + BOM + b"{}", "Vendor")


@pytest.mark.parametrize(
    "body",
    [b"", BOM, b"{", b'{"a":1}x', b'"\xff"', b"NaN", b"Infinity", b"-Infinity", b'"\\ud800"', b"1e400"],
    ids=["empty", "bom-only", "unclosed", "trailing", "not-utf8", "nan", "inf", "-inf", "surrogate", "1e400"],
)
def test_bounded_json_refuses_body_when_not_json(body):
    with pytest.raises(MalformedBody, match="Vendor webhook body is not valid JSON"):
        bounded_json(body, "Vendor")


def test_bounded_json_parses_body_at_max_size():
    body = b"1" + b" " * (MAX_JSON_BYTES - 1)
    assert bounded_json(body, "Vendor") == 1


def test_bounded_json_refuses_body_over_max_size():
    with pytest.raises(MalformedBody, match="larger than"):
        bounded_json(b"1" + b" " * MAX_JSON_BYTES, "Vendor")


@pytest.mark.parametrize(
    ("opening", "closing"),
    [(b"[", b"]"), (b'{"a":', b"}")],
    ids=["arrays", "objects"],
)
def test_bounded_json_parses_nesting_at_max_depth(opening, closing):
    document = bounded_json(opening * MAX_DEPTH + b"1" + closing * MAX_DEPTH, "Vendor")
    for _ in range(MAX_DEPTH):
        document = document[0] if isinstance(document, list) else document["a"]
    assert document == 1


@pytest.mark.parametrize(
    ("opening", "closing"),
    [(b"[", b"]"), (b'{"a":', b"}")],
    ids=["arrays", "objects"],
)
def test_bounded_json_refuses_nesting_past_max_depth(opening, closing):
    with pytest.raises(MalformedBody, match=f"deeper than {MAX_DEPTH}"):
        bounded_json(opening * (MAX_DEPTH + 1) + b"1" + closing * (MAX_DEPTH + 1), "Vendor")


def test_bounded_json_refuses_nesting_of_100000_arrays():
    with pytest.raises(MalformedBody):
        bounded_json(b"[" * 100_000 + b"]" * 100_000, "Vendor")


@pytest.mark.parametrize(
    ("literal", "value"),
    [(b"9223372036854775807", 2**63 - 1), (b"-9223372036854775808", -(2**63))],
    ids=["2**63-1", "-2**63"],
)
def test_bounded_json_parses_integer_at_64_bit_bounds(literal, value):
    assert bounded_json(b'{"n":' + literal + b"}", "Vendor") == {"n": value}


@pytest.mark.parametrize(
    "literal",
    [b"9223372036854775808", b"-9223372036854775809", b"18446744073709551616", b"9" * 4400],
    ids=["2**63", "-2**63-1", "2**64", "4400-digits"],
)
def test_bounded_json_refuses_integer_beyond_64_bits(literal):
    with pytest.raises(MalformedBody):
        bounded_json(b'{"n":' + literal + b"}", "Vendor")


def test_bounded_json_refuses_nul_in_string():
    with pytest.raises(MalformedBody, match="NUL"):
        bounded_json(b'{"note":"a\\u0000b"}', "Vendor")


def test_bounded_json_refuses_nul_in_key():
    with pytest.raises(MalformedBody, match="NUL"):
        bounded_json(b'{"a\\u0000b":1}', "Vendor")


# --- check_payload ---------------------------------------------------------------------------


def test_check_payload_accepts_lists_at_max_depth():
    check_payload(nested_lists(MAX_DEPTH), "Vendor")


def test_check_payload_refuses_lists_past_max_depth():
    with pytest.raises(MalformedBody, match=f"deeper than {MAX_DEPTH}"):
        check_payload(nested_lists(MAX_DEPTH + 1), "Vendor")


def test_check_payload_refuses_100000_nested_lists_without_recursion():
    with pytest.raises(MalformedBody, match="deeper"):
        check_payload(nested_lists(100_000), "Vendor")


def test_check_payload_accepts_object_at_max_depth():
    check_payload(wrapped({"a": "b"}, MAX_DEPTH - 1), "Vendor")


def test_check_payload_refuses_object_past_max_depth():
    with pytest.raises(MalformedBody, match="deeper"):
        check_payload(wrapped({"a": "b"}, MAX_DEPTH), "Vendor")


def test_check_payload_accepts_scalar_below_the_deepest_container():
    check_payload(wrapped(1, MAX_DEPTH), "Vendor")  # 32 lists; the number itself is no level


@pytest.mark.parametrize("value", [MAX_INTEGER, -MAX_INTEGER - 1, 0, True, None, "text", 1.5])
def test_check_payload_accepts_value_within_limits(value):
    check_payload({"value": value}, "Vendor")


@pytest.mark.parametrize(
    "value", [MAX_INTEGER + 1, -MAX_INTEGER - 2, 10**4400], ids=["2**63", "-2**63-1", "4401-digits"]
)
def test_check_payload_refuses_integer_beyond_64_bits(value):
    with pytest.raises(MalformedBody, match="integer beyond 64 bits"):
        check_payload({"value": value}, "Vendor")


@pytest.mark.parametrize("value", [9.2e18, -9.2e18, 1e-300, -0.0])
def test_check_payload_accepts_float_within_64_bits(value):
    check_payload([value], "Vendor")


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, -math.inf, 1e19, -1e19, 1.5e300], ids=str
)
def test_check_payload_refuses_float_when_not_finite_or_beyond_64_bits(value):
    with pytest.raises(MalformedBody, match="NaN or Infinity"):
        check_payload([value], "Vendor")


def test_check_payload_refuses_nul_in_nested_string():
    with pytest.raises(MalformedBody, match="NUL"):
        check_payload({"a": [{"b": "x\x00"}]}, "Vendor")


def test_check_payload_accepts_other_control_characters_in_strings():
    check_payload({"note": "line\none\ttab\x01"}, "Vendor")


@pytest.mark.parametrize("key", [1, None, ("a",)], ids=["int", "none", "tuple"])
def test_check_payload_refuses_key_when_not_text(key):
    with pytest.raises(MalformedBody, match="key that is not text"):
        check_payload({key: "value"}, "Vendor")


@pytest.mark.parametrize("value", [b"bytes", {1, 2}, datetime(2026, 1, 1, tzinfo=UTC)], ids=str)
def test_check_payload_refuses_value_when_not_json(value):
    with pytest.raises(MalformedBody, match="holds a"):
        check_payload({"value": value}, "Vendor")


# --- check_time ------------------------------------------------------------------------------


def test_check_time_passes_none_through():
    assert check_time(None, "Vendor", "event time") is None


def test_check_time_returns_moment_when_now():
    now = datetime.now(UTC)
    assert check_time(now, "Vendor", "event time") is now


def test_check_time_accepts_moment_just_inside_tolerance():
    moment = datetime.now(UTC) + FUTURE_TOLERANCE - timedelta(seconds=1)
    assert check_time(moment, "Vendor", "event time") == moment


def test_check_time_refuses_moment_just_past_tolerance():
    with pytest.raises(MalformedBody, match="Vendor event time lies in the future"):
        check_time(datetime.now(UTC) + FUTURE_TOLERANCE + timedelta(seconds=1), "Vendor", "event time")


def test_check_time_accepts_moment_at_epoch():
    assert check_time(EARLIEST, "Vendor", "event time") == EARLIEST


def test_check_time_refuses_moment_before_epoch():
    with pytest.raises(MalformedBody, match="before 1970"):
        check_time(EARLIEST - timedelta(microseconds=1), "Vendor", "event time")


# --- unix_time -------------------------------------------------------------------------------


def test_unix_time_keeps_milliseconds_exactly_when_millis():
    moment = unix_time(1700000000456, "Vendor", "created", millis=True)
    assert moment == datetime(2023, 11, 14, 22, 13, 20, 456000, tzinfo=UTC)
    assert moment.microsecond == 456000


@pytest.mark.parametrize("remainder", [1, 7, 455, 999])
def test_unix_time_keeps_every_millisecond_exactly_when_millis(remainder):
    moment = unix_time(1700000000000 + remainder, "Vendor", "created", millis=True)
    assert moment.microsecond == remainder * 1000


def test_unix_time_reads_seconds_by_default():
    assert unix_time(1700000000, "Vendor", "created") == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_unix_time_accepts_zero_as_epoch():
    assert unix_time(0, "Vendor", "created") == EARLIEST
    assert unix_time(999, "Vendor", "created", millis=True) == EARLIEST + timedelta(milliseconds=999)


@pytest.mark.parametrize("value", [None, "1700000000", 1700000000.5, True, False, [1]], ids=repr)
def test_unix_time_returns_none_when_not_an_integer(value):
    assert unix_time(value, "Vendor", "created") is None


@pytest.mark.parametrize(
    ("value", "millis"),
    [(-1, False), (-1, True), (-(10**17), False), (10**17, False), (10**17, True), (2**63, True)],
    ids=["-1s", "-1ms", "-1e17s", "1e17s", "1e17ms", "2**63ms"],
)
def test_unix_time_refuses_value_when_out_of_range(value, millis):
    with pytest.raises(MalformedBody, match="Vendor created is out of range"):
        unix_time(value, "Vendor", "created", millis=millis)


def test_unix_time_accepts_now_plus_clock_skew():
    seconds = int(datetime.now(UTC).timestamp()) + 60
    assert unix_time(seconds, "Vendor", "created") == datetime.fromtimestamp(seconds, tz=UTC)


def test_unix_time_refuses_one_hour_ahead():
    seconds = int(datetime.now(UTC).timestamp()) + 3600
    with pytest.raises(MalformedBody, match="out of range"):
        unix_time(seconds, "Vendor", "created")
    with pytest.raises(MalformedBody, match="out of range"):
        unix_time(seconds * 1000, "Vendor", "created", millis=True)


# --- check_identifier ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["cus_1", "Zoë & Co", "a b", "x" * MAX_EXTERNAL_ID], ids=repr)
def test_check_identifier_returns_value_when_valid(value):
    assert check_identifier(value, "Vendor", "customer id") == value


def test_check_identifier_refuses_value_one_past_max_length():
    with pytest.raises(MalformedBody, match=f"longer than {MAX_EXTERNAL_ID} characters"):
        check_identifier("x" * (MAX_EXTERNAL_ID + 1), "Vendor", "customer id")


def test_check_identifier_uses_given_max_length():
    assert check_identifier("e" * 300, "Vendor", "event id", 300) == "e" * 300
    with pytest.raises(MalformedBody, match="Vendor event id is longer than 300 characters"):
        check_identifier("e" * 301, "Vendor", "event id", 300)


@pytest.mark.parametrize("value", ["", "   ", "\t\n", None, 42, ["cus_1"]], ids=repr)
def test_check_identifier_refuses_value_when_not_non_empty_text(value):
    with pytest.raises(MalformedBody, match="must be non-empty text"):
        check_identifier(value, "Vendor", "customer id")


@pytest.mark.parametrize("char", ["\x00", "\x01", "\t", "\n", "\r", "\x1b", "\x1f", "\x7f"], ids=repr)
def test_check_identifier_refuses_value_with_control_character(char):
    with pytest.raises(MalformedBody, match="control characters"):
        check_identifier(f"cus{char}1", "Vendor", "customer id")
