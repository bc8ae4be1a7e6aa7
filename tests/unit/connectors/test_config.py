"""Connection loading: HUB_* defaults, the YAML file with ${VAR}, all problems at once, no secrets shown."""

from __future__ import annotations

import textwrap

import pytest

from connectors.config import load_connections
from hub.errors import ConfigError

STRIPE_SECRET = "whsec_topSECRETvalue123"
FULL_ENV = {
    "HUB_STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
    "HUB_STRIPE_API_KEY": "sk_live_SECRETapiKEY",
    "HUB_CHARGEBEE_WEBHOOK_USERNAME": "hub",
    "HUB_CHARGEBEE_WEBHOOK_PASSWORD": "cbSECRETpassword",
    "HUB_CHARGEBEE_SITE": "acme",
    "HUB_CHARGEBEE_API_KEY": "live_cbSECRETkey",
    "HUB_QUICKBOOKS_VERIFIER_TOKEN": "qbSECRETverifier",
    "HUB_QUICKBOOKS_REALM_ID": "9341455012345678",
    "HUB_QUICKBOOKS_CLIENT_ID": "ABclient",
    "HUB_QUICKBOOKS_CLIENT_SECRET": "qbSECRETclient",
    "HUB_QUICKBOOKS_REFRESH_TOKEN": "qbSECRETrefresh",
    "HUB_QUICKBOOKS_ENVIRONMENT": "sandbox",
    "HUB_SALESFORCE_ORGANIZATION_ID": "00D5e000000AbCdEAK",
    "HUB_SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com",
    "HUB_SALESFORCE_SESSION_ID": "00D!sfSECRETsession",
    "HUB_SALESFORCE_MATCH_FIELD": "Billing_Id__c",
}


