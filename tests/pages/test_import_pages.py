"""The import pages as an admin meets them: upload (stored as a draft), the mapping step with its
guesses, start, live progress, the result with its error table and download, the history; the
refusals, which start nothing; roles and CSRF."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from hub.db.models import CsvImport, ImportFilePiece
from hub.db.types import utcnow
from hub.queue import PROCESS_IMPORT
from hub.services.imports.upload import enqueue_stalled_imports
from tests.conftest import ADMIN_KEY
from tests.import_workers import run_import_tasks
from tests.pages.conftest import page_csrf

# "Customer ref" matches no header variant: mapped by hand. "AM email" and "Dunning plan" are
# known spellings of the other two targets; "Note" is discarded.
RENAMED = (b"Customer ref,AM email,Dunning plan,Note\r\n"
           b"cus_demo_acme,bob.chen@example.com,Standard,fine\r\n"
           b"cus_nobody,alice.martin@example.com,Standard,unknown customer\r\n"
           b"cus_demo_globex,nobody@example.com,,unknown email\r\n"
           b"cus_demo_hooli,carla.diaz@example.com,Card payers,fine\r\n")
BY_HAND = {"external_id": "Customer ref", "account_manager_emails": "AM email",
           "workflow_name": "Dunning plan"}


def upload(client, body: bytes | None, filename: str = "assign.csv", csrf: bool = True):  # type: ignore[no-untyped-def]
    data: dict = {"csrf_token": page_csrf(client, "/imports")} if csrf else {}
    if body is not None:
        data["file"] = (io.BytesIO(body), filename)
    return client.post("/imports/upload", data=data, content_type="multipart/form-data")


def drafted(client, body: bytes = RENAMED) -> int:  # type: ignore[no-untyped-def]
    answer = upload(client, body)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    found = re.fullmatch(r"/imports/(\d+)/mapping", answer.headers["Location"])
    assert found, answer.headers["Location"]
    return int(found.group(1))


def start(client, import_id: int, mapping: dict[str, str]):  # type: ignore[no-untyped-def]
    form = {"csrf_token": page_csrf(client, "/imports"), **mapping}
    return client.post(f"/imports/{import_id}/start", data=form)


def discard(client, import_id: int):  # type: ignore[no-untyped-def]
    return client.post(f"/imports/{import_id}/discard", data={"csrf_token": page_csrf(client, "/imports")})


def selected(html: str, target: str) -> str:
    """The value of the option selected in the mapping select of `target`."""
    select_html = re.search(rf'<select id="map-{target}".*?</select>', html, re.S)
    assert select_html, f"no select for {target}"
    chosen = re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', select_html.group(0))
    assert len(chosen) == 1, chosen
    return chosen[0]


def imports(hub) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return [(row.id, row.status) for row in uow.session.scalars(select(CsvImport).order_by(CsvImport.id))]


def pieces(hub) -> int:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(ImportFilePiece)) or 0


def test_an_upload_is_a_draft_and_the_mapping_step_guesses_renamed_columns(as_admin, hub, queue):  # type: ignore[no-untyped-def]
    import_id = drafted(as_admin)
    assert imports(hub) == [(import_id, "draft")] and queue.sent == []
    html = as_admin.get(f"/imports/{import_id}/mapping").get_data(as_text=True)
    assert selected(html, "external_id") == ""  # "Customer ref" is no known spelling
    assert selected(html, "account_manager_emails") == "AM email"
    assert selected(html, "workflow_name") == "Dunning plan"
    preview = re.search(r'<table id="file-preview">.*?</table>', html, re.S).group(0)  # type: ignore[union-attr]
    assert [h for h in re.findall(r'<th scope="col">([^<]*)</th>', preview)] == [
        "Customer ref", "AM email", "Dunning plan", "Note"]
    assert preview.count("<tr>") == 5 and "cus_demo_hooli" in preview  # header + 4 lines
    discarded = re.search(r'<span id="discarded-list">([^<]*)</span>', html).group(1)  # type: ignore[union-attr]
    assert discarded == "Customer ref, Note"


def test_a_mapped_import_runs_and_its_page_shows_the_failed_lines_and_their_download(  # type: ignore[no-untyped-def]
    as_admin, hub, queue
):
    import_id = drafted(as_admin)
    answer = start(as_admin, import_id, BY_HAND)
    assert answer.status_code == 303 and answer.headers["Location"] == f"/imports/{import_id}"
    assert queue.sent == [(PROCESS_IMPORT, (import_id,))]
    with hub.uow() as uow:
        row = uow.session.get(CsvImport, import_id)
        assert (row.status, row.total_lines, row.column_map) == ("queued", 4, BY_HAND)
    queued = as_admin.get(f"/imports/{import_id}").get_data(as_text=True)
    assert 'id="import-status" data-status="queued"' in queued and "0 / 4 lines" in queued
    assert 'hx-trigger="every 1s"' in queued and 'id="download-errors"' not in queued
    poll = as_admin.get(f"/imports/{import_id}", headers={"HX-Request": "true"})
    assert poll.status_code == 200 and "<html" not in poll.get_data(as_text=True)

    queue.sent.clear()
    assert run_import_tasks(hub, import_id) == "error"
    html = as_admin.get(f"/imports/{import_id}").get_data(as_text=True)
    assert 'id="import-status" data-status="error"' in html and 'hx-trigger' not in html
    assert "4 / 4 lines" in html
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', html))
    assert counts == {"updated": "2", "unchanged": "0", "failed": "2"}
    assert re.findall(r'<tr data-line="(\d+)">', html) == ["3", "4"]
    line_3 = re.search(r'<tr data-line="3">.*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]
    assert "cus_nobody" in line_3 and "unknown customer" in line_3
    assert "The customer was not found" in line_3
    assert "nobody@example.com" in re.search(r'<tr data-line="4">.*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]

    download = as_admin.get(f"/imports/{import_id}/errors.csv")
    api = as_admin.get(f"/api/v1/imports/{import_id}/errors.csv",
                       headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert download.status_code == api.status_code == 200
    assert download.data == api.data and download.mimetype == "text/csv"
    lines = download.data.decode("utf-8-sig").splitlines()
    assert lines[0] == "Customer ref,AM email,Dunning plan,Note,Error"
    assert lines[1].startswith("cus_nobody,alice.martin@example.com,Standard,unknown customer,")
    assert lines[2].startswith("cus_demo_globex,nobody@example.com,,unknown email,")
    assert f'href="/imports/{import_id}/errors.csv"' in html


def test_the_poll_of_a_finished_import_stops_and_brings_the_result(as_admin, hub):  # type: ignore[no-untyped-def]
    import_id = drafted(as_admin)
    start(as_admin, import_id, BY_HAND)
    run_import_tasks(hub, import_id)
    poll = as_admin.get(f"/imports/{import_id}", headers={"HX-Request": "true"})
    assert poll.status_code == 286  # htmx stops polling
    body = poll.get_data(as_text=True)
    assert 'id="import-result"' in body and 'hx-swap-oob="true"' in body
    assert 'data-status="error"' in body and 'id="download-errors"' in body


def test_the_history_lists_imports_newest_first_and_drafts_to_continue(as_admin, hub):  # type: ignore[no-untyped-def]
    first = drafted(as_admin)
    start(as_admin, first, BY_HAND)
    run_import_tasks(hub, first)
    second = drafted(as_admin)
    html = as_admin.get("/imports").get_data(as_text=True)
    assert re.findall(r'<tr data-import="(\d+)" data-status="(\w+)">', html) == [
        (str(second), "draft"), (str(first), "error")]
    draft_row = re.search(rf'<tr data-import="{second}".*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]
    assert f'href="/imports/{second}/mapping">continue mapping' in draft_row
    done_row = re.search(rf'<tr data-import="{first}".*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]
    assert "finance.admin@example.com" in done_row and f'href="/imports/{first}"' in done_row
    assert [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', done_row)] == [4, 2, 0, 2]
    assert 'id="upload-form"' in html and 'id="drop-zone"' in html and 'id="file-input"' in html


@pytest.mark.parametrize("body, reason", [
    (b"", "The file is empty"),
    (b"External Id,Workflow name\r\n", "The file has a header but no lines to import"),
    (b"\r\n\r\n", "The file is empty"),
    (b"PK\x03\x04" + b"\x00" * 200, "This is not a CSV file: it looks like an Excel workbook"),
    (b"External Id\x00,Workflow\x00\x01\x02\x03\n" * 20, "This is not a CSV file: it contains binary data"),
])
def test_a_refused_upload_is_told_on_the_form_and_nothing_is_stored(  # type: ignore[no-untyped-def]
    as_admin, hub, queue, body, reason
):
    answer = upload(as_admin, body)
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    message = re.search(r'<p id="upload-error" class="alert" role="alert">([^<]*)</p>', html)
    assert message and message.group(1).startswith(reason.replace("'", "&#39;"))
    assert 'id="upload-form"' in html
    assert imports(hub) == [] and pieces(hub) == 0 and queue.sent == []


@pytest.mark.parametrize("body", [None, b""])
def test_no_file_chosen_is_refused_on_the_form(as_admin, hub, body):  # type: ignore[no-untyped-def]
    answer = upload(as_admin, body, filename="")
    assert answer.status_code == 400
    assert "Choose a CSV file to upload" in answer.get_data(as_text=True)
    assert imports(hub) == []


def test_a_file_over_the_size_limit_is_refused_413(as_admin, hub):  # type: ignore[no-untyped-def]
    hub.settings = hub.settings.with_overrides({"import_max_bytes": 1024})
    small_over = upload(as_admin, b"External Id,Workflow name\r\n" + b"cus_1,Standard\r\n" * 100)
    assert small_over.status_code == 413
    assert "larger than the 1 KiB limit" in small_over.get_data(as_text=True)
    far_over = upload(as_admin, b"External Id,Workflow name\r\n" + b"cus_1,Standard\r\n" * 10_000)
    assert far_over.status_code == 413  # refused while the body is read, before the CSRF check
    assert "larger than the 1 KiB limit" in far_over.get_data(as_text=True)
    assert imports(hub) == [] and pieces(hub) == 0


def test_an_upload_may_be_larger_than_the_request_limit(as_admin, hub):  # type: ignore[no-untyped-def]
    lines = b"".join(b"cus_%07d,Standard\r\n" % n for n in range(80_000))  # ~1.6 MiB > 1 MiB
    assert len(lines) > hub.settings.max_request_bytes
    import_id = drafted(as_admin, b"External Id,Workflow name\r\n" + lines)
    assert imports(hub) == [(import_id, "draft")] and pieces(hub) == 2


@pytest.mark.parametrize("mapping, message", [
    ({"external_id": "", "account_manager_emails": "AM email", "workflow_name": "Dunning plan"},
     "Choose the column that holds the External id"),
    ({"external_id": "Customer ref", "account_manager_emails": "", "workflow_name": ""},
     "Choose a column for Account manager email(s) or Workflow name"),
    ({"external_id": "Customer ref", "account_manager_emails": "Customer ref", "workflow_name": ""},
     "The column &#39;Customer ref&#39; is chosen for both External id and Account manager email(s)"),
    ({"external_id": "Client", "account_manager_emails": "AM email", "workflow_name": ""},
     "the mapping names columns that are not in the file"),
])
def test_a_refused_mapping_is_told_on_the_mapping_form_and_nothing_starts(  # type: ignore[no-untyped-def]
    as_admin, hub, queue, mapping, message
):
    import_id = drafted(as_admin)
    answer = start(as_admin, import_id, mapping)
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert message in re.search(r'<p id="mapping-error"[^>]*>([^<]*)</p>', html).group(1)  # type: ignore[union-attr]
    kept = mapping["external_id"] if mapping["external_id"] in BY_HAND.values() else ""
    assert selected(html, "external_id") == kept  # the admin's choice, if it is a column
    assert imports(hub) == [(import_id, "draft")] and queue.sent == []


def test_a_file_unreadable_further_on_is_refused_at_start(as_admin, hub, queue):  # type: ignore[no-untyped-def]
    body = b"External Id,Workflow name\r\ncus_demo_acme,Standard\r\ncus_demo_hooli,\"Standard\r\n"
    import_id = drafted(as_admin, body)
    answer = start(as_admin, import_id, {"external_id": "External Id", "workflow_name": "Workflow name",
                                         "account_manager_emails": ""})
    assert answer.status_code == 400
    assert "never closed" in answer.get_data(as_text=True)
    assert imports(hub) == [(import_id, "draft")] and queue.sent == []


def test_starting_twice_queues_once(as_admin, hub, queue):  # type: ignore[no-untyped-def]
    import_id = drafted(as_admin)
    assert start(as_admin, import_id, BY_HAND).status_code == 303
    again = start(as_admin, import_id, BY_HAND)
    assert again.status_code == 303 and again.headers["Location"] == f"/imports/{import_id}"
    assert queue.sent == [(PROCESS_IMPORT, (import_id,))]
    mapping = as_admin.get(f"/imports/{import_id}/mapping")
    assert mapping.status_code == 303 and mapping.headers["Location"] == f"/imports/{import_id}"


def test_a_draft_can_be_discarded_with_its_file(as_admin, hub):  # type: ignore[no-untyped-def]
    import_id = drafted(as_admin)
    assert pieces(hub) == 1
    answer = discard(as_admin, import_id)
    assert answer.status_code == 303 and answer.headers["Location"] == "/imports"
    assert imports(hub) == [] and pieces(hub) == 0
    assert as_admin.get(f"/imports/{import_id}/mapping").status_code == 404


def test_a_started_import_cannot_be_discarded(as_admin, hub):  # type: ignore[no-untyped-def]
    import_id = drafted(as_admin)
    start(as_admin, import_id, BY_HAND)
    answer = discard(as_admin, import_id)
    assert answer.status_code == 409
    assert imports(hub) == [(import_id, "queued")]


def test_drafts_are_never_published_by_the_sweeper_and_stale_ones_are_removed(as_admin, hub, queue):  # type: ignore[no-untyped-def]
    fresh, stale = drafted(as_admin), drafted(as_admin)
    with hub.uow() as uow:
        uow.session.execute(update(CsvImport).where(CsvImport.id == stale)
                            .values(created_at=utcnow() - timedelta(days=2)))
        uow.commit()
    assert enqueue_stalled_imports(hub, older_than=timedelta(0), lost_after=timedelta(0)) == 0
    assert queue.sent == []
    assert imports(hub) == [(fresh, "draft")] and pieces(hub) == 1


def test_the_api_lists_drafts_with_their_status(as_admin, client, hub):  # type: ignore[no-untyped-def]
    import_id = drafted(as_admin)
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    listed = client.get("/api/v1/imports", headers=headers)
    assert listed.status_code == 200
    assert [(item["id"], item["status"]) for item in listed.json["imports"]] == [(import_id, "draft")]
    one = client.get(f"/api/v1/imports/{import_id}", headers=headers).json
    assert one["headers"] == ["Customer ref", "AM email", "Dunning plan", "Note"]
    assert one["progress"]["percent"] == 0.0 and one["columns"] == {}


def test_the_error_table_shows_100_lines_a_page(as_admin, hub):  # type: ignore[no-untyped-def]
    body = b"External Id,Workflow name\r\n" + b"".join(b"cus_gone_%03d,Standard\r\n" % n for n in range(105))
    import_id = drafted(as_admin, body)
    start(as_admin, import_id, {"external_id": "External Id", "workflow_name": "Workflow name",
                                "account_manager_emails": ""})
    assert run_import_tasks(hub, import_id) == "error"
    first = as_admin.get(f"/imports/{import_id}").get_data(as_text=True)
    assert len(re.findall(r"<tr data-line=", first)) == 100
    assert "Failed lines 1–100 of 105; the download has them all." in first
    rest = as_admin.get(f"/imports/{import_id}?offset=100").get_data(as_text=True)
    assert re.findall(r'<tr data-line="(\d+)">', rest) == ["102", "103", "104", "105", "106"]
    assert as_admin.get(f"/imports/{import_id}?offset=x").status_code == 400
    assert as_admin.get(f"/imports/{import_id}?page=2").status_code == 400


def test_unknown_imports_are_404(as_admin):  # type: ignore[no-untyped-def]
    for path in ("/imports/999", "/imports/999/mapping", "/imports/999/errors.csv"):
        assert as_admin.get(path).status_code == 404, path
    token = page_csrf(as_admin, "/imports")
    assert as_admin.post("/imports/999/start", data={"csrf_token": token, **BY_HAND}).status_code == 404
    assert as_admin.post("/imports/999/discard", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("role_client", ["as_ops", "as_manager"])
def test_the_import_pages_are_for_admins_only(request, hub, role_client):  # type: ignore[no-untyped-def]
    client = request.getfixturevalue(role_client)
    for path in ("/imports", "/imports/1", "/imports/1/mapping", "/imports/1/errors.csv"):
        assert client.get(path).status_code == 403, path
    answer = upload(client, RENAMED)
    assert answer.status_code == 403 and imports(hub) == []


def test_posts_without_the_csrf_token_are_refused(as_admin, hub, queue):  # type: ignore[no-untyped-def]
    assert upload(as_admin, RENAMED, csrf=False).status_code == 403
    assert imports(hub) == []
    import_id = drafted(as_admin)
    assert as_admin.post(f"/imports/{import_id}/start", data=BY_HAND).status_code == 403
    assert as_admin.post(f"/imports/{import_id}/discard").status_code == 403
    assert imports(hub) == [(import_id, "draft")] and queue.sent == []


def test_the_pages_carry_no_inline_script_or_style(as_admin, hub):  # type: ignore[no-untyped-def]
    import_id = drafted(as_admin)
    pages = [as_admin.get("/imports"), as_admin.get(f"/imports/{import_id}/mapping")]
    start(as_admin, import_id, BY_HAND)
    pages.append(as_admin.get(f"/imports/{import_id}"))
    for page in pages:
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "<script>" not in html and 'style="' not in html and "onclick" not in html
        assert "imports.css" in html
    assert "imports.js" in pages[0].get_data(as_text=True)


def test_the_mapping_step_names_the_file_s_delimiter_and_encoding(as_admin):  # type: ignore[no-untyped-def]
    body = "External Id\tWorkflow name\tCaf\u00e9\r\ncus_demo_acme\tStandard\tcr\u00e8me\r\n".encode("cp1252")
    import_id = drafted(as_admin, body)
    html = as_admin.get(f"/imports/{import_id}/mapping").get_data(as_text=True)
    facts = re.search(r'<p class="muted" id="file-facts">(.*?)</p>', html, re.S).group(1)  # type: ignore[union-attr]
    assert "cp1252" in facts and "tab separated" in facts
    assert "<td>crème</td>" in html
    assert selected(html, "external_id") == "External Id"
    assert selected(html, "workflow_name") == "Workflow name"
    assert re.search(r'<span id="discarded-list">([^<]*)</span>', html).group(1) == "Café"  # type: ignore[union-attr]


def test_a_too_large_upload_from_a_non_admin_shows_no_history(as_ops, hub):  # type: ignore[no-untyped-def]
    hub.settings = hub.settings.with_overrides({"import_max_bytes": 1024})
    answer = upload(as_ops, b"External Id,Workflow name\r\n" + b"cus_1,Standard\r\n" * 10_000)
    assert answer.status_code == 413
    html = answer.get_data(as_text=True)
    assert 'id="imports"' not in html and 'id="upload-form"' not in html
