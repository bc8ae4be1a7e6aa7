"""`hub demo`: load demo workflows, users and customers."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from hub.context import current_hub
from hub.services.demo import seed_demo


@click.command()
@with_appcontext
def demo() -> None:
    """Load demo workflows, users and customers (skips what already exists)."""
    created = seed_demo(current_hub())
    click.echo(", ".join(f"{n} {what} created" for what, n in created.items()))
