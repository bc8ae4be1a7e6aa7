"""The standard suite: the contract every connector keeps, over every fixture its harness records.

A test class that subclasses ConnectorSuite and lists harnesses gets every test below, once per
harness (and per fixture, forgery and hostile case); pytest calls its pytest_generate_tests.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeAlias

import pytest

from connectors import registry
from connectors.base import Backfilled, Polled, WebhookRequest, validate_event
from connectors.testing import cases
from connectors.testing.harness import EPOCH, FORGERY_CASES, Harness, normalise_all, webhook
from hub.domain.sources import Source
from hub.errors import HubError, InvalidInput, MalformedBody, SignatureVerificationError

FixtureCase: TypeAlias = tuple[Harness, Path]  # a harness and one of its recorded fixtures
NamedCase: TypeAlias = tuple[Harness, str]  # a harness and a forgery or a hostile fixture's name
RawTimeCase: TypeAlias = tuple[Harness, str, str]  # ... and one of its raw_times cases


def assert_refused(harness: Harness, connector: Any, request: WebhookRequest,
                   expected: type[HubError] = InvalidInput) -> HubError:
    """verify() + read() refuse the request (nothing stored) and the reply is the vendor's 4xx."""
    with pytest.raises(expected) as caught:
        connector.verify(request)
        connector.read(request)
    reply = connector.refuse(caught.value)
    assert 400 <= reply.status < 500
    assert reply.content_type.startswith(harness.refusal_content_type)
    assert harness.refusal_marker in reply.body
    return caught.value


def _skip_if_not_applicable(harness: Harness, case: str) -> None:
    if case in harness.not_applicable:
        pytest.skip(harness.not_applicable[case])


