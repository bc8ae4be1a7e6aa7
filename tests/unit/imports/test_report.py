"""errors.csv and export writing: Excel-friendly CSV, formula escaping, export → import round trip."""

from __future__ import annotations

import csv
import io

import pytest

from hub.csvfile.reader import open_csv
from hub.csvfile.report import (
    EXPORT_HEADERS,
    escape_cell,
    format_emails,
    iter_csv,
    unescape_cell,
    write_error_report,
)


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+33 1 23", "'+33 1 23"),
        ("-42", "'-42"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Card payers", "Card payers"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_formula_cells_are_escaped(value, escaped):
    assert escape_cell(value) == escaped


@pytest.mark.parametrize("value", ["=1+1", "-42", "'plain", "Card payers", "'"])
def test_unescape_undoes_escape(value):
    assert unescape_cell(escape_cell(value)) == value


def write_report(headers, failed):
    out = io.StringIO(newline="")
    count = write_error_report(out, headers, failed)
    return count, out.getvalue()


def test_error_report_is_bom_crlf_csv_with_an_error_column():
    headers = ["External Id", "Workflow name", "Notes"]
    failed = [
        (
            {"External Id": "C1", "Workflow name": "Card payer", "Notes": "a, b"},
            "Workflow not found, check spelling (did you mean 'Card payers'?)",
        ),
        ({"External Id": "C2", "Workflow name": "W", "Notes": "line\nbreak"}, "The customer was not found"),
    ]

    count, text = write_report(headers, failed)

    assert count == 2
    assert text.startswith("\ufeffExternal Id,Workflow name,Notes,Error\r\n")
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert rows[1] == [
        "C1",
        "Card payer",
        "a, b",
        "Workflow not found, check spelling (did you mean 'Card payers'?)",
    ]
    assert rows[2][2] == "line\nbreak"


def test_error_report_escapes_formula_injection():
    headers = ["External Id", "Workflow name"]
    failed = [({"External Id": "=cmd|' /C calc'!A0", "Workflow name": "@SUM(1)"}, "-bad")]

    _, text = write_report(headers, failed)

    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert rows[1] == ["'=cmd|' /C calc'!A0", "'@SUM(1)", "'-bad"]


def test_error_report_of_a_reimported_report_reuses_its_error_column():
    headers = ["External Id", "Error", "Workflow name"]
    failed = [({"External Id": "C1", "Error": "old message", "Workflow name": "W"}, "new message")]

    _, text = write_report(headers, failed)

    assert text.splitlines()[0] == "\ufeffExternal Id,Error,Workflow name"
    assert text.splitlines()[1] == "C1,new message,W"


def test_error_report_is_written_from_a_lazy_iterable():
    failed = (({"External Id": f"C{i}"}, "The customer was not found") for i in range(3))

    count, text = write_report(["External Id"], failed)

    assert count == 3 and len(text.splitlines()) == 4


def test_error_report_with_no_failed_lines_has_the_header_only():
    assert write_report(["External Id"], []) == (0, "\ufeffExternal Id,Error\r\n")


def test_failed_import_lines_round_trip_through_the_error_report():
    source = "External Id;Account manager email;Workflow name\nC1;nobody@x.com;Unknown plan\n"
    reader = open_csv(io.BytesIO(source.encode()))
    failed = [(line.raw, "User not found, check the email") for line in reader]
    _, text = write_report(reader.headers, failed)

    again = open_csv(io.BytesIO(text.encode("utf-8")))
    (line,) = list(again)

    assert again.encoding == "utf-8-sig"
    assert again.column_map == {
        "external_id": "External Id",
        "account_manager_emails": "Account manager email",
        "workflow_name": "Workflow name",
    }
    assert (line.external_id, line.account_manager_emails, line.workflow_name) == (
        "C1",
        ("nobody@x.com",),
        "Unknown plan",
    )


def test_export_round_trips_through_automatic_matching():
    customers = [
        ("C-1", ["anna@example.com", "bob@example.com"], "Card payers", "Acme"),
        ("-42", [], "=Legacy", "Evil @corp"),
        ("C 3", ["zoé@exemple.fr"], "", "Zoé SARL"),
    ]
    rows = ((ext, format_emails(emails), wf, name) for ext, emails, wf, name in customers)
    exported = "".join(iter_csv([*EXPORT_HEADERS, "Name"], rows)).encode("utf-8")

    reader = open_csv(io.BytesIO(exported))
    lines = list(reader)

    assert reader.column_map == dict(
        zip(["external_id", "account_manager_emails", "workflow_name"], EXPORT_HEADERS, strict=True)
    )
    assert [(ln.external_id, ln.account_manager_emails, ln.workflow_name) for ln in lines] == [
        ("C-1", ("anna@example.com", "bob@example.com"), "Card payers"),
        ("-42", None, "=Legacy"),
        ("C 3", ("zoé@exemple.fr",), None),
    ]
    assert all(ln.problem is None for ln in lines)
