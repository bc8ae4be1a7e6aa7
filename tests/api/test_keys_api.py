"""API keys over the API: created and shown once, listed without secrets, revoked at once."""

from __future__ import annotations

from tests.factories import make_user


def test_a_key_is_shown_once_works_and_stops_working_when_revoked(client, admin):  # type: ignore[no-untyped-def]
    created = client.post("/api/v1/keys", json={"name": "erp sync", "role": "integration"}, headers=admin)
    assert created.status_code == 201
    raw = created.json["key"]
    assert raw.startswith("hub_") and created.json["prefix"] == raw[:10]
    own = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/workflows", headers=own).status_code == 200

    listed = client.get("/api/v1/keys", headers=admin)
    assert listed.status_code == 200
    assert [k["name"] for k in listed.json["keys"]] == ["erp sync"]
    assert raw not in listed.get_data(as_text=True) and "key" not in listed.json["keys"][0]

    revoked = client.delete(f"/api/v1/keys/{created.json['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json["revokedAt"]
    assert client.get("/api/v1/workflows", headers=own).status_code == 401
    again = client.delete(f"/api/v1/keys/{created.json['prefix']}", headers=admin)  # by prefix, twice
    assert again.status_code == 200 and again.json["revokedAt"] == revoked.json["revokedAt"]


def test_only_admins_manage_keys(client, admin):  # type: ignore[no-untyped-def]
    raw = client.post("/api/v1/keys", json={"name": "ci", "role": "integration"}, headers=admin).json["key"]
    integration = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/keys", headers=integration).status_code == 403
    assert client.post("/api/v1/keys", json={"name": "x", "role": "admin"}, headers=integration).status_code == 403
    assert client.get("/api/v1/keys").status_code == 401


def test_bad_key_requests_are_4xx(client, admin, hub):  # type: ignore[no-untyped-def]
    assert client.delete("/api/v1/keys/nope", headers=admin).status_code == 404
    assert client.post("/api/v1/keys", json={"name": "x", "role": "root"}, headers=admin).status_code == 422
    no_user = client.post("/api/v1/keys", json={"name": "ann", "role": "account_manager"}, headers=admin)
    assert no_user.status_code == 422
    make_user(hub, "ann@example.com")
    ann = client.post("/api/v1/keys", json={"name": "ann", "role": "account_manager", "user": "Ann@Example.com"},
                      headers=admin)
    assert ann.status_code == 201 and ann.json["userId"]