class ConnectorSuite:
    """Subclass as ``Test…`` and set ``harnesses``; a subclass without any collects only skips."""

    harnesses: ClassVar[Sequence[Harness]] = ()
    minimum_fixtures: ClassVar[int] = 5

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        for argument, params in _parameters(self.harnesses).items():
            if argument in metafunc.fixturenames:
                metafunc.parametrize(argument, [value for _, value in params], ids=[i for i, _ in params])

    # --- capabilities and fixtures ----------------------------------------------------------

    def test_capabilities_are_declared(self, harness: Harness) -> None:
        cls = registry.get_connector_class(harness.name)
        assert isinstance(cls.creates_customers, bool)
        assert cls.default_source in {source.value for source in Source}
        if issubclass(cls, Polled):
            assert cls.poll_cursor_kind, f"{harness.name} polls: name its cursor kind"
        if issubclass(cls, Backfilled):
            assert cls.backfill_cursor_kind, f"{harness.name} backfills: name its cursor kind"
        assert cls.poll_cursor_kind != cls.backfill_cursor_kind  # one connection may keep both

    def test_every_vendor_has_at_least_five_fixtures(self, harness: Harness) -> None:
        assert len(harness.fixture_paths()) >= self.minimum_fixtures

    def test_good_signature_passes(self, fixture_case: FixtureCase) -> None:
        harness, path = fixture_case
        harness.connector().verify(harness.signed(path.read_bytes()))

    def test_forged_request_is_refused(self, forgery_case: NamedCase) -> None:
        harness, case = forgery_case
        _skip_if_not_applicable(harness, case)
        body = harness.fixture_paths()[0].read_bytes()
        try:
            connection, request = harness.forge(case, body)
        except NotImplementedError:
            pytest.fail(f"{harness.name} must declare why {case} does not apply")
        connector = registry.create_connector(connection)
        with pytest.raises(SignatureVerificationError) as caught:
            connector.verify(request)
        assert connector.refuse(caught.value).status >= 400

    def test_every_fixture_parses_and_normalises_into_valid_events(self, fixture_case: FixtureCase) -> None:
        harness, path = fixture_case
        connector = harness.connector()
        request = harness.signed(path.read_bytes())
        notifications = connector.parse(request)
        assert notifications, "every fixture holds at least one notification"
        with harness.fake_api():
            events = normalise_all(connector, request)
        for note in notifications:
            assert isinstance(note.vendor_event_id, str) and note.vendor_event_id
            json.dumps(note.payload)  # the inbox stores it as JSON
        for event in events:
            validate_event(event, harness.name)
            assert event["connection"] == connector.connection.name
            assert event["connector"] == harness.name
        assert len({e["id"] for e in events}) == len(events)

    def test_unusable_body_is_malformed(self, harness: Harness) -> None:
        with pytest.raises(MalformedBody):
            harness.connector().parse(webhook(b"\xff\xfe not json, not xml <"))

    def test_acknowledge_is_2xx(self, harness: Harness) -> None:
        connector = harness.connector()
        notifications = connector.parse(harness.signed(harness.fixture_paths()[0].read_bytes()))
        reply = connector.acknowledge(notifications)
        assert 200 <= reply.status < 300
        assert reply.body and reply.content_type

    def test_connection_repr_hides_secrets(self, harness: Harness) -> None:
        connection = harness.connection()
        shown = repr(connection)
        for key, value in connection.config.items():
            if any(word in key for word in ("secret", "password", "token", "key", "session")):
                assert str(value) not in shown

    def test_every_fixture_passes_read(self, fixture_case: FixtureCase) -> None:
        harness, path = fixture_case
        connector = harness.connector()
        request = harness.signed(path.read_bytes())
        connector.verify(request)
        assert connector.read(request) == connector.parse(request)

    def test_redact_body_blanks_only_the_vendors_credentials(self, fixture_case: FixtureCase) -> None:
        harness, path = fixture_case
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

    def test_body_credentials_are_found_when_the_vendor_sends_them(self, harness: Harness) -> None:
        """Keeps the redaction test honest: credential-carrying fixtures exist for such vendors."""
        found = [harness.body_credentials(path.read_bytes()) for path in harness.fixture_paths()]
        assert any(found) == bool(harness.credential_markers)

    # --- hostile payloads (connectors.testing.cases) -----------------------------------------

    def test_every_vendor_declares_hostile_fixtures(self, harness: Harness) -> None:
        assert harness.hostile_fixtures, f"{harness.name}: name the fixtures hostile cases start from"
        for name in harness.hostile_fixtures:
            notifications = harness.connector().read(harness.signed(harness.encode(harness.document(name))))
            first = notifications[0]
            assert first.handled, f"{harness.name}/{name}: the first record must be a handled customer"

    @pytest.mark.parametrize("case", sorted(cases.HARMLESS_CASES))
    def test_harness_edit_is_accepted_when_within_limits(self, hostile_case: NamedCase, case: str) -> None:
        harness, name = hostile_case
        body = harness.encode(cases.HARMLESS_CASES[case](harness, harness.document(name)))
        connector = harness.connector()
        request = harness.signed(body)
        connector.verify(request)
        notifications = connector.read(request)
        assert notifications and notifications[0].handled

    @pytest.mark.parametrize("case", sorted(cases.RECORD_CASES))
    def test_hostile_record_is_refused_before_storing(self, hostile_case: NamedCase, case: str) -> None:
        harness, name = hostile_case
        _skip_if_not_applicable(harness, case)
        body = harness.encode(cases.RECORD_CASES[case](harness, harness.document(name)))
        assert_refused(harness, harness.connector(), harness.signed(body))

    @pytest.mark.parametrize("case", sorted(cases.EDGE_TIMES))
    def test_time_beyond_the_calendar_is_refused_or_left_unknown(self, hostile_case: NamedCase,
                                                                 case: str) -> None:
        harness, name = hostile_case
        document = harness.with_time(harness.document(name), cases.EDGE_TIMES[case])
        request = harness.signed(harness.encode(document))
        connector = harness.connector()
        try:
            connector.verify(request)
            notifications = connector.read(request)
        except InvalidInput as refused:
            assert 400 <= connector.refuse(refused).status < 500
            return
        latest = datetime.now(UTC) + timedelta(minutes=5)
        assert all(n.occurred_at is None or EPOCH <= n.occurred_at <= latest for n in notifications)

    def test_raw_vendor_time_is_refused_when_out_of_range(self, raw_time_case: RawTimeCase) -> None:
        harness, name, case = raw_time_case
        field, value = harness.raw_times[case]
        body = harness.encode(harness.with_raw_time(harness.document(name), field, value))
        assert_refused(harness, harness.connector(), harness.signed(body))

    @pytest.mark.parametrize("case", sorted(cases.JSON_MEMBERS))
    def test_hostile_json_is_refused_before_storing(self, json_case: NamedCase, case: str) -> None:
        harness, name = json_case
        _skip_if_not_applicable(harness, case)
        body = harness.with_raw(harness.document(name), cases.JSON_MEMBERS[case])
        assert_refused(harness, harness.connector(), harness.signed(body))

    @pytest.mark.parametrize("case", sorted(cases.XML_CASES))
    def test_hostile_xml_is_refused_with_a_fault_before_storing(self, xml_case: NamedCase, case: str) -> None:
        harness, name = xml_case
        _skip_if_not_applicable(harness, case)
        doctype, field = cases.XML_CASES[case]
        body = cases.with_doctype(harness.with_raw(harness.document(name), field), doctype)
        assert_refused(harness, harness.connector(), harness.signed(body), MalformedBody)

    @pytest.mark.parametrize("case", ["tampered_body", "wrong_secret"])
    def test_forged_hostile_body_is_refused_by_verify(self, harness: Harness, case: str) -> None:
        """A foreign sender is refused on its signature (or org) alone, before its nesting is walked."""
        _skip_if_not_applicable(harness, case)
        body = harness.with_raw(harness.document(harness.hostile_fixtures[0]), cases.DEEP[harness.suffix])
        connection, request = harness.forge(case, body)
        connector = registry.create_connector(connection)
        with pytest.raises(SignatureVerificationError) as caught:
            connector.verify(request)
        reply = connector.refuse(caught.value)
        assert 400 <= reply.status < 500
        assert harness.refusal_marker in reply.body

    @pytest.mark.timeout(20)
    def test_redact_body_stays_linear_with_unclosed_credential_tags(self, harness: Harness) -> None:
        """A valid body may hold credential tags that never close (in a comment): redaction of what
        is about to be stored must stay linear, or one 1 MiB delivery holds a worker for minutes.

        Not a timing measurement: a quadratic scan of this ~1 MiB body takes tens of minutes (36 s
        at 177 KB), a linear one milliseconds; the timeout only separates the two."""
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


