"""The imports API as an admin meets it: refusals with nothing stored, size limits, auth, mapping,
history, errors.csv safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from hub.db.models import CsvImport, ImportFilePiece
from hub.services.directory.keys import create_key
from tests.factories import make_customer, make_user, make_workflow
from tests.import_workers import run_import_tasks

GOOD = b"External Id,Account manager email,Workflow name\r\ncus_1,ann@example.com,Standard\r\n"


@pytest.fixture
def seeded(hub):  # type: ignore[no-untyped-def]
    make_workflow(hub, "wf_std", "Standard")
    make_user(hub, "ann@example.com")
    make_customer(hub, "cus_1")
    return hub


def post(client, headers, body: bytes | None, filename="assign.csv", **form):  # type: ignore[no-untyped-def]
    data = dict(form)
    if body is not None:
        data["file"] = (io.BytesIO(body), filename)
    return client.post("/api/v1/imports", headers=headers, data=data, content_type="multipart/form-data")


def stored(hub) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return (uow.session.scalar(select(func.count()).select_from(CsvImport)),
                uow.session.scalar(select(func.count()).select_from(ImportFilePiece)))


def test_an_upload_is_stored_queued_and_enqueued(client, admin, seeded, queue):  # type: ignore[no-untyped-def]
    r = post(client, admin, GOOD)
    assert r.status_code == 202
    assert r.json == {**r.json, "status": "queued", "filename": "assign.csv", "encoding": "utf-8",
                      "delimiter": ",", "requestedBy": "key:bootstrap-admin", "errorsUrl": None,
                      "counts": {"updated": 0, "unchanged": 0, "failed": 0}}
    assert r.json["columns"] == {"external_id": "External Id",
                                 "account_manager_emails": "Account manager email",
                                 "workflow_name": "Workflow name"}
    assert r.json["progress"] == {"processedLines": 0, "totalLines": None, "bytesRead": 0,
                                  "totalBytes": len(GOOD), "percent": 0.0}
    assert queue.sent == [("hub.process_import", (r.json["id"],))]
    assert stored(seeded) == (1, 1)


@pytest.mark.parametrize("body, detected", [
    (b"PK\x03\x04" + b"\x00" * 200, "an Excel workbook (.xlsx) or another ZIP archive"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "a PNG image"),
    (b"External Id\x00,Workflow\x00\x01\x02\x03\n" * 20, "binary data"),
])
def test_a_file_that_is_not_a_csv_is_refused_400_and_nothing_is_stored(  # type: ignore[no-untyped-def]
    client, admin, seeded, queue, body, detected
):
    r = post(client, admin, body, filename="assign.xlsx")
    assert r.status_code == 400
    assert r.json["error"]["code"] == "malformed_body"
    assert r.json["error"]["message"].startswith("This is not a CSV file")
    assert r.json["error"]["details"]["detected"] == detected
    assert stored(seeded) == (0, 0) and queue.sent == []


def test_missing_columns_are_refused_422_naming_them(client, admin, seeded):  # type: ignore[no-untyped-def]
    r = post(client, admin, b"Customer;Owner;Plan\ncus_1;ann@example.com;Standard\n")
    assert r.status_code == 422
    message = r.json["error"]["message"]
    assert message.startswith("Missing required columns: 'external_id'")
    assert "at least one of 'account_manager_emails' or 'workflow_name'" in message
    assert "Columns found: 'Customer', 'Owner', 'Plan'" in message
    assert r.json["error"]["details"]["missing"] == ["external_id"]
    assert stored(seeded) == (0, 0)


@pytest.mark.parametrize("body", [b"", b"\xef\xbb\xbf\r\n\r\n", b"External Id,Workflow name\r\n"])
def test_an_empty_file_or_a_header_alone_is_refused_400(client, admin, seeded, body):  # type: ignore[no-untyped-def]
    r = post(client, admin, body)
    assert r.status_code == 400
    assert r.json["error"]["details"] == {"reason": "empty_file"}
    assert stored(seeded) == (0, 0)


def test_a_file_over_the_configured_limit_is_refused_413(client, admin, seeded):  # type: ignore[no-untyped-def]
    seeded.settings = seeded.settings.with_overrides({"import_max_bytes": 1024})
    body = GOOD + b"cus_1,ann@example.com,Standard\r\n" * 40  # ~1.3 KiB: the reader refuses it
    r = post(client, admin, body)
    assert r.status_code == 413
    assert r.json["error"] == {"code": "payload_too_large", "message":
                               "The file is larger than the 1 KiB limit", "details": {"max_bytes": 1024}}
    huge = GOOD + b"cus_1,ann@example.com,Standard\r\n" * 4000  # beyond the multipart allowance too
    assert post(client, admin, huge).status_code == 413
    assert stored(seeded) == (0, 0)
    assert post(client, admin, GOOD).status_code == 202


def test_an_upload_larger_than_the_api_body_limit_is_accepted(client, admin, seeded):  # type: ignore[no-untyped-def]
    notes = b"x" * 1000  # long lines: a big file that stays quick to process
    body = b"External Id,Account manager email,Workflow name,Notes\r\n" + b"".join(
        b"cus_1,ann@example.com,Standard,%s\r\n" % notes for _ in range(1600))
    assert len(body) > 1.5 * 1024 * 1024 > seeded.settings.max_request_bytes
    r = post(client, admin, body)
    assert r.status_code == 202, r.json
    assert r.json["progress"]["totalBytes"] == len(body)
    assert stored(seeded) == (1, 2)  # two 1 MiB pieces
    assert run_import_tasks(seeded, r.json["id"]) == "success"
    # The larger limit belongs to the upload only: other endpoints keep the API's own.
    big_json = {"externalId": "x" * (seeded.settings.max_request_bytes + 10)}
    assert client.post("/api/v1/customers", json=big_json, headers=admin).status_code == 413


def test_only_admins_may_import(client, seeded):  # type: ignore[no-untyped-def]
    with seeded.uow() as uow:
        _, raw = create_key(uow.session, "crm-sync", "integration")
        uow.commit()
    integration = {"Authorization": f"Bearer {raw}"}
    assert post(client, integration, GOOD).status_code == 403
    for path in ("/api/v1/imports", "/api/v1/imports/1", "/api/v1/imports/1/errors.csv"):
        assert client.get(path, headers=integration).status_code == 403
        assert client.get(path).status_code == 401
    assert post(client, {}, GOOD).status_code == 401
    assert stored(seeded) == (0, 0)


def test_the_file_field_is_required(client, admin, seeded):  # type: ignore[no-untyped-def]
    r = post(client, admin, None, mapping="{}")
    assert r.status_code == 400 and "'file'" in r.json["error"]["message"]


def test_a_mapping_names_the_columns_to_read(client, admin, seeded):  # type: ignore[no-untyped-def]
    body = b"Ref;Owner;Plan;Workflow\r\ncus_1;ann@example.com;Standard;ignored\r\n"
    mapping = {"external_id": "Ref", "account_manager_emails": "owner", "workflow_name": "Plan"}
    r = post(client, admin, body, mapping=json.dumps(mapping))
    assert r.status_code == 202, r.json
    assert r.json["columns"] == {"external_id": "Ref", "account_manager_emails": "Owner",
                                 "workflow_name": "Plan"}
    assert run_import_tasks(seeded, r.json["id"]) == "success"
    found = client.get("/api/v1/customers/external:cus_1", headers=admin).json
    assert found["dunningPlanId"] == "wf_std" and found["accountManagers"] == ["ann@example.com"]


@pytest.mark.parametrize("mapping, status, fragment", [
    ("{not json", 400, "mapping must be a JSON object"),
    ('["Ref"]', 422, "mapping must map targets to column names"),
    ('{"external_id": "Nope"}', 422, "external_id → 'Nope'"),
    ('{"customer": "External Id"}', 422, "unknown mapping targets ['customer']"),
])
def test_a_bad_mapping_is_refused(client, admin, seeded, mapping, status, fragment):  # type: ignore[no-untyped-def]
    r = post(client, admin, GOOD, mapping=mapping)
    assert r.status_code == status and fragment in r.json["error"]["message"]
    assert stored(seeded) == (0, 0)


def test_history_is_newest_first_and_paged(client, admin, seeded):  # type: ignore[no-untyped-def]
    ids = [post(client, admin, GOOD, filename=f"f{n}.csv").json["id"] for n in range(3)]
    page = client.get("/api/v1/imports?limit=2", headers=admin).json
    assert page["total"] == 3 and page["offset"] == 0 and page["limit"] == 2
    assert [i["id"] for i in page["imports"]] == [ids[2], ids[1]]
    rest = client.get("/api/v1/imports?offset=2&limit=2", headers=admin).json
    assert [i["filename"] for i in rest["imports"]] == ["f0.csv"]


def test_an_unknown_import_is_404(client, admin, seeded):  # type: ignore[no-untyped-def]
    for path in ("/api/v1/imports/999", "/api/v1/imports/999/errors.csv"):
        r = client.get(path, headers=admin)
        assert r.status_code == 404 and r.json["error"]["code"] == "import_not_found"


def test_errors_csv_keeps_the_original_cells_and_defuses_formulas(client, admin, seeded):  # type: ignore[no-untyped-def]
    body = ("Workflow name;Notes;External Id\r\n"
            "Standard;=HYPERLINK(\"http://evil.example\");=1+2\r\n"
            "Standard;relancé;cus_1\r\n").encode("cp1252")
    r = post(client, admin, body)
    assert r.json["encoding"] == "cp1252"
    assert run_import_tasks(seeded, r.json["id"]) == "error"
    download = client.get(f"/api/v1/imports/{r.json['id']}/errors.csv", headers=admin)
    assert download.headers["Content-Disposition"] == (
        f"attachment; filename=import-{r.json['id']}-errors.csv")
    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert rows == [["Workflow name", "Notes", "External Id", "Error"],
                    ["Standard", "'=HYPERLINK(\"http://evil.example\")", "'=1+2",
                     "The customer was not found"]]


def test_errors_csv_is_whole_with_its_length_or_a_clear_error(client, admin, seeded, monkeypatch):  # type: ignore[no-untyped-def]
    """Built before the answer starts: its Content-Length is met, and a database failure part-way
    through the failed lines is an error answer, never a 200 cut off after the first rows."""
    from sqlalchemy.exc import OperationalError

    from hub.services.imports import upload as imports_svc

    r = post(client, admin, b"External Id,Workflow name\r\ncus_nobody,Standard\r\ncus_none,Standard\r\n")
    assert run_import_tasks(seeded, r.json["id"]) == "error"
    url = f"/api/v1/imports/{r.json['id']}/errors.csv"
    whole = client.get(url, headers=admin)
    assert whole.status_code == 200 and whole.content_length == len(whole.data)
    assert whole.data.decode("utf-8-sig").count("\r\n") == 3

    real = imports_svc._failed_lines

    def fails_after_one_line(session, import_id):  # type: ignore[no-untyped-def]
        lines = real(session, import_id)
        yield next(lines)
        raise OperationalError("SELECT ...", {}, Exception("database is locked"))

    monkeypatch.setattr(imports_svc, "_failed_lines", fails_after_one_line)
    broken = client.get(url, headers=admin)
    assert broken.status_code == 503 and broken.json["error"]["code"]
