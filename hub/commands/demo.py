"""`hub demo`: load demo workflows, users and customers."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from hub.cli import hub_of_app
from hub.services.demo import load_demo


@click.command()
@with_appcontext
def demo() -> None:
    """Load demo workflows, users and customers (skips what already exists)."""
    with hub_of_app().uow() as uow:
        created = load_demo(uow.session)
        uow.commit()
    click.echo(", ".join(f"{n} {what} created" for what, n in created.items()))