def _parameters(harnesses: Sequence[Harness]) -> dict[str, list[tuple[str, Any]]]:
    """Argument name → (test id, value) for every harness, fixture, forgery and hostile case.

    Record and time cases run on every hostile fixture (each names its ids and times its own
    way); syntax cases, refused before any field is read, on the first of each JSON or XML harness.
    """
    def first_hostile(suffix: str) -> list[tuple[str, Any]]:
        return [(f"{h.name}/{h.hostile_fixtures[0]}", (h, h.hostile_fixtures[0]))
                for h in harnesses if h.suffix == suffix and h.hostile_fixtures]

    return {
        "harness": [(h.name, h) for h in harnesses],
        "fixture_case": [(f"{h.name}/{p.name}", (h, p)) for h in harnesses for p in h.fixture_paths()],
        "forgery_case": [(f"{h.name}-{c}", (h, c)) for h in harnesses for c in FORGERY_CASES],
        "hostile_case": [(f"{h.name}/{f}", (h, f)) for h in harnesses for f in h.hostile_fixtures],
        "json_case": first_hostile(".json"),
        "xml_case": first_hostile(".xml"),
        "raw_time_case": [(f"{h.name}/{f}-{c}", (h, f, c))
                          for h in harnesses for f in h.hostile_fixtures for c in h.raw_times],
    }
