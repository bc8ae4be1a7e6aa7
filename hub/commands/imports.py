"""`hub import FILE`: the CSV assignment import from the shell, with a progress bar."""

from __future__ import annotations

import getpass
import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from hub.commands.errors import cli_message
from hub.context import current_hub
from hub.csvfile.columns import TARGETS
from hub.db.models import CsvImport
from hub.db.models.imports import IMPORT_FINISHED, IMPORT_QUEUED
from hub.errors import HubError
from hub.presentation import errors_url, import_progress
from hub.services.hub import Hub
from hub.services.imports import upload as svc

POLL_SECONDS = 0.5
QUEUED_HINT_SECONDS = 10


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "maps", multiple=True, metavar="TARGET=HEADER",
              help=f"Read TARGET from column HEADER (targets: {', '.join(TARGETS)}); "
                   "an empty HEADER skips the target. Repeatable.")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Follow the import with a progress bar until the worker has finished.")
@with_appcontext
def import_command(file: Path, maps: tuple[str, ...], wait: bool) -> None:
    """Import workflow and account-manager assignments from a CSV FILE."""
    hub = current_hub()
    try:
        with file.open("rb") as stream:
            row = svc.create_import(hub, stream, file.name, _mapping(maps), f"cli:{getpass.getuser()}")
    except HubError as exc:
        raise click.ClickException(cli_message(exc)) from exc
    click.echo(f"import {row.id} queued ({row.total_bytes:,} bytes, columns: "
               f"{', '.join(f'{t} ← {h}' for t, h in row.column_map.items())})")
    if not wait:
        click.echo(f"follow it with: GET /api/v1/imports/{row.id}")
        return
    final = _follow(hub, row.id)
    click.echo(f"import {row.id}: {final.status} — {final.updated} updated, "
               f"{final.unchanged} unchanged, {final.failed} failed")
    if final.failed:
        click.echo(f"lines with errors: {errors_url(final.id)}")
    if final.status != "success":
        raise SystemExit(1)


def _mapping(maps: tuple[str, ...]) -> dict[str, str | None] | None:
    mapping: dict[str, str | None] = {}
    for item in maps:
        target, sep, header = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not TARGET=HEADER", param_hint="--map")
        mapping[target.strip()] = header.strip() or None
    return mapping or None


def _follow(hub: Hub, import_id: int) -> CsvImport:
    """Poll the import row, drawing processed bytes against the file size."""
    hint_at = time.monotonic() + QUEUED_HINT_SECONDS
    with click.progressbar(length=100, label=f"import {import_id}") as bar:
        while True:
            current = svc.read_import(hub, import_id)
            bar.update(int(import_progress(current)["percent"]) - bar.pos)
            if current.status in IMPORT_FINISHED:
                return current
            if current.status == IMPORT_QUEUED and time.monotonic() > hint_at:
                click.echo("\nstill queued: is a worker running? (Ctrl-C stops waiting, not the "
                           "import)", err=True)
                hint_at = float("inf")  # say it once
            time.sleep(POLL_SECONDS)
