"""`hub keys create|list|revoke`: API keys; a new one is printed once (only its hash is stored)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from hub.context import current_hub
from hub.presentation import iso
from hub.services.directory.keys import ROLES, issue_key, list_keys, revoke_key


@click.group(cls=AppGroup)
def keys() -> None:
    """API keys."""


@keys.command()
@click.option("--name", required=True, help="What the key is for, e.g. 'billing-relay'.")
@click.option("--role", type=click.Choice(ROLES), default="integration", show_default=True)
@click.option("--user", "user_email", help="The user an account_manager key is bound to.")
def create(name: str, role: str, user_email: str | None) -> None:
    """Create an API key and print it once."""
    key, raw = issue_key(current_hub(), name, role, user_email)
    click.echo(raw)
    click.echo(f"created key {key.id} ({role}); store it now, it is not shown again", err=True)


@keys.command("list")
def list_command() -> None:
    """List API keys: id, prefix, role, name, created, revoked (never the key itself)."""
    rows = list_keys(current_hub())
    for key in rows:
        state = f"revoked {iso(key.revoked_at)}" if key.revoked_at else "active"
        click.echo(f"{key.id}  {key.prefix}…  {key.role:<15} {key.name}  created {iso(key.created_at)}  "
                   f"{state}")
    if not rows:
        click.echo("no API keys (the bootstrap HUB_ADMIN_API_KEY is not stored)", err=True)


@keys.command()
@click.argument("key_id")
def revoke(key_id: str) -> None:
    """Revoke the key with this id or prefix, at once for every process."""
    key = revoke_key(current_hub(), key_id)
    click.echo(f"revoked key {key.id} ({key.name}) at {iso(key.revoked_at)}")
