"""`hub import FILE`: the CSV assignment import from the shell, with a progress bar."""

from __future__ import annotations

import getpass
import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from hub.cli import cli_message, hub_of_app
from hub.csvfile.columns import TARGETS
from hub.db.models.imports import IMPORT_FINISHED, IMPORT_QUEUED
from hub.errors import HubError
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
    hub = hub_of_app()
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
    counts = final["counts"]
    click.echo(f"import {row.id}: {final['status']} — {counts['updated']} updated, "
               f"{counts['unchanged']} unchanged, {counts['failed']} failed")
    if final["errorsUrl"]:
        click.echo(f"lines with errors: {final['errorsUrl']}")
    if final["status"] != "success":
        raise SystemExit(1)


def _mapping(maps: tuple[str, ...]) -> dict[str, str | None] | None:
    mapping: dict[str, str | None] = {}
    for item in maps:
        target, sep, header = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not TARGET=HEADER", param_hint="--map")
        mapping[target.strip()] = header.strip() or None
    return mapping or None


def _follow(hub: Hub, import_id: int) -> dict:
    """Poll the import row, drawing processed bytes against the file size."""
    hint_at = time.monotonic() + QUEUED_HINT_SECONDS
    with click.progressbar(length=100, label=f"import {import_id}") as bar:
        while True:
            with hub.uow() as uow:
                current = svc.import_dict(svc.get_import(uow.session, import_id))
            bar.update(int(current["progress"]["percent"]) - bar.pos)
            if current["status"] in IMPORT_FINISHED:
                return current
            if current["status"] == IMPORT_QUEUED and time.monotonic() > hint_at:
                click.echo("\nstill queued: is a worker running? (Ctrl-C stops waiting, not the "
                           "import)", err=True)
                hint_at = float("inf")  # say it once
            time.sleep(POLL_SECONDS)