def problems_of(env, connections_file=None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_connections(env, connections_file)
    assert isinstance(caught.value.details, list)
    return caught.value.details


def write(tmp_path, text: str) -> str:
    path = tmp_path / "connections.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def test_no_variables_no_connections():
    assert load_connections({}, None) == {}


def test_every_default_connection_from_the_environment():
    connections = load_connections(FULL_ENV, None)
    assert sorted(connections) == ["chargebee", "quickbooks", "salesforce", "stripe"]
    stripe = connections["stripe"]
    assert stripe.connector == "stripe"
    assert dict(stripe.config) == {"webhook_secret": STRIPE_SECRET, "api_key": "sk_live_SECRETapiKEY"}
    assert connections["quickbooks"].config["environment"] == "sandbox"


def test_api_base_override_is_read():
    env = {"HUB_STRIPE_WEBHOOK_SECRET": STRIPE_SECRET, "HUB_STRIPE_API_BASE": "http://localhost:12111"}
    assert load_connections(env)["stripe"].config["api_base"] == "http://localhost:12111"


def test_empty_variables_count_as_unset():
    assert load_connections({"HUB_STRIPE_WEBHOOK_SECRET": "", "HUB_STRIPE_API_BASE": "http://x"}) == {}


def test_credentials_without_webhook_secret_are_a_problem():
    (problem,) = problems_of({"HUB_STRIPE_API_KEY": "sk_live_SECRETapiKEY"})
    assert "HUB_STRIPE_API_KEY" in problem and "HUB_STRIPE_WEBHOOK_SECRET" in problem
    assert "SECRET" not in problem.replace("HUB_STRIPE_WEBHOOK_SECRET", "")


def test_yaml_file_adds_connections_with_substitution(tmp_path, monkeypatch):
    monkeypatch.setenv("STRIPE_EU_WEBHOOK_SECRET", "from-os-environ-must-not-be-used")
    path = write(
        tmp_path,
        """
        connections:
          stripe-eu:
            connector: stripe
            webhook_secret: ${STRIPE_EU_WEBHOOK_SECRET}
            api_key: ${STRIPE_EU_API_KEY}
            api_base: https://${STRIPE_HOST}/
          salesforce-emea:
            connector: salesforce
            organization_id: 00D5e000000XyZ1
            match_field: Billing_Id__c
            session_id: pa$$word
            instance_url: https://emea.my.salesforce.com
        """,
    )
    env = {"STRIPE_EU_WEBHOOK_SECRET": "whsec_eu", "STRIPE_EU_API_KEY": "sk_eu", "STRIPE_HOST": "stripe.fake"}
    connections = load_connections(env, path)
    eu = connections["stripe-eu"]
    assert (eu.name, eu.connector) == ("stripe-eu", "stripe")
    assert dict(eu.config) == {
        "webhook_secret": "whsec_eu",
        "api_key": "sk_eu",
        "api_base": "https://stripe.fake/",
    }
    assert connections["salesforce-emea"].config["session_id"] == "pa$word"


def test_env_and_file_connections_coexist(tmp_path):
    path = write(
        tmp_path,
        """
        connections:
          stripe-us:
            connector: stripe
            webhook_secret: ${US_SECRET}
        """,
    )
    connections = load_connections({**FULL_ENV, "US_SECRET": "whsec_us"}, path)
    assert {"stripe", "stripe-us"} <= set(connections)


def test_all_problems_are_reported_at_once(tmp_path):
    path = write(
        tmp_path,
        """
        connections:
          stripe-eu:
            connector: stripe
            api_key: ${MISSING_VAR}
            webhook_secret: 12345
            tolerence: 300
          quickbooks-ca:
            connector: quickbooks
            verifier_token: qbSECRETverifier
            realm_id: not-a-number
            client_id: abc
          Bad Name:
            connector: stripe
          mystery:
            connector: nosuchvendor
          chargebee-2:
            connector: chargebee
            webhook_username: hub
            webhook_password: cbSECRETpassword
            api_key: live_cbSECRETkey
          sf:
            connector: salesforce
            organization_id: 00D5e000000AbCdEAK
            session_id: 00D!sfSECRETsession
          nothing:
            webhook_secret: x
        """,
    )
    problems = problems_of({"HUB_CHARGEBEE_WEBHOOK_USERNAME": "hub"}, path)
    expected = [
        "chargebee.webhook_password: is required",
        "stripe-eu.api_key: environment variable MISSING_VAR is not set",
        "stripe-eu.webhook_secret: must be of type string",
        "stripe-eu.tolerence: unknown setting",
        "quickbooks-ca.realm_id: has an invalid format",
        "quickbooks-ca.client_secret: is required when client_id is set",
        "quickbooks-ca.refresh_token: is required when client_id is set",
        "Bad Name: connection names are lower-case letters, digits, - and _",
        "mystery.connector: unknown connector 'nosuchvendor'",
        "chargebee-2.site: is required when api_key is set",
        "sf.session_id: needs instance_url or api_base",
        "nothing.connector: is required",
    ]
    for fragment in expected:
        assert any(p.startswith(fragment) for p in problems), (fragment, problems)


def test_secrets_never_appear_in_errors(tmp_path):
    path = write(
        tmp_path,
        """
        connections:
          quickbooks-ca:
            connector: quickbooks
            verifier_token: ["qbSECRETverifier"]
            realm_id: qbSECRETrealm
            client_secret: qbSECRETclient
            environment: qbSECRETenvironment
          stripe-x:
            connector: stripe
            webhook_secret: ""
            api_key: sk_live_SECRETapiKEY
            api_base: "not a url SECRET"
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_connections({}, path)
    shown = f"{caught.value} {caught.value.message} {caught.value.details} {caught.value.to_dict()}"
    assert "SECRET" not in shown
    assert len(caught.value.details) >= 5


def test_invalid_yaml_reports_position_not_content(tmp_path):
    path = write(tmp_path, "connections:\n  stripe-eu: {webhook_secret: whsecSECRET\n")
    (problem,) = problems_of({}, path)
    assert "invalid YAML at line" in problem
    assert "SECRET" not in problem


def test_python_tags_are_refused(tmp_path):
    path = write(tmp_path, "connections: !!python/object/apply:os.system ['echo pwned']\n")
    (problem,) = problems_of({}, path)
    assert "invalid YAML" in problem


@pytest.mark.parametrize(
    "text", ["[]", "connections: [1]", "connections: {}\nextra: 1", "connections: {a: 1}"]
)
def test_wrong_file_shapes_are_problems(tmp_path, text):
    assert problems_of({}, write(tmp_path, text))


def test_empty_file_adds_nothing(tmp_path):
    assert load_connections({}, write(tmp_path, "")) == {}


def test_missing_file_is_a_problem(tmp_path):
    (problem,) = problems_of({}, str(tmp_path / "nope.yaml"))
    assert "cannot read" in problem


def test_name_clash_with_default_connection(tmp_path):
    path = write(
        tmp_path,
        """
        connections:
          stripe:
            connector: stripe
            webhook_secret: whsec_other
        """,
    )
    problems = problems_of(FULL_ENV, path)
    assert any("stripe: defined both" in p for p in problems)


def test_connection_repr_redacts_secrets():
    connection = load_connections(FULL_ENV)["quickbooks"]
    shown = repr(connection) + str(connection)
    assert "SECRET" not in shown
    assert "9341455012345678" in shown and "***" in shown


def test_connection_config_is_read_only():
    connection = load_connections(FULL_ENV)["stripe"]
    with pytest.raises(TypeError):
        connection.config["webhook_secret"] = "changed"  # type: ignore[index]
