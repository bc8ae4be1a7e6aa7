"""Reading records: delimiters, line numbers, blank and malformed lines, mapped values."""

from __future__ import annotations

import pytest

from hub.errors import MalformedBody, ValidationFailed
from hub.csvfile.reader import chunks, sniff_delimiter

HEADER = ["External Id", "Account manager email", "Workflow name"]


def values(reader):
    return [(ln.line_number, ln.external_id, ln.account_manager_emails, ln.workflow_name) for ln in reader]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_each_delimiter_is_detected(read_csv, delimiter):
    text = delimiter.join(HEADER) + "\r\n" + delimiter.join(["C1", "a@x.com", "Card payers"])
    reader = read_csv(text + "\r\n")

    assert reader.delimiter == delimiter
    assert values(reader) == [(2, "C1", ("a@x.com",), "Card payers")]


def test_semicolon_file_with_comma_separated_emails(read_csv):
    reader = read_csv(
        "External Id;Account manager email;Workflow name\nC1;a@x.com, b@x.com;W\nC2;c@x.com;W\n"
    )

    assert reader.delimiter == ";"
    assert values(reader)[0] == (2, "C1", ("a@x.com", "b@x.com"), "W")


def test_quoted_header_containing_a_delimiter(read_csv):
    reader = read_csv('"External Id";"Workflow, name"\nC1;W\n', mapping={"workflow_name": "Workflow, name"})

    assert reader.delimiter == ";"
    assert values(reader) == [(2, "C1", None, "W")]


def test_sniffer_breaks_a_tie_in_the_header():
    # The header alone splits into two columns on both "," and ";".
    sample = "External Id;Workflow,name\nC1;A\nC2;B\nC3;C\n"

    assert sniff_delimiter(sample) == ";"


def test_single_column_sample_falls_back_to_comma():
    assert sniff_delimiter("External Id\nC1\n") == ","
    assert sniff_delimiter("") == ","


def test_quoted_newlines_keep_physical_line_numbers(read_csv):
    reader = read_csv(
        "External Id,Account manager email,Workflow name\r\n"  # line 1
        'C1,"a@x.com\r\nb@x.com",W\r\n'  # lines 2-3
        'C2,c@x.com,"Card\r\n\r\npayers"\r\n'  # lines 4-6
        "C3,d@x.com,W\r\n"  # line 7
    )

    assert values(reader) == [
        (2, "C1", ("a@x.com", "b@x.com"), "W"),
        (4, "C2", ("c@x.com",), "Card payers"),
        (7, "C3", ("d@x.com",), "W"),
    ]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_blank_lines_are_skipped_but_counted(read_csv, newline):
    text = newline.join(["", "External Id,Workflow", "", "C1,W", " , ", "", "C2,W", ""])

    reader = read_csv(text)

    assert reader.header_line == 2
    assert [(ln.line_number, ln.external_id) for ln in reader] == [(4, "C1"), (7, "C2")]


def test_raw_keeps_original_columns_and_values_in_order(read_csv):
    reader = read_csv("Name,External Id,Workflow,Notes\nAcme, C1 ,Card\u00a0payers,=1+1\n")

    (line,) = list(reader)

    assert line.raw == {
        "Name": "Acme",
        "External Id": " C1 ",
        "Workflow": "Card\u00a0payers",
        "Notes": "=1+1",
    }
    assert list(line.raw) == reader.headers
    assert (line.external_id, line.workflow_name) == ("C1", "Card payers")


def test_nbsp_in_workflow_name_is_normalised(read_csv):
    reader = read_csv("External Id,Workflow name\nC1,\u00a0Card\u00a0\u00a0payers\u00a0\n")

    assert [ln.workflow_name for ln in reader] == ["Card payers"]


def test_mixed_case_emails_are_lowered(read_csv):
    reader = read_csv('External Id,AM email\nC1,"Anna@Example.COM; BOB@example.com"\n')

    assert [ln.account_manager_emails for ln in reader] == [("anna@example.com", "bob@example.com")]


def test_empty_cells_mean_do_not_change(read_csv):
    reader = read_csv("External Id,Account managers,Workflow\nC1,,\nC2, ,\u00a0\n")

    assert [(ln.account_manager_emails, ln.workflow_name, ln.problem) for ln in reader] == [
        (None, None, None),
        (None, None, None),
    ]


def test_absent_column_means_do_not_change(read_csv):
    reader = read_csv("External Id,Workflow\nC1,W\n")

    assert reader.column_map == {"external_id": "External Id", "workflow_name": "Workflow"}
    assert [ln.account_manager_emails for ln in reader] == [None]


def test_explicit_mapping_through_open_csv(read_csv):
    reader = read_csv(
        "Customer ID,Owner,Plan\nC1,a@x.com,W\n",
        mapping={"external_id": "Customer ID", "account_manager_emails": "Owner", "workflow_name": "Plan"},
    )

    assert values(reader) == [(2, "C1", ("a@x.com",), "W")]


