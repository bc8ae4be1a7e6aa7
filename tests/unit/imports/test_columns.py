"""Header matching, explicit mappings, and how target cells are read."""

from __future__ import annotations

import pytest

from hub.errors import ValidationFailed
from hub.csvfile.columns import (
    normalise_spaces,
    parse_emails,
    resolve_columns,
    strip_cell,
    suggest,
)


@pytest.mark.parametrize(
    "header",
    [
        "External Id",
        "external_id",
        "ExternalId",
        "EXTERNAL-ID",
        " External\u00a0Id ",
        "Customer external id",
        "external id\u200b",
    ],
)
def test_external_id_header_variants_are_recognised(header):
    assert resolve_columns([header, "Workflow"]) == {"external_id": 0, "workflow_name": 1}


@pytest.mark.parametrize(
    "header",
    [
        "Account manager email",
        "Account manager emails",
        "Account managers",
        "AM email",
        "account_manager_emails",
        "Account Manager E-mail(s)",
    ],
)
def test_account_manager_header_variants_are_recognised(header):
    assert resolve_columns(["External Id", header]) == {"external_id": 0, "account_manager_emails": 1}


@pytest.mark.parametrize("header", ["Workflow name", "Workflow", "Dunning plan", "workflow_name"])
def test_workflow_header_variants_are_recognised(header):
    assert resolve_columns(["External Id", header])["workflow_name"] == 1


def test_extra_columns_are_ignored():
    headers = ["Name", "External Id", "Balance", "Workflow name", "Account manager email"]

    assert resolve_columns(headers) == {"external_id": 1, "account_manager_emails": 4, "workflow_name": 3}


def test_missing_columns_are_named_with_the_headers_found():
    with pytest.raises(ValidationFailed) as caught:
        resolve_columns(["Customer", "Owner"])

    error = caught.value
    assert error.http_status == 422
    assert error.details == {
        "missing": ["external_id"],
        "missing_one_of": ["account_manager_emails", "workflow_name"],
        "headers": ["Customer", "Owner"],
    }
    assert "'external_id'" in error.message and "'Customer', 'Owner'" in error.message


def test_external_id_alone_is_not_enough():
    with pytest.raises(ValidationFailed) as caught:
        resolve_columns(["External Id", "Name"])

    assert caught.value.details["missing"] == []
    assert caught.value.details["missing_one_of"] == ["account_manager_emails", "workflow_name"]


def test_explicit_mapping_wins_and_the_rest_is_automatic():
    headers = ["Customer ID", "External Id", "Owner", "Workflow"]
    mapping = {"external_id": "Customer ID", "account_manager_emails": "Owner"}

    assert resolve_columns(headers, mapping) == {
        "external_id": 0,
        "account_manager_emails": 2,
        "workflow_name": 3,
    }


def test_explicit_mapping_is_forgiving_about_case_and_spacing():
    assert resolve_columns(
        ["Customer  ID", "Plan"], {"external_id": "customer id", "workflow_name": "PLAN"}
    ) == {"external_id": 0, "workflow_name": 1}


def test_target_mapped_to_none_is_not_imported():
    columns = resolve_columns(["External Id", "Workflow", "AM email"], {"workflow_name": None})

    assert columns == {"external_id": 0, "account_manager_emails": 2}


def test_explicit_mapping_naming_an_absent_header_is_refused():
    with pytest.raises(ValidationFailed, match="'Client ref'") as caught:
        resolve_columns(["External Id", "Workflow"], {"external_id": "Client ref"})

    assert caught.value.details["unknown_columns"] == {"external_id": "Client ref"}


def test_explicit_mapping_with_a_non_string_value_is_refused():
    with pytest.raises(ValidationFailed, match="external_id → '3'"):
        resolve_columns(["External Id", "Workflow"], {"external_id": 3})


def test_explicit_mapping_with_an_unknown_target_is_refused():
    with pytest.raises(ValidationFailed, match="owner"):
        resolve_columns(["External Id", "Workflow"], {"owner": "Workflow"})


def test_two_columns_matching_one_target_is_ambiguous():
    with pytest.raises(ValidationFailed, match="Several columns could be external_id"):
        resolve_columns(["External Id", "external_id", "Workflow"])


def test_ambiguity_is_settled_by_an_explicit_mapping():
    columns = resolve_columns(["External Id", "external_id", "Workflow"], {"external_id": "external_id"})

    assert columns["external_id"] == 1


def test_two_emails_in_one_cell_are_split_lowered_and_deduplicated():
    emails, invalid = parse_emails(" Anna@Example.com,\u00a0bob@example.com ; anna@example.COM;\n")

    assert emails == ("anna@example.com", "bob@example.com")
    assert invalid == ()


@pytest.mark.parametrize("cell", ["", "   ", "\u00a0", " , ; "])
def test_empty_email_cell_means_do_not_change(cell):
    assert parse_emails(cell) == (None, ())


@pytest.mark.parametrize(
    "bad",
    [
        "anna",
        "anna@",
        "@example.com",
        "anna@example",
        "anna..b@example.com",
        "anna@exa_mple.com",
        "<anna@example.com>",
        "anna@example.c",
    ],
)
def test_syntactically_invalid_emails_are_reported(bad):
    emails, invalid = parse_emails(f"ok@example.com, {bad}")

    assert invalid == (bad.lower(),)


@pytest.mark.parametrize(
    "good", ["a.b+tag@example.co.uk", "o'neil@example.ie", "zoé@exemple.fr", "x@xn--bcher-kva.ch"]
)
def test_valid_emails_pass(good):
    assert parse_emails(good) == ((good,), ())


def test_workflow_whitespace_is_normalised():
    assert normalise_spaces("  Card\u00a0payers \t  EU\u200b ") == "Card payers EU"


def test_external_id_keeps_inner_characters():
    assert strip_cell("\u00a0 CUST  42\ufeff ") == "CUST  42"


def test_suggest_matches_a_non_breaking_space_exactly():
    assert suggest("Card\u00a0payers", ["Direct debit", "Card payers"]) == "Card payers"


def test_suggest_finds_a_near_miss():
    assert suggest("Card payer", ["Direct debit", "Card payers", "Cash"]) == "Card payers"
    assert suggest("card  PAYERS", ["Card payers"]) == "Card payers"


def test_suggest_gives_nothing_when_nothing_is_close():
    assert suggest("Quarterly", ["Card payers", "Direct debit"]) is None
