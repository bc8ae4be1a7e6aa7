"""Schemathesis against the live app: every operation of the OpenAPI document, fuzzed within bounds.

Zero server errors and zero conformance failures (status codes, content types and bodies as
documented). The examples per operation are bounded so the suite stays fast; the data is the
demo set, so reads find something and writes meet real precedence. (The operations are walked
here rather than with ``schema.parametrize()``: its lazy fixture loader does not run on pytest 9.)

Every check runs, with one adjustment: a request the schema allows may still be refused with a
422 for what no schema can know (a dunningPlanId that does not exist, a file that is not CSV),
so 422 counts as an accepted answer to schema-valid data; so does a 400 for what every body is
checked for before it is used (NUL characters, which PostgreSQL cannot store, and numbers beyond
64 bits; the body schemas do not spell those out). An upload's file content is beyond
any schema (a random PNG is schema-valid multipart): POST /imports is spared that one check.

The stateful test chains operations through the links schemathesis infers from the declared
response shapes (71 of them: a created customer is read, changed, released; a listed run is
replayed; a listed key revoked), so calls reach real resources instead of random ids' 404s.
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from hub.services.demo import load_demo
from tests.conftest import ADMIN_KEY, _empty_all_tables

EXAMPLES_PER_OPERATION = 15
SCENARIOS = 40  # stateful: sequences of calls, each of up to STEPS_PER_SCENARIO linked steps
STEPS_PER_SCENARIO = 6


@pytest.fixture
def api_schema(app, hub):  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        load_demo(uow.session)
        uow.commit()
    config = SchemathesisConfig.from_dict({
        "headers": {"Authorization": f"Bearer {ADMIN_KEY}"},  # the admin's, as `schemathesis run -H` sends
        "checks": {"positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "422"]}}})
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)


def test_every_operation_conforms_and_never_answers_5xx(api_schema, admin):  # type: ignore[no-untyped-def]
    failures: dict[str, str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 32
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis.settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
                             suppress_health_check=list(HealthCheck), database=None)
        def check(case):  # type: ignore[no-untyped-def]
            spared = [positive_data_acceptance] if case.operation.label == "POST /imports" else []
            case.call_and_validate(headers=admin, excluded_checks=spared)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # collected: one report per failing operation
            failures[operation.label] = str(exc)[:3000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


def test_linked_calls_conform_and_never_answer_5xx(api_schema, hub):  # type: ignore[no-untyped-def]
    machine = api_schema.as_state_machine()
    transitions = [name for name in dir(machine) if "__" in name and name.split("__")[0][:4] in
                   ("GET_", "POST", "PUT_", "DELE")]
    assert len(transitions) >= 40, "the response shapes no longer let schemathesis link operations"

    class FromTheDemoData(machine):  # type: ignore[misc, valid-type]
        def setup(self):  # type: ignore[no-untyped-def]
            """Each scenario starts from the same data, so a replayed scenario meets the same state."""
            _empty_all_tables(hub)
            with hub.uow() as uow:
                load_demo(uow.session)
                uow.commit()

        def validate_response(self, response, case, additional_checks=None, **kwargs):  # type: ignore[no-untyped-def]
            spared = [positive_data_acceptance] if case.operation.label == "POST /imports" else []
            case.validate_response(response, additional_checks=additional_checks, excluded_checks=spared,
                                   transport_kwargs=kwargs)

    FromTheDemoData.run(settings=hypothesis.settings(
        max_examples=SCENARIOS, stateful_step_count=STEPS_PER_SCENARIO, deadline=None, derandomize=True,
        suppress_health_check=list(HealthCheck), database=None))
