"""CSV assignment imports end to end through the real endpoints: export → edit → import, every
message, precedence, resuming after a crash, redelivery, the sweeper and the notification.

The worker's tasks run in the test's process (tests/import_workers.py): the import task, then on
PostgreSQL each part task it handed out.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import replace
from datetime import timedelta

import pytest
import requests
import responses
from sqlalchemy import func, select, update

from hub.csvfile.reader import ImportLine
from hub.db.models import AssignmentHistory, CsvImport, ImportFilePiece
from hub.db.types import utcnow
from hub.queue import PROCESS_IMPORT, PROCESS_IMPORT_PART
from hub.services.imports import run as imports_run
from hub.services.imports.parts import part_of
from hub.services.imports.run import process_import_part
from hub.services.imports.upload import enqueue_stalled_imports, process_import
from tests.factories import make_customer, make_user, make_workflow
from tests.import_workers import run_import_tasks

NOTIFY_URL = "https://hooks.example.com/services/T000/B000"


@pytest.fixture
def seeded(hub):  # type: ignore[no-untyped-def]
    make_workflow(hub, "wf_card", "Card payers")
    make_workflow(hub, "wf_dd", "Direct debit")
    make_workflow(hub, "wf_std", "Standard")
    for email in ("ann@example.com", "bob@example.com", "cid@example.com"):
        make_user(hub, email)
    for ref, name in (("cus_1", "Acme"), ("cus_2", "Globex"), ("cus_3", "Initech"), ("cus_4", "Umbrella")):
        make_customer(hub, ref, name=name)
    return hub


def csv_bytes(rows, delimiter=",", bom=False) -> bytes:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def upload(client, admin, body: bytes, filename="assign.csv", mapping=None):  # type: ignore[no-untyped-def]
    data = {"file": (io.BytesIO(body), filename)}
    if mapping is not None:
        data["mapping"] = json.dumps(mapping)
    return client.post("/api/v1/imports", headers=admin, data=data, content_type="multipart/form-data")


def run_import(client, admin, hub, body: bytes, **kwargs) -> dict:  # type: ignore[no-untyped-def]
    response = upload(client, admin, body, **kwargs)
    assert response.status_code == 202, response.json
    run_import_tasks(hub, response.json["id"])
    return client.get(f"/api/v1/imports/{response.json['id']}", headers=admin).json


def errors_of(client, admin, import_id) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/imports/{import_id}/errors.csv", headers=admin)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def customer(client, admin, ref) -> dict:  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/customers/external:{ref}", headers=admin).json


def put(client, admin, ref, body):  # type: ignore[no-untyped-def]
    response = client.put(f"/api/v1/customers/external:{ref}", json=body, headers=admin)
    assert response.status_code == 200, response.json
    return response.json


HEADER = ["External Id", "Account manager email", "Workflow name"]


# -- the scenario the issue asks to show -------------------------------------------------------


def test_export_edit_in_a_spreadsheet_and_import_applies_good_lines_and_reports_two_bad(  # type: ignore[no-untyped-def]
    client, admin, seeded, queue
):
    for ref, manager in (("cus_1", "ann@example.com"), ("cus_2", "bob@example.com")):
        put(client, admin, ref, {"dunningPlanId": "wf_std", "accountManagers": [manager],
                                 "source": "manual", "occurredAt": "2026-01-01T00:00:00Z"})
    exported = client.get("/api/v1/customers/export.csv", headers=admin)
    rows = list(csv.reader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert rows[0] == ["External Id", "Name", "Account manager email", "Workflow name"]
    edited = {row[0]: row for row in rows[1:]}
    edited["cus_1"][2:] = ["ann@example.com, BOB@example.com", "Direct\u00a0debit"]  # 2 emails, NBSP
    edited["cus_2"][3] = "Card payers"
    edited["cus_3"][2:] = ["cid@example.com", "Standard"]  # cus_4 stays as exported: empty cells
    bad = [["cus_404", "Ghost Ltd", "ann@example.com", "Standard"],
           ["cus_4", "Umbrella", "nobody@example.com", ""]]
    body = csv_bytes([rows[0], *edited.values(), *bad], delimiter=";", bom=True)

    response = upload(client, admin, body, filename="customers (edited).csv")
    assert response.status_code == 202
    assert response.json["status"] == "queued" and response.json["delimiter"] == ";"
    assert queue.sent == [("hub.process_import", (response.json["id"],))]
    import_id = response.json["id"]
    assert run_import_tasks(seeded, import_id) == "error"

    result = client.get(f"/api/v1/imports/{import_id}", headers=admin).json
    assert result["status"] == "error"
    assert result["counts"] == {"updated": 3, "unchanged": 1, "failed": 2}
    assert result["progress"]["processedLines"] == result["progress"]["totalLines"] == 6
    assert result["errorsUrl"] == f"/api/v1/imports/{import_id}/errors.csv"
    expected = {"cus_1": ("wf_dd", ["ann@example.com", "bob@example.com"]),
                "cus_2": ("wf_card", ["bob@example.com"]),
                "cus_3": ("wf_std", ["cid@example.com"]), "cus_4": (None, [])}
    for ref, (workflow, managers) in expected.items():
        got = customer(client, admin, ref)
        assert (got["dunningPlanId"], got["accountManagers"]) == (workflow, managers), ref

    errors = errors_of(client, admin, import_id)
    assert errors == [
        {"External Id": "cus_404", "Name": "Ghost Ltd", "Account manager email": "ann@example.com",
         "Workflow name": "Standard", "Error": "The customer was not found"},
        {"External Id": "cus_4", "Name": "Umbrella", "Account manager email": "nobody@example.com",
         "Workflow name": "", "Error": "User not found, check the email: nobody@example.com"},
    ]

    # Fix the cause of each error, then import errors.csv itself again.
    client.post("/api/v1/customers", json={"externalId": "cus_404", "name": "Ghost Ltd"}, headers=admin)
    client.post("/api/v1/users", json={"email": "nobody@example.com"}, headers=admin)
    errors_file = client.get(f"/api/v1/imports/{import_id}/errors.csv", headers=admin).data
    retry = run_import(client, admin, seeded, errors_file, filename="errors.csv")
    assert retry["status"] == "success"
    assert retry["counts"] == {"updated": 2, "unchanged": 0, "failed": 0}
    assert customer(client, admin, "cus_4")["accountManagers"] == ["nobody@example.com"]
    assert customer(client, admin, "cus_404")["dunningPlanId"] == "wf_std"


def test_export_then_import_unedited_changes_nothing(client, admin, seeded):  # type: ignore[no-untyped-def]
    make_customer(seeded, "-42", name="=HYPERLINK(\"http://evil\")")  # escaped on export, read back
    put(client, admin, "cus_1", {"dunningPlanId": "wf_card", "accountManagers": ["ann@example.com",
                                                                              "bob@example.com"],
                                 "source": "manual"})
    put(client, admin, "-42", {"accountManagers": ["cid@example.com"], "source": "manual"})
    exported = client.get("/api/v1/customers/export.csv", headers=admin).data
    assert b"'-42" in exported and b"'=HYPERLINK" in exported

    result = run_import(client, admin, seeded, exported)
    assert result["status"] == "success"
    assert result["counts"] == {"updated": 0, "unchanged": 5, "failed": 0}
    assert customer(client, admin, "-42")["accountManagers"] == ["cid@example.com"]


# -- what each line can say ----------------------------------------------------------------------


def test_every_error_message_names_its_cause(client, admin, seeded):  # type: ignore[no-untyped-def]
    body = csv_bytes([HEADER,
                      ["cus_404", "", "Standard"],
                      ["cus_1", "ann@example.com, ghost@example.com", ""],
                      ["cus_2", "", "Card payer"],
                      ["cus_3", "", "Nonsense plan xyz"],
                      ["cus_4", "not-an-email", ""],
                      ["cus_1", "ann@example.com", "Standard", "surplus"],
                      ["", "ann@example.com", ""],
                      ["cus_405", "ghost@example.com", "Standart"]])
    result = run_import(client, admin, seeded, body)
    assert result["status"] == "error" and result["counts"]["failed"] == 8
    messages = [row["Error"] for row in errors_of(client, admin, result["id"])]
    assert messages == [
        "The customer was not found",
        "User not found, check the email: ghost@example.com",
        "Workflow not found, check spelling (did you mean 'Card payers'?)",
        "Workflow not found, check spelling",
        "Malformed line: 'not-an-email' is not a valid email address",
        "Malformed line: 4 fields instead of 3 (check delimiters and quotes); extra cells: 'surplus'",
        "Malformed line: the external id is empty",
        "The customer was not found; User not found, check the email: ghost@example.com; "
        "Workflow not found, check spelling (did you mean 'Standard'?)",
    ]
    assert customer(client, admin, "cus_1")["accountManagers"] == []  # a bad line applies nothing


def test_workflow_names_match_once_spaces_are_normalised_but_case_counts(client, admin, seeded):  # type: ignore[no-untyped-def]
    body = csv_bytes([HEADER, ["cus_1", "", "  Card\u00a0\u00a0payers "], ["cus_2", "", "card payers"]])
    result = run_import(client, admin, seeded, body)
    assert result["counts"] == {"updated": 1, "unchanged": 0, "failed": 1}
    assert customer(client, admin, "cus_1")["dunningPlanId"] == "wf_card"
    [error] = errors_of(client, admin, result["id"])
    assert error["Error"] == "Workflow not found, check spelling (did you mean 'Card payers'?)"


def test_a_cell_may_hold_several_emails_in_any_case_with_nbsp(client, admin, seeded):  # type: ignore[no-untyped-def]
    body = csv_bytes([HEADER, ["cus_1", "\u00a0ANN@example.com ;bob@EXAMPLE.com\u00a0", ""],
                      ["cus_2", "cid@example.com,ann@example.com,cid@example.com", ""]])
    result = run_import(client, admin, seeded, body)
    assert result["status"] == "success" and result["counts"]["updated"] == 2
    assert customer(client, admin, "cus_1")["accountManagers"] == ["ann@example.com", "bob@example.com"]
    assert customer(client, admin, "cus_2")["accountManagers"] == ["ann@example.com", "cid@example.com"]


def test_fields_owned_by_the_api_overrule_the_csv_and_the_line_says_what_applied(  # type: ignore[no-untyped-def]
    client, admin, seeded
):
    put(client, admin, "cus_1", {"dunningPlanId": "wf_card"})
    put(client, admin, "cus_2", {"dunningPlanId": "wf_card"})
    body = csv_bytes([HEADER, ["cus_1", "ann@example.com", "Standard"], ["cus_2", "", "Standard"]])
    result = run_import(client, admin, seeded, body)
    assert result["status"] == "error"
    assert result["counts"] == {"updated": 0, "unchanged": 0, "failed": 2}
    assert [row["Error"] for row in errors_of(client, admin, result["id"])] == [
        "Overruled by api for the workflow; the account managers were updated",
        "Overruled by api",
    ]
    cus_1 = customer(client, admin, "cus_1")
    assert cus_1["dunningPlanId"] == "wf_card" and cus_1["accountManagers"] == ["ann@example.com"]
    history = client.get("/api/v1/customers/external:cus_1/history", headers=admin).json["history"]
    assert [(h["field"], h["source"], h["outcome"]) for h in history[:2]] == [
        ("accountManagers", "csv", "applied"), ("dunningPlanId", "csv", "overruled")]
    assert history[0]["cause"]["type"] == "import_line"
    assert history[0]["cause"]["id"] == f"{result['id']}:2"


def test_a_manual_change_newer_than_the_upload_wins(client, admin, seeded):  # type: ignore[no-untyped-def]
    response = upload(client, admin, csv_bytes([HEADER, ["cus_1", "", "Standard"]]))
    later = (utcnow() + timedelta(minutes=5)).isoformat()
    put(client, admin, "cus_1", {"dunningPlanId": "wf_card", "source": "manual", "occurredAt": later})
    assert run_import_tasks(seeded, response.json["id"]) == "error"
    [error] = errors_of(client, admin, response.json["id"])
    assert error["Error"] == "Overruled by manual (a newer change)"
    assert customer(client, admin, "cus_1")["dunningPlanId"] == "wf_card"


def test_a_customer_named_twice_ends_with_its_last_line(client, admin, seeded):  # type: ignore[no-untyped-def]
    body = csv_bytes([HEADER, ["cus_1", "ann@example.com", "Standard"], ["cus_1", "bob@example.com", ""]])
    result = run_import(client, admin, seeded, body)
    assert result["counts"] == {"updated": 2, "unchanged": 0, "failed": 0}
    got = customer(client, admin, "cus_1")
    assert (got["dunningPlanId"], got["accountManagers"]) == ("wf_std", ["bob@example.com"])


# -- delivery: crashes, redelivery, the sweeper ------------------------------------------------


def cause_counts(hub, import_id) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        rows = uow.session.execute(
            select(AssignmentHistory.cause_id, func.count()).where(
                AssignmentHistory.cause_id.like(f"{import_id}:%")).group_by(AssignmentHistory.cause_id))
        return dict(rows.all())


def import_row(hub, import_id) -> CsvImport:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return uow.session.get(CsvImport, import_id)


SIX_LINES = csv_bytes([HEADER] + [[f"cus_{i}", "ann@example.com", "Standard"] for i in (1, 2, 3, 4)]
                      + [["cus_404", "", "Standard"], ["cus_1", "", "Direct debit"]])


def test_a_crash_mid_file_resumes_after_the_last_committed_chunk(client, admin, seeded, monkeypatch):  # type: ignore[no-untyped-def]
    # Two parts by customer: cus_1..cus_3 (lines 2, 3, 4 and 7) and cus_4, cus_404 (lines 5, 6).
    assert [part_of(ImportLine(n, {}, ref, None, None), 2) for n, ref in enumerate(
        ("cus_1", "cus_2", "cus_3", "cus_4", "cus_404"))] == [0, 0, 0, 1, 1]
    import_id = upload(client, admin, SIX_LINES).json["id"]
    real = imports_run.apply_lines

    def killed_at_line_7(session, lines, *args, **kwargs):  # type: ignore[no-untyped-def]
        if any(line.line_number == 7 for line in lines):  # the first part's second chunk
            raise RuntimeError("worker killed")
        return real(session, lines, *args, **kwargs)

    monkeypatch.setattr(imports_run, "apply_lines", killed_at_line_7)
    with pytest.raises(RuntimeError):
        run_import_tasks(seeded, import_id, chunk_lines=2)
    halfway = import_row(seeded, import_id)
    # The second part's chunk committed whole all the same: before the first part's second
    # chunk in the one reader on SQLite, in its own part task on PostgreSQL.
    assert halfway.status == "running" and halfway.last_lines == [3, 6]
    assert halfway.processed_lines == 4
    assert cause_counts(seeded, import_id) == {f"{import_id}:{n}": 2 for n in (2, 3, 5)}

    monkeypatch.setattr(imports_run, "apply_lines", real)
    assert run_import_tasks(seeded, import_id, chunk_lines=2) == "error"
    done = import_row(seeded, import_id)
    assert (done.updated, done.unchanged, done.failed, done.attempts) == (5, 0, 1, 2)
    assert (done.processed_lines, done.last_lines) == (6, [7, 6])
    assert cause_counts(seeded, import_id) == {f"{import_id}:{n}": 2 for n in (2, 3, 4, 5)} | {
        f"{import_id}:7": 1}  # every line applied exactly once
    assert customer(client, admin, "cus_1")["dunningPlanId"] == "wf_dd"


def test_one_part_resumes_the_way_it_started(client, admin, seeded, monkeypatch):  # type: ignore[no-untyped-def]
    # The split is fixed when the import is first claimed: changing the setting in between
    # must not make the resumed run apply a line twice or skip one.
    import_id = upload(client, admin, SIX_LINES).json["id"]
    real = imports_run.apply_lines

    def killed_at_line_5(session, lines, *args, **kwargs):  # type: ignore[no-untyped-def]
        if any(line.line_number == 5 for line in lines):
            raise RuntimeError("worker killed")
        return real(session, lines, *args, **kwargs)

    monkeypatch.setattr(imports_run, "apply_lines", killed_at_line_5)
    one_part = replace(seeded, settings=seeded.settings.with_overrides({"import_parallelism": 1}))
    with pytest.raises(RuntimeError):
        run_import_tasks(one_part, import_id, chunk_lines=2)
    assert import_row(seeded, import_id).last_lines == [3]
    monkeypatch.setattr(imports_run, "apply_lines", real)
    assert run_import_tasks(seeded, import_id, chunk_lines=2) == "error"  # now set to 2 parts
    assert import_row(seeded, import_id).last_lines == [7]
    assert set(cause_counts(seeded, import_id).values()) == {1, 2}  # each line once: 2 fields
    assert len(cause_counts(seeded, import_id)) == 5


def test_a_redelivered_finished_import_changes_nothing(client, admin, seeded):  # type: ignore[no-untyped-def]
    import_id = upload(client, admin, SIX_LINES).json["id"]
    assert run_import_tasks(seeded, import_id) == "error"
    before = cause_counts(seeded, import_id)
    assert process_import(seeded, import_id) == "error"
    assert cause_counts(seeded, import_id) == before
    assert import_row(seeded, import_id).attempts == 1
    with seeded.uow() as uow:  # the file itself is gone once the import is finished
        assert uow.session.scalar(select(func.count()).select_from(ImportFilePiece)) == 0


def test_a_newer_run_takes_over_and_the_older_one_stops(client, admin, seeded, monkeypatch):  # type: ignore[no-untyped-def]
    import_id = upload(client, admin, SIX_LINES).json["id"]
    real = imports_run._apply_chunk
    second_run: list[str] = []

    def redelivered_meanwhile(hub, claim, *args):  # type: ignore[no-untyped-def]
        # The first run's next chunk once one has committed: the import task is delivered again
        # and runs to the end (with its part tasks) before that chunk commits.
        if claim.last_lines == (0, 0) and import_row(hub, import_id).processed_lines >= 2 and not second_run:
            second_run.append(run_import_tasks(hub, import_id, chunk_lines=2))
        return real(hub, claim, *args)

    monkeypatch.setattr(imports_run, "_apply_chunk", redelivered_meanwhile)
    assert run_import_tasks(seeded, import_id, chunk_lines=2) == "superseded"
    assert second_run == ["error"]
    done = import_row(seeded, import_id)
    assert (done.updated + done.unchanged + done.failed, done.processed_lines) == (6, 6)
    assert (done.attempts, done.finished_parts) == (2, [0, 1])
    assert set(cause_counts(seeded, import_id).values()) <= {1, 2}  # no line applied twice


def test_with_the_broker_down_the_import_stays_queued_until_the_sweeper_publishes_it(  # type: ignore[no-untyped-def]
    client, admin, seeded, queue
):
    queue.up = False
    response = upload(client, admin, SIX_LINES)
    assert response.status_code == 202 and response.json["status"] == "queued"
    assert queue.sent == [] and import_row(seeded, response.json["id"]).enqueued_at is None
    assert enqueue_stalled_imports(seeded, older_than=timedelta(0)) == 0  # still down
    queue.up = True
    assert enqueue_stalled_imports(seeded, older_than=timedelta(minutes=1)) == 0  # too recent
    assert enqueue_stalled_imports(seeded, older_than=timedelta(0)) == 1
    assert queue.sent == [("hub.process_import", (response.json["id"],))]
    assert enqueue_stalled_imports(seeded, older_than=timedelta(0)) == 0  # published once
    assert run_import_tasks(seeded, response.json["id"]) == "error"


def test_the_sweeper_republishes_an_import_whose_worker_went_silent(client, admin, seeded, queue):  # type: ignore[no-untyped-def]
    import_id = upload(client, admin, SIX_LINES).json["id"]
    long_ago = utcnow() - timedelta(hours=1)
    with seeded.uow() as uow:
        uow.session.execute(update(CsvImport).values(status="running", enqueued_at=long_ago,
                                                     heartbeat_at=long_ago))
        uow.commit()
    queue.sent.clear()
    assert enqueue_stalled_imports(seeded, lost_after=timedelta(minutes=10)) == 1
    assert queue.sent == [("hub.process_import", (import_id,))]
    assert run_import_tasks(seeded, import_id) == "error"
    assert enqueue_stalled_imports(seeded, older_than=timedelta(0), lost_after=timedelta(0)) == 0


def test_a_quote_never_closed_further_down_fails_the_import_and_keeps_what_was_applied(  # type: ignore[no-untyped-def]
    client, admin, seeded
):
    body = csv_bytes([HEADER, ["cus_1", "ann@example.com", "Standard"]]) + b'cus_2,"bob@example.com\r\n'
    import_id = upload(client, admin, body).json["id"]  # the head of the file is fine
    assert run_import_tasks(seeded, import_id, chunk_lines=1) == "failed"
    result = client.get(f"/api/v1/imports/{import_id}", headers=admin).json
    assert result["message"] == ("The file could not be processed: The quoted cell that starts on "
                                 'line 3 is never closed (a missing ")')
    assert result["counts"]["updated"] == 1
    assert customer(client, admin, "cus_1")["dunningPlanId"] == "wf_std"


def test_an_import_interrupted_too_often_is_given_up(client, admin, seeded):  # type: ignore[no-untyped-def]
    import_id = upload(client, admin, SIX_LINES).json["id"]
    with seeded.uow() as uow:
        uow.session.execute(update(CsvImport).values(status="running", attempts=5))
        uow.commit()
    assert process_import(seeded, import_id) == "failed"
    assert import_row(seeded, import_id).message == "Gave up after 5 attempts; 0 lines were processed"


# -- telling people ----------------------------------------------------------------------------


@responses.activate
def test_the_summary_is_posted_to_the_notify_url(client, admin, seeded):  # type: ignore[no-untyped-def]
    seeded.settings = seeded.settings.with_overrides({"notify_url": NOTIFY_URL})
    responses.post(NOTIFY_URL, body="ok")
    result = run_import(client, admin, seeded, SIX_LINES, filename="q4.csv")
    assert len(responses.calls) == 1
    assert json.loads(responses.calls[0].request.body) == {"text": (
        f"CSV import {result['id']} (q4.csv) finished with errors: 5 updated, 0 unchanged, 1 failed. "
        f"Lines with errors: /api/v1/imports/{result['id']}/errors.csv")}


@responses.activate
@pytest.mark.parametrize("failure", [{"status": 500}, {"body": requests.ConnectionError("refused")}])
def test_a_notification_that_fails_is_logged_and_the_import_still_succeeds(  # type: ignore[no-untyped-def]
    client, admin, seeded, caplog, failure
):
    seeded.settings = seeded.settings.with_overrides({"notify_url": NOTIFY_URL})
    responses.post(NOTIFY_URL, **failure)
    body = csv_bytes([HEADER, ["cus_1", "ann@example.com", ""]])
    with caplog.at_level(logging.INFO, logger="hub.services.imports.run"):
        result = run_import(client, admin, seeded, body)
    assert result["status"] == "success"
    assert "could not notify about import" in caplog.text
    assert f"CSV import {result['id']} (assign.csv) succeeded: 1 updated" in caplog.text


# -- the shell -------------------------------------------------------------------------------


def test_hub_import_queues_the_file_with_a_mapping(runner, seeded, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "crm export.csv"
    path.write_bytes(csv_bytes([["Ref", "Owner", "Plan"], ["cus_1", "bob@example.com", "Standard"]]))
    result = runner.invoke(args=["import", str(path), "--no-wait", "--map", "external_id=Ref",
                                 "--map", "account_manager_emails=Owner", "--map", "workflow_name=plan"])
    assert result.exit_code == 0, result.output
    assert "import 1 queued" in result.output
    assert run_import_tasks(seeded, 1) == "success"
    assert import_row(seeded, 1).requested_by.startswith("cli:")


def test_hub_import_waits_with_a_progress_bar_until_the_worker_is_done(runner, seeded, queue, tmp_path):  # type: ignore[no-untyped-def]
    tasks = {PROCESS_IMPORT: process_import, PROCESS_IMPORT_PART: process_import_part}

    def worker(task_name, *args):  # type: ignore[no-untyped-def]
        tasks[task_name](seeded, *args)  # a worker that happens to be instantaneous
        return True

    queue.enqueue = worker
    path = tmp_path / "assign.csv"
    path.write_bytes(SIX_LINES)
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1  # one line failed
    assert "error — 5 updated, 0 unchanged, 1 failed" in result.output
    assert "lines with errors: /api/v1/imports/1/errors.csv" in result.output


def test_hub_import_refuses_a_file_without_the_columns(runner, seeded, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "wrong.csv"
    path.write_bytes(b"Customer,Plan\ncus_1,Standard\n")
    result = runner.invoke(args=["import", str(path), "--no-wait"])
    assert result.exit_code == 1
    assert "Missing required columns: 'external_id'" in result.output