def test_missing_columns_are_refused_before_any_line(read_csv):
    with pytest.raises(ValidationFailed, match="Missing required columns") as caught:
        read_csv("Customer,Owner\nC1,a@x.com\n")

    assert caught.value.details["headers"] == ["Customer", "Owner"]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (
            "C1,a@x.com,W,extra",
            "Malformed line: 4 fields instead of 3 (check delimiters and quotes); extra cells: 'extra'",
        ),
        ("C1,a@x.com", "Malformed line: 2 fields instead of 3 (check delimiters and quotes)"),
        (",a@x.com,W", "Malformed line: the external id is empty"),
        ("C1,a@x.com;not-an-email,W", "Malformed line: 'not-an-email' is not a valid email address"),
    ],
)
def test_malformed_lines_carry_a_problem(read_csv, row, problem):
    reader = read_csv(",".join(HEADER) + "\nC0,ok@x.com,W\n" + row + "\nC9,ok@x.com,W\n")

    lines = list(reader)

    assert [ln.problem for ln in lines] == [None, problem, None]
    assert lines[1].line_number == 3
    assert list(lines[1].raw) == HEADER


def test_trailing_empty_cells_are_not_malformed(read_csv):
    reader = read_csv("External Id,Workflow,,\nC1,W\nC2,W,,,\n")

    assert reader.headers == ["External Id", "Workflow"]
    assert [(ln.external_id, ln.problem) for ln in reader] == [("C1", None), ("C2", None)]


def test_blank_and_repeated_headers_get_unique_names(read_csv):
    reader = read_csv("External Id,,Note,Note,Workflow\nC1,x,y,z,W\n")

    (line,) = list(reader)

    assert reader.headers == ["External Id", "Column 2", "Note", "Note (2)", "Workflow"]
    assert line.raw["Note (2)"] == "z"


def test_escaped_cells_from_our_own_export_are_unescaped(read_csv):
    reader = read_csv("External Id,Workflow\n'-42,'=Legacy\n")

    assert values(reader) == [(2, "-42", None, "=Legacy")]


@pytest.mark.parametrize("end", ["\n", ""])
def test_quote_left_open_to_the_end_of_file_is_refused(read_csv, end):
    reader = read_csv('External Id,Workflow\nC1,W\nC2,"W\nC3,W' + end)

    with pytest.raises(MalformedBody, match="starts on line 3 is never closed") as caught:
        list(reader)

    assert caught.value.details == {"reason": "bad_csv", "line": 3}


def test_quote_left_open_in_the_header_is_refused(read_csv):
    with pytest.raises(MalformedBody, match="starts on line 1 is never closed"):
        read_csv('External Id,"Workflow\n')


def test_last_line_without_line_break_is_read(read_csv):
    assert values(read_csv("External Id,Workflow\r\nC1,W")) == [(2, "C1", None, "W")]


def test_stray_quote_inside_a_cell_is_tolerated(read_csv):
    assert values(read_csv('External Id,Workflow\nC1,Card "gold" payers\n')) == [
        (2, "C1", None, 'Card "gold" payers')
    ]


def test_runaway_quoted_cell_is_refused_with_its_line(read_csv):
    huge = "x" * 200_000
    with pytest.raises(MalformedBody, match="from line 3") as caught:
        list(read_csv(f'External Id,Workflow\nC1,W\nC2,"{huge}\n'))

    assert caught.value.details == {"reason": "bad_csv", "line": 3}


def test_runaway_quoted_header_is_refused(read_csv):
    with pytest.raises(MalformedBody, match="from line 2"):
        read_csv('\nExternal Id,"' + "x" * 200_000 + "\n")


def test_chunks_groups_lines_lazily(read_csv):
    body = "".join(f"C{i},W\n" for i in range(2500))
    reader = read_csv("External Id,Workflow\n" + body)

    sizes = [len(chunk) for chunk in chunks(reader, size=1000)]

    assert sizes == [1000, 1000, 500]
    assert list(chunks([], size=10)) == []


# --- where_external_id: one part of an import reads only its own customers' lines ----------

MIXED = (
    "External Id,Account manager email,Workflow name\r\n"
    "C1,a@x.com,W\r\n"            # line 2
    "\r\n"                        # line 3: blank
    '"C2","a@x.com, b@x.com",W\r\n'  # line 4
    "C1\r\n"                      # line 5: too few cells
    '"C3","multi\nline",W\r\n'    # lines 6-7: a quoted line break
    " C2 ,,W,extra\r\n"           # line 8: too many cells, spaces around the id
    "'=C4,a@x.com,W\r\n"          # line 9: an escaped formula
)


def full(reader):
    return [(ln.line_number, ln.external_id, ln.account_manager_emails, ln.workflow_name, ln.problem,
             ln.raw) for ln in reader]


@pytest.mark.parametrize("wanted", [{"C1"}, {"C2"}, {"C3", "=C4"}, set(), {"C1", "C2", "C3", "=C4"}])
def test_where_external_id_yields_exactly_the_accepted_lines_as_they_would_be(read_csv, wanted):
    everything = full(read_csv(MIXED))
    asked = []

    def keep(external_id: str) -> bool:
        asked.append(external_id)
        return external_id in wanted

    only = full(read_csv(MIXED).where_external_id(keep))

    assert only == [line for line in everything if line[1] in wanted]  # same numbers, same values
    assert {line[1] for line in everything} == {"C1", "C2", "C3", "=C4"}
    assert set(asked) <= {"", "C1", "C2", "C3", "=C4"}  # asked with the id the line would carry


def test_where_external_id_does_not_build_the_lines_it_skips(read_csv, monkeypatch):
    from hub.csvfile import reader as reader_module

    built = []
    real = reader_module.ImportLine

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(kwargs.get("external_id"))
        return real(*args, **kwargs)

    monkeypatch.setattr(reader_module, "ImportLine", counting)
    lines = list(read_csv(MIXED).where_external_id(lambda external_id: external_id == "C3"))

    assert [ln.line_number for ln in lines] == [6]
    assert built == ["C3"]
