"""`hub demo`: load demo workflows, users and customers."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from hub.context import current_hub
from hub.services.demo import DEMO_ADMIN, seed_demo
from hub.services.directory.sign_in import set_password


@click.command()
@with_appcontext
def demo() -> None:
    """Load demo workflows, users and customers (skips what already exists)."""
    created = seed_demo(current_hub())
    click.echo(", ".join(f"{n} {what} created" for what, n in created.items()))
    password = current_hub().settings.demo_admin_password
    if password:  # `make run`: HUB_DEMO_ADMIN_PASSWORD from .env, so the printed sign-in works
        set_password(current_hub(), DEMO_ADMIN, password)
        click.echo(f"demo admin {DEMO_ADMIN} can sign in with HUB_DEMO_ADMIN_PASSWORD")
