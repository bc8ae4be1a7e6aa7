"""`hub keys create`: a new API key, printed once (only its hash is stored)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from hub.cli import hub_of_app
from hub.services.keys import ROLES, create_key


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
