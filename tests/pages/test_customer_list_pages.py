"""The customer list at /customers: filters, columns, sorting, paging, export, bulk selection
markup and saved views, on the demo data (acme and initech are alice's; umbrella and acme are
segment smb; hooli has no manager)."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from hub.db.models import Customer
from hub.services.directory import sign_in
from hub.services.directory.workflows import create_user
from hub.services.queries.customer_list import forget_custom_field_keys
from tests.pages.conftest import PASSWORD, csrf_of, page_csrf


def listed(page: str) -> list[str]:
    return re.findall(r'<tr data-customer="([^"]+)">', page)


def get(client, path: str) -> str:  # type: ignore[no-untyped-def]
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code, answer.get_data(as_text=True)[:500])
    return answer.get_data(as_text=True)


def headers(page: str) -> list[str]:
    head = re.search(r'<table id="customers">\s*<thead>(.*?)</thead>', page, re.S)
    assert head
    return re.findall(r'<th scope="col" data-column="([^"]+)"', head.group(1))


def add_customers(hub, count: int, prefix: str = "cus_more_", **fields) -> None:  # type: ignore[no-untyped-def]
    with hub.uow() as uow:
        for n in range(count):
            uow.session.add(Customer(external_id=f"{prefix}{n:03d}", name=f"More {n:03d}",
                                     custom_fields={}, **fields))
        uow.commit()


def sign_in_as(app, hub, email: str, role: str = "admin"):  # type: ignore[no-untyped-def]
    create_user(hub, {"email": email, "role": role})
    sign_in.set_password(hub, email, PASSWORD)
    client = app.test_client()
    form = client.get("/sign-in").get_data(as_text=True)
    answer = client.post("/sign-in", data={"email": email, "password": PASSWORD, "next": "/",
                                           "csrf_token": csrf_of(form)})
    assert answer.status_code == 303
    return client


def test_each_filter_narrows_the_list(as_admin, demo):  # type: ignore[no-untyped-def]
    add_customers(demo, 1, prefix="cus_unassigned_")
    assert listed(get(as_admin, "/customers?workflow=wf_card")) == ["cus_demo_acme"]
    assert listed(get(as_admin, "/customers?unassigned=1")) == ["cus_unassigned_000"]
    assert listed(get(as_admin, "/customers?manager=carla.diaz@example.com")) == [
        "cus_demo_initech", "cus_demo_umbrella"]
    assert listed(get(as_admin, "/customers?q=GLOBEX")) == ["cus_demo_globex"]
    assert listed(get(as_admin, "/customers?cf.segment=smb")) == ["cus_demo_acme", "cus_demo_umbrella"]
    assert listed(get(as_admin, "/customers?cf.segment=smb&cf.risk=high")) == ["cus_demo_umbrella"]
    assert listed(get(as_admin, "/customers?manager=alice.martin@example.com&cf.segment=enterprise")) == [
        "cus_demo_initech"]
    assert listed(get(as_admin, "/customers?cf.segment=nobody")) == []


def test_the_form_offers_workflows_managers_and_a_field_per_custom_key(as_admin, demo):  # type: ignore[no-untyped-def]
    forget_custom_field_keys(demo)
    page = get(as_admin, "/customers?cf.segment=smb&manager=bob.chen@example.com")
    form = page.split('id="filters"')[1].split("</form>")[0]
    assert re.search(r'name="cf.risk"', form) and re.search(r'name="cf.segment"[^>]*value="smb"', form)
    assert '<option value="wf_card" >Card payers</option>' in form
    assert re.search(r'<option value="\(unassigned\)"\s*>Unassigned</option>', form)
    assert re.search(r'<option value="bob.chen@example.com" selected>Bob Chen', form)
    assert "finance.admin@example.com" not in form  # an admin who manages no one
    assert 'for="f-cf-1"' in form and 'id="f-cf-1"' in form


def test_the_unassigned_choice_and_empty_fields_redirect_to_the_clean_url(as_admin, demo):  # type: ignore[no-untyped-def]
    answer = as_admin.get("/customers?q=&workflow=(unassigned)&manager=&cf.segment=&cf.risk=")
    assert answer.status_code == 303 and answer.headers["Location"] == "/customers?unassigned=1"
    answer = as_admin.get("/customers?q=acme&workflow=")
    assert answer.headers["Location"] == "/customers?q=acme"


def test_bad_parameters_are_a_400_naming_them(as_admin, demo):  # type: ignore[no-untyped-def]
    for path, named in (("/customers?colour=red", "colour"), ("/customers?sort=shoe_size", "sort"),
                        ("/customers?sort=account_managers", "sort"), ("/customers?cols=name,bogus", "cols"),
                        ("/customers?cols=name,name", "cols"), ("/customers?view=abc", "view"),
                        ("/customers/export.csv?sort=name", "sort")):
        answer = as_admin.get(path)
        assert answer.status_code == 400, path
        assert named in html.unescape(answer.get_data(as_text=True)), path
    assert as_admin.get("/customers?view=999").status_code == 404


def test_chosen_columns_appear_in_their_order(as_admin, demo):  # type: ignore[no-untyped-def]
    assert headers(get(as_admin, "/customers")) == [
        "external_id", "name", "workflow", "account_managers", "source_system"]
    page = get(as_admin, "/customers?cols=email,cf.segment,currency,name")
    assert headers(page) == ["external_id", "email", "cf.segment", "currency", "name"]
    row = re.search(r'<tr data-customer="cus_demo_globex">(.*?)</tr>', page, re.S)
    assert row
    cells = re.findall(r'<td data-column="([^"]+)">(.*?)</td>', row.group(1), re.S)
    assert [(k, html.unescape(v).strip()) for k, v in cells] == [
        ("email", "ap@globex.example"), ("cf.segment", "mid_market"), ("currency", "EUR"),
        ("name", "Globex Freight Inc")]
    assert headers(get(as_admin, "/customers?cols=external_id")) == ["external_id"]


def test_the_columns_panel_shows_hides_and_moves_without_js(as_admin, demo):  # type: ignore[no-untyped-def]
    page = get(as_admin, "/customers?cols=email,name&q=example")
    panel = page.split('id="columns-form"')[1].split("</form>")[0]
    order = re.findall(r'name="order" value="([^"]+)"', panel)
    assert order[:2] == ["email", "name"] and "cf.segment" in order and "external_id" not in order
    assert re.search(r'value="email" checked', panel) and not re.search(r'value="currency" checked', panel)
    query = "&".join(f"order={k}" for k in order)
    moved = as_admin.get(f"/customers/columns?q=example&{query}&show=email&show=name&show=currency"
                         "&move=down:email")
    target = urlsplit(moved.headers["Location"])
    assert moved.status_code == 303 and target.fragment == "columns"
    assert parse_qs(target.query) == {"q": ["example"], "cols": ["name,email,currency"]}
    hidden = as_admin.get(f"/customers/columns?{query}&show=currency")
    assert parse_qs(urlsplit(hidden.headers["Location"]).query) == {"cols": ["currency"]}
    assert as_admin.get(f"/customers/columns?{query}&show=name&move=sideways:name").status_code == 400
    assert as_admin.get("/customers/columns?order=bogus&show=bogus").status_code == 400


def test_sorting_both_ways_marks_the_header(as_admin, demo):  # type: ignore[no-untyped-def]
    names = {"cus_demo_acme": "Acme Logistics LLC", "cus_demo_globex": "Globex Freight Inc",
             "cus_demo_hooli": "Hooli", "cus_demo_initech": "Initech GmbH",
             "cus_demo_umbrella": "Umbrella Health"}
    up = get(as_admin, "/customers?sort=name")
    assert listed(up) == sorted(names, key=names.__getitem__)
    assert re.search(r'data-column="name" aria-sort="ascending"><a href="/customers\?sort=-name"', up)
    down = get(as_admin, "/customers?sort=-name")
    assert listed(down) == sorted(names, key=names.__getitem__, reverse=True)
    assert 'data-column="name" aria-sort="descending"' in down
    by_workflow = listed(get(as_admin, "/customers?sort=workflow"))  # by workflow name
    assert by_workflow[0] == "cus_demo_umbrella" and by_workflow[-1] == "cus_demo_hooli"
    assert listed(get(as_admin, "/customers?sort=-external_id")) == sorted(names, reverse=True)
    by_segment = [c for c in listed(get(as_admin, "/customers?sort=cf.segment")) if c != "cus_demo_hooli"]
    assert by_segment == ["cus_demo_initech", "cus_demo_globex", "cus_demo_acme", "cus_demo_umbrella"]
    by_segment = [c for c in listed(get(as_admin, "/customers?sort=-cf.segment")) if c != "cus_demo_hooli"]
    assert by_segment == ["cus_demo_umbrella", "cus_demo_acme", "cus_demo_globex", "cus_demo_initech"]


def test_paging_fifty_at_a_time_with_the_count(as_admin, demo):  # type: ignore[no-untyped-def]
    add_customers(demo, 55)
    first = get(as_admin, "/customers?q=more")
    assert len(listed(first)) == 50 and "<strong>55</strong> customers match" in first
    assert 'href="/customers?q=more&amp;offset=50" rel="next"' in first
    second = get(as_admin, "/customers?q=more&offset=50")
    assert listed(second) == [f"cus_more_{n:03d}" for n in range(50, 55)]
    assert "51–55 of 55" in second


def test_an_account_manager_sees_only_their_customers_in_list_count_and_export(as_manager, demo):  # type: ignore[no-untyped-def]
    page = get(as_manager, "/customers")
    assert listed(page) == ["cus_demo_acme", "cus_demo_initech"]
    assert "<strong>2</strong> customers match" in page
    assert 'id="bulk-form"' not in page and 'class="row-select"' not in page
    assert listed(get(as_manager, "/customers?manager=carla.diaz@example.com")) == ["cus_demo_initech"]
    export = as_manager.get("/customers/export.csv").get_data(as_text=True)
    assert "cus_demo_acme" in export and "cus_demo_initech" in export and "cus_demo_globex" not in export


def test_the_export_is_the_api_export_of_the_same_filter(as_admin, demo, admin):  # type: ignore[no-untyped-def]
    page = get(as_admin, "/customers?cf.segment=smb&manager=carla.diaz@example.com")
    link = re.search(r'id="export-csv" class="button secondary" href="([^"]+)"', page)
    assert link
    ours = as_admin.get(html.unescape(link.group(1)))
    assert ours.status_code == 200 and ours.mimetype == "text/csv"
    api = demo_api_export(as_admin, admin, "customFields.segment=smb&accountManager=carla.diaz@example.com")
    assert ours.data == api and b"cus_demo_umbrella" in ours.data and b"cus_demo_acme" not in ours.data
    everyone = as_admin.get("/customers/export.csv").data
    assert everyone == demo_api_export(as_admin, admin, "") and everyone.count(b"cus_demo_") == 5


def demo_api_export(client, admin, query: str) -> bytes:  # type: ignore[no-untyped-def]
    answer = client.get(f"/api/v1/customers/export.csv?{query}", headers=admin)
    assert answer.status_code == 200
    return bytes(answer.data)


def test_admins_get_the_bulk_selection_form_others_do_not(as_admin, as_ops, demo):  # type: ignore[no-untyped-def]
    page = get(as_admin, "/customers?cf.segment=smb&sort=name&cols=name")
    form = page.split('<form id="bulk-form" method="post" action="/customers/bulk"')[1].split("</form>")[0]
    assert 'name="csrf_token"' in form and '<table id="customers">' in form
    assert '<input type="hidden" name="filter" value="cf.segment=smb">' in form
    assert re.findall(r'class="row-select" id="([^"]+)" name="ids" value="([^"]+)"', form) == [
        ("select-row-1", "cus_demo_acme"), ("select-row-2", "cus_demo_umbrella")]
    assert '<label class="visually-hidden" for="select-row-1">Select cus_demo_acme</label>' in form
    assert 'id="select-page"' in form and 'id="selected-count" class="muted" aria-live="polite"' in form
    assert re.search(r'id="select-all-matching" name="all_matching" value="1"[^>]*> Select all 2 matching',
                     form)
    assert '<option value="workflow">Assign a workflow</option>' in form
    assert '<option value="managers">Assign account managers</option>' in form
    assert '<button type="submit" id="bulk-go">Continue…</button>' in form
    assert 'id="bulk-form"' not in get(as_ops, "/customers")


def save(client, name: str, query: str, **extra: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": page_csrf(client, "/customers"), "name": name, "query": query, **extra}
    return client.post("/customers/views", data=data)


def view_id(answer) -> int:  # type: ignore[no-untyped-def]
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    return int(parse_qs(urlsplit(answer.headers["Location"]).query)["view"][0])


def test_a_saved_view_opens_with_its_query_and_is_marked_current(as_admin, demo):  # type: ignore[no-untyped-def]
    answer = save(as_admin, "  SMB   by name ", "cf.segment=smb&sort=-name&cols=email,name&offset=50&view=3")
    number = view_id(answer)
    location = answer.headers["Location"]
    assert parse_qs(urlsplit(location).query) == {
        "cf.segment": ["smb"], "sort": ["-name"], "cols": ["email,name"], "view": [str(number)]}
    page = get(as_admin, location)
    assert listed(page) == ["cus_demo_umbrella", "cus_demo_acme"]
    assert headers(page) == ["external_id", "email", "name"]
    assert f'id="current-view" class="current-view" data-view="{number}"' in page
    mine = page.split('id="my-views"')[1].split("</ul>")[0]
    assert re.search(rf'<li data-view="{number}">\s*<a href="[^"]*view={number}" aria-current="true">'
                     r"SMB by name</a>", mine)
    assert 'id="view-changed"' not in page
    changed = get(as_admin, location + "&q=umbrella")
    assert 'id="view-changed"' in changed and 'id="update-view"' in changed


def test_bad_view_queries_are_refused_and_nothing_is_saved(as_admin, demo):  # type: ignore[no-untyped-def]
    assert save(as_admin, "bad", "sort=shoe_size").status_code == 400
    assert save(as_admin, "bad", "colour=red").status_code == 400
    assert save(as_admin, "", "q=acme").status_code == 422
    page = get(as_admin, "/customers")
    assert "None yet" in page.split('id="my-views"')[1].split("</ul>")[0]


def test_a_duplicate_name_is_a_409_on_the_page_unless_replaced(as_admin, demo):  # type: ignore[no-untyped-def]
    first = view_id(save(as_admin, "Mine", "q=acme"))
    again = save(as_admin, "Mine", "q=globex")
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert 'id="save-view-error" class="alert" role="alert"' in page and "already have a view named" in page
    assert '<details id="saved-views" class="card" open>' in page and listed(page) == ["cus_demo_globex"]
    replaced = save(as_admin, "Mine", "q=globex", replace="1")
    assert view_id(replaced) == first
    assert listed(get(as_admin, replaced.headers["Location"])) == ["cus_demo_globex"]


def test_shared_views_are_seen_by_the_team_private_ones_are_not(app, as_admin, demo):  # type: ignore[no-untyped-def]
    shared = view_id(save(as_admin, "Team smb", "cf.segment=smb", shared="1"))
    private = view_id(save(as_admin, "Just me", "q=acme"))
    other = sign_in_as(app, demo, "second.admin@example.com")
    page = get(other, "/customers")
    assert f'data-view="{shared}"' in page.split('id="shared-views"')[1].split("</ul>")[0]
    assert "by finance.admin@example.com" in page
    assert f'data-view="{private}"' not in page and "Just me" not in page
    opened = get(other, f"/customers?cf.segment=smb&view={shared}")
    assert "shared by finance.admin@example.com" in opened and 'id="update-view"' not in opened
    assert other.get(f"/customers?q=acme&view={private}").status_code == 404
    token = page_csrf(other, "/customers")
    assert other.post(f"/customers/views/{shared}/delete", data={"csrf_token": token}).status_code == 403
    assert other.post(f"/customers/views/{private}/delete", data={"csrf_token": token}).status_code == 404
    assert other.post(f"/customers/views/{shared}", data={"csrf_token": token, "name": "Mine now"}
                      ).status_code == 403
    assert "Team smb" in get(as_admin, "/customers")


def test_the_owner_updates_and_deletes_a_view(as_admin, demo):  # type: ignore[no-untyped-def]
    number = view_id(save(as_admin, "Acme", "q=acme"))
    token = page_csrf(as_admin, "/customers")
    updated = as_admin.post(f"/customers/views/{number}", data={
        "csrf_token": token, "name": "Globex now", "shared": "1", "query": "q=globex&offset=50"})
    assert view_id(updated) == number
    page = get(as_admin, updated.headers["Location"])
    assert listed(page) == ["cus_demo_globex"] and "Globex now" in page and "badge\">shared" in page
    gone = as_admin.post(f"/customers/views/{number}/delete", data={"csrf_token": token})
    assert gone.status_code == 303 and gone.headers["Location"] == "/customers"
    assert as_admin.get(f"/customers?q=globex&view={number}").status_code == 404


def test_view_forms_require_the_csrf_token(as_admin, demo):  # type: ignore[no-untyped-def]
    assert as_admin.post("/customers/views", data={"name": "x", "query": "q=acme"}).status_code == 403
    number = view_id(save(as_admin, "Kept", "q=acme"))
    forged = {"csrf_token": "forged"}
    assert as_admin.post(f"/customers/views/{number}/delete", data=forged).status_code == 403
    assert as_admin.post(f"/customers/views/{number}", data={"name": "y"}).status_code == 403
    assert "Kept" in get(as_admin, "/customers")


def test_percent_and_underscore_in_the_search_are_text_not_wildcards(as_admin):  # type: ignore[no-untyped-def]
    assert listed(get(as_admin, "/customers?q=%25")) == []  # "%" matched every customer before
    assert listed(get(as_admin, "/customers?q=o_a")) == ["cus_demo_acme"]  # "demo_acme", not "o?a"


def test_an_account_manager_is_offered_only_the_custom_fields_of_their_own_customers(as_manager, demo):  # type: ignore[no-untyped-def]
    forget_custom_field_keys(demo)
    form = get(as_manager, "/customers").split('id="filters"')[1].split("</form>")[0]
    assert 'name="cf.segment"' in form
    assert 'name="cf.risk"' not in form  # only umbrella, carla's customer, has a risk
