"""`hub recipes validate|test|reload`: recipes checked and tested like code."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from hub.context import current_hub
from hub.errors import HubError
from hub.recipes import LoadOptions, check_recipe_dir, check_recipe_file, evaluate, run_all_tests
from hub.services.recipes.store import read_catalog


@click.group(cls=AppGroup)
def recipes() -> None:
    """Validate, test and reload recipes."""


def _options(strict: bool) -> LoadOptions:
    """With the database reachable, workflows and users are checked too (warnings)."""
    hub = current_hub()
    connections = hub.connections.connectors_by_name()
    try:
        return LoadOptions(catalog=read_catalog(hub), strict=strict, connections=connections)
    except HubError as exc:
        click.echo(f"note: database not reachable ({exc.code}); workflows and users not checked",
                   err=True)
    except Exception as exc:  # a missing table on a fresh checkout means the same
        click.echo(f"note: database not usable ({type(exc).__name__}); workflows and users not checked",
                   err=True)
    return LoadOptions(strict=strict, connections=connections)


@recipes.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--strict", is_flag=True, help="Warnings (missing workflows, uncovered switches) fail too.")
def validate(paths: tuple[Path, ...], strict: bool) -> None:
    """Check recipe files or folders (default: HUB_RECIPES_DIR); exit status 1 on errors."""
    options = _options(strict)
    targets = paths or (Path(current_hub().settings.recipes_dir),)
    problems: list = []
    count = 0
    for target in targets:
        if target.is_dir():
            result = check_recipe_dir(target, options=options)
            problems += result.problems
            count += len(result.results)
        else:
            one = check_recipe_file(target, options=options)
            problems += one.problems
            count += 1
    for problem in problems:
        click.echo(str(problem))
    errors = sum(1 for p in problems if p.is_error)
    click.echo(f"{count} recipe file(s), {errors} error(s), {len(problems) - errors} warning(s)")
    sys.exit(1 if errors else 0)


@recipes.command("test")
@click.argument("name", required=False)
@click.argument("event_file", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--all", "run_all", is_flag=True, help="Run every recipe's own test cases.")
def test_command(name: str | None, event_file: Path | None, run_all: bool) -> None:
    """Evaluate recipe NAME on EVENT_FILE (prints trace and plan), or run all test cases.

    Works without a database, so integrators can run it in their own CI."""
    loaded = check_recipe_dir(current_hub().settings.recipes_dir, options=LoadOptions())
    if any(p.is_error for p in loaded.problems):
        for problem in loaded.problems:
            click.echo(str(problem), err=True)
        sys.exit(1)
    if run_all:
        _run_cases(loaded.recipes, name)
        return
    if not name or not event_file:
        raise click.UsageError("give NAME and EVENT_FILE, or --all")
    recipe = next((r for r in loaded.recipes if r.name == name), None)
    if recipe is None:
        raise click.ClickException(f"no recipe named {name!r}")
    evaluation = evaluate(recipe, json.loads(event_file.read_text()), None)
    click.echo(json.dumps(evaluation.to_dict(), indent=2, default=str))


def _run_cases(recipes, name: str | None) -> None:  # type: ignore[no-untyped-def]
    chosen = [r for r in recipes if name is None or r.name == name]
    results = run_all_tests(chosen)
    for result in results:
        click.echo(str(result))
    failed = len([r for r in results if not r.passed])
    click.echo(f"{len(results)} test case(s), {failed} failed")
    sys.exit(1 if failed else 0)


@recipes.command()
def reload() -> None:
    """Reload recipes from HUB_RECIPES_DIR now and record new versions."""
    loaded = current_hub().recipes.reload(force=True)
    for problem in loaded.problems:
        click.echo(str(problem))
    state = "refused (previous set kept)" if loaded.refused else "loaded"
    click.echo(f"{len(loaded.recipes)} recipe(s) {state}: "
               + ", ".join(f"{n} v{v}" for n, v in loaded.versions.items()))
    sys.exit(1 if loaded.refused else 0)
