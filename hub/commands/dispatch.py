"""`hub dispatch`: an outbox dispatcher on its own, for a deployment that wants it apart from the
workers (each Celery worker runs one anyway unless HUB_DISPATCHER=false)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from hub.context import current_hub
from hub.services.ingest import dispatch as svc


@click.command("dispatch")
@click.option("--once", is_flag=True, help="Dispatch what is waiting, print how many, and exit.")
@with_appcontext
def dispatch(once: bool) -> None:
    """Hand stored webhook events to the workers (transactional outbox)."""
    hub = current_hub()
    if once:
        click.echo(f"dispatched {svc.dispatch_pending(hub)} events")
        return
    click.echo("dispatching stored events to the workers (Ctrl-C stops)")
    svc.run_forever(hub)
