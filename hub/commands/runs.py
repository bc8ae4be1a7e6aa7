"""`hub runs list|replay`: the run log from the shell."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from hub.context import current_hub
from hub.errors import NotFound
from hub.services.processing.replay import replay_run
from hub.services.queries import runs as svc


@click.group(cls=AppGroup)
def runs() -> None:
    """Inspect and replay recipe runs."""


@runs.command("list")
@click.option("--status")
@click.option("--connection")
@click.option("--recipe")
@click.option("--customer", help="Customer external id.")
@click.option("--error-class", type=click.Choice(["retryable", "config", "invalid"]))
@click.option("--since", help="RFC 3339 time.")
@click.option("--resolved", type=click.Choice(svc.RESOLVED_CHOICES),
              help="Failed runs a replay has resolved: false (the default with --status failed), "
                   "true, or any.")
@click.option("--limit", type=int, default=50, show_default=True)
def list_command(limit: int, **filters: str | None) -> None:
    """List runs, newest first."""
    flt = svc.RunFilter.from_mapping({k: v for k, v in filters.items() if v})
    found = svc.list_runs(current_hub(), flt, 0, limit)
    click.echo(f"{'ID':>7}  {'STATUS':<9} {'CLASS':<9} {'RECIPE':<40} {'CUSTOMER':<22} MESSAGE")
    for r in found.items:
        recipe = (r.recipe_name or "(event)") + (f" v{r.recipe_version}" if r.recipe_version else "")
        resolved = f"(resolved by run {r.resolved_by_id}) " if r.resolved_by_id else ""
        message = resolved + (r.message or "")
        click.echo(f"{r.id:>7}  {r.status:<9} {r.error_class or '':<9} {recipe:<40} "
                   f"{r.customer_external_id or '':<22} {message[:80]}")
    click.echo(f"{len(found.items)} of {found.total} run(s)")


@runs.command()
@click.argument("run_id", type=int)
@click.option("--version", type=click.Choice(["current", "original"]), default="current", show_default=True)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
def replay(run_id: int, version: str, dry_run: bool) -> None:
    """Replay run RUN_ID as a new attempt linked to it."""
    try:
        result = replay_run(current_hub(), run_id, version=version, dry_run=dry_run)
    except NotFound as exc:
        if exc.code != "run_not_found":
            raise  # a recipe version that is not stored: its message says so
        raise click.ClickException(f"{exc.message}: `hub runs list` shows the run ids") from exc
    for run in result.runs:
        click.echo(f"run {run.id}: {run.status} — {run.message}")
        for update in run.updates or []:
            click.echo(f"  {update.get('field')}: {update.get('outcome', 'planned')} "
                       f"{json.dumps(update.get('new', update.get('value')))}")
    if dry_run:
        click.echo("dry run: nothing was written")
