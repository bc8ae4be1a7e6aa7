"""API keys over the API (admins): create (the key is shown once), list (never the key), revoke."""

from __future__ import annotations

from flask import Blueprint

from hub.context import current_hub
from hub.services.directory import keys as svc
from hub.web.api.declare import BY_ID, Api, Param, Reply, Route
from hub.web.api.shapes import array_of, ref
from hub.web.presenters.keys import key_dict, new_key_dict

bp = Blueprint("keys", __name__)
api = Api(bp)
KEY_ID = Param("id", description="The key's id, or the prefix shown when it was created", max_length=64)


@api.route(Route("post", "/keys", "Create an API key; the answer is the only time the key is shown",
                 "keys", ("admin",), {201: Reply("The key, with its secret once", ref("NewKey"),
                                                 links={"RevokeKey": ("delete_keys_id", BY_ID)})},
                 body="api/key_create.schema.json"))
def create_key(body: dict):
    key, raw = svc.issue_key(current_hub(), body["name"].strip(), body["role"], body.get("user"))
    return new_key_dict(key, raw), 201


@api.route(Route("get", "/keys", "List API keys (prefix, role, when created or revoked; never the key)",
                 "keys", ("admin",), {200: Reply("Every key", array_of("keys", "Key"))}))
def list_keys():
    return {"keys": [key_dict(k) for k in svc.list_keys(current_hub())]}


@api.route(Route("delete", "/keys/{id}", "Revoke an API key (at once, for every process)", "keys",
                 ("admin",), {200: Reply("The revoked key", ref("Key"))}, path_params=(KEY_ID,),
                 errors=(404,)))
def revoke_key(id: str):
    return key_dict(svc.revoke_key(current_hub(), id))
