"""`hub keys create|list|revoke`: API keys; a new one is printed once (only its hash is stored)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from hub.cli import hub_of_app
from hub.services.directory.keys import ROLES, create_key, list_keys, revoke_key
from hub.services.representation import iso


@click.group(cls=AppGroup)
def keys() -> None:
    """API keys."""


@keys.command()
@click.option("--name", required=True, help="What the key is for, e.g. 'stripe-relay'.")
@click.option("--role", type=click.Choice(ROLES), default="integration", show_default=True)
@click.option("--user", "user_email", help="The user an account_manager key is bound to.")
def create(name: str, role: str, user_email: str | None) -> None:
    """Create an API key and print it once."""
    with hub_of_app().uow() as uow:
        key, raw = create_key(uow.session, name, role, user_email)
        uow.commit()
    click.echo(raw)
    click.echo(f"created key {key.id} ({role}); store it now, it is not shown again", err=True)


@keys.command("list")
def list_command() -> None:
    """List API keys: id, prefix, role, name, created, revoked (never the key itself)."""
    with hub_of_app().uow(read_only=True) as uow:
        rows = list_keys(uow.session)
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
    with hub_of_app().uow() as uow:
        key = revoke_key(uow.session, key_id)
        uow.commit()
        click.echo(f"revoked key {key.id} ({key.name}) at {iso(key.revoked_at)}")
