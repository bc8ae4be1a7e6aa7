"""API keys: never the key itself, except once in the answer that creates it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.presentation import iso

if TYPE_CHECKING:
    from hub.db.models import ApiKey


def key_dict(k: ApiKey) -> dict[str, Any]:
    return {
        "id": k.id,
        "name": k.name,
        "prefix": k.prefix,
        "role": k.role,
        "userId": k.user_id,
        "createdAt": iso(k.created_at),
        "revokedAt": iso(k.revoked_at),
    }


def new_key_dict(k: ApiKey, raw: str) -> dict[str, Any]:
    return {**key_dict(k), "key": raw}
