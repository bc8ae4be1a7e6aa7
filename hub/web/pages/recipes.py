"""The recipe pages: the loaded set with its validation state, one recipe's YAML, versions, diff
and test cases, and dry runs on a stored inbox event (which change nothing)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from hub.context import current_hub
from hub.services.recipes import dry_runs
from hub.services.recipes import versions as svc
from hub.web.pages.access import OPS_READERS, allow
from hub.web.pages.query import integer, read_query, text

bp = Blueprint("recipes", __name__)
EVENT_ID = integer(1)
LIST_QUERY = {"recipe": text(200), "event": EVENT_ID}
DETAIL_QUERY = {"from": integer(1), "to": integer(1), "event": EVENT_ID}


def tried(recipe: str | None, event_id: int | None) -> dry_runs.DryRun | None:
    """A dry run when the form names both a recipe and an event; the inbox links with the event only."""
    if not recipe or event_id is None:
        return None
    return dry_runs.dry_run(current_hub(), recipe, None, event_id)


@bp.get("/recipes")
@allow(*OPS_READERS)
def recipe_list():
    values = read_query(LIST_QUERY)
    overview = svc.recipe_overview(current_hub())
    return render_template("recipes/list.html", nav="Recipes", overview=overview, values=values,
                           names=overview.names, dry_run=tried(values["recipe"], values["event"]))


@bp.get("/recipes/<name>")
@allow(*OPS_READERS)
def recipe_page(name: str):
    values = read_query(DETAIL_QUERY)
    page = svc.recipe_page(current_hub(), name[:200], values["from"], values["to"])
    loaded = page.detail.current is not None
    return render_template("recipes/detail.html", nav="Recipes", page=page, detail=page.detail,
                           values=values, names=[name] if loaded else [],
                           dry_run=tried(name if loaded else None, values["event"]),
                           default_pair=default_pair(page))


def default_pair(page: svc.RecipePage) -> dict[str, Any]:
    """The two versions the compare form starts with: the shown diff, else the newest two."""
    if page.diff is not None:
        return {"from": page.diff.old, "to": page.diff.new}
    numbers = [v.version for v in page.detail.versions]
    return {"from": numbers[1] if len(numbers) > 1 else None, "to": numbers[0] if numbers else None}
