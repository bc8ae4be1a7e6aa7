"""The recipes the hub runs: loaded from HUB_RECIPES_DIR, every version kept in the database.

The folder is loaded all or nothing (see hub.recipes.loader). A folder that no longer loads
leaves the last good set running and its problems visible in GET /api/v1/recipes: the set this
process loaded, or, in a process that never loaded one (a worker started after the folder
broke), the set the database marks current, checked again against today's workflows, users and
connections. Files are re-checked at most every ``CHECK_SECONDS`` (mtime and size), or at once
on `hub recipes reload`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.db.models import RecipeVersion, User
from hub.recipes import (
    InMemoryCatalog,
    LoadOptions,
    Problem,
    Recipe,
    check_recipe_dir,
    check_recipe_text,
    order_recipes,
)
from hub.services.directory.workflows import workflows_by_name
from hub.services.hub import Hub

log = logging.getLogger(__name__)
CHECK_SECONDS = 2.0


@dataclass(frozen=True)
class LoadedRecipes:
    recipes: tuple[Recipe, ...] = ()
    versions: dict[str, int] = field(default_factory=dict)  # name -> version number
    problems: tuple[Problem, ...] = ()  # of the last attempt (may be a refused folder)
    refused: bool = False


def database_catalog(session: Session) -> InMemoryCatalog:
    workflows = {name: w.id for name, w in workflows_by_name(session).items()}
    return InMemoryCatalog(workflows=workflows, users=tuple(session.scalars(select(User.email))))


def read_catalog(hub: Hub) -> InMemoryCatalog:
    """The workflows and users recipes may name, in a read-only transaction of its own."""
    with hub.uow(read_only=True) as uow:
        return database_catalog(uow.session)


class RecipeStore:
    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._loaded = LoadedRecipes()
        self._signature: tuple | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    @property
    def folder(self) -> Path:
        return Path(self._hub.settings.recipes_dir)

    @property
    def loaded(self) -> LoadedRecipes:
        """The last outcome, without re-checking the folder (which needs the database)."""
        return self._loaded

    def current(self) -> LoadedRecipes:
        """The recipes to run now, reloaded first when their files changed.

        Until a first load has finished, every caller waits for it (under the lock): a thread
        that came in while another was loading used to get the empty set, and ran no recipe."""
        if self._signature is None or time.monotonic() - self._checked_at >= CHECK_SECONDS:
            self.reload()
        return self._loaded

    def reload(self, force: bool = False) -> LoadedRecipes:
        with self._lock:
            self._checked_at = time.monotonic()
            signature = _folder_signature(self.folder)
            if signature == self._signature and not force:
                return self._loaded
            self._loaded = self._load()
            self._signature = signature  # only once loaded: a load the database broke is retried
            return self._loaded

    def _load(self) -> LoadedRecipes:
        connections = self._hub.connections.connectors_by_name()
        with self._hub.uow() as uow:
            options = LoadOptions(catalog=database_catalog(uow.session), connections=connections)
            recipe_set = check_recipe_dir(self.folder, options=options)
            if not recipe_set.ok:
                return self._refused(uow.session, recipe_set.problems, options)
            versions = {r.name: record_version(uow.session, r, recipe_set.problems)
                        for r in recipe_set.recipes}
            mark_current(uow.session, versions)
            uow.commit()
        log.info("loaded %d recipes from %s", len(recipe_set.recipes), self.folder)
        return LoadedRecipes(recipe_set.recipes, versions, recipe_set.problems)

    def _refused(self, session: Session, problems: tuple[Problem, ...],
                 options: LoadOptions) -> LoadedRecipes:
        """The last good set, still running while the folder is refused (see the docstring)."""
        kept = self._loaded if self._loaded.recipes else stored_recipes(session, options)
        errors = "; ".join(str(p) for p in problems if p.is_error)
        if kept.recipes:
            log.error("recipes in %s refused; keeping the last good set (%d recipes): %s",
                      self.folder, len(kept.recipes), errors)
        else:
            log.error("recipes in %s refused and no good set was ever loaded: events fail "
                      "until the folder is fixed: %s", self.folder, errors)
        return LoadedRecipes(kept.recipes, kept.versions, problems, refused=True)


def stored_recipes(session: Session, options: LoadOptions) -> LoadedRecipes:
    """The set the database marks current, loaded again with the versions it had.

    Checked with today's catalog and connections. A recipe that no longer loads is dropped
    with a logged error and the others keep running: failing every event until someone fixes
    the folder would be worse than running the set without it.
    """
    rows = session.scalars(select(RecipeVersion).where(RecipeVersion.is_current.is_(True))
                           .order_by(RecipeVersion.name, RecipeVersion.version.desc()))
    recipes: list[Recipe] = []
    versions: dict[str, int] = {}
    seen: set[str] = set()
    for row in rows:
        if row.name in seen:  # two loads marked at once: the newer version of it wins
            continue
        seen.add(row.name)
        result = check_recipe_text(row.content, file=row.path or row.name, options=options)
        if result.recipe is None:
            log.error("stored recipe %s v%d no longer loads and is dropped: %s", row.name,
                      row.version, "; ".join(str(p) for p in result.errors))
            continue
        recipes.append(result.recipe)
        versions[row.name] = row.version
    return LoadedRecipes(order_recipes(recipes), versions)


def record_version(session: Session, recipe: Recipe, problems: tuple[Problem, ...]) -> int:
    """The version number of this content, adding a new version when the content is new."""
    for _ in range(3):  # several processes may load the same new content at once
        found = session.scalar(select(RecipeVersion.version).where(
            RecipeVersion.name == recipe.name, RecipeVersion.content_hash == recipe.content_hash))
        if found is not None:
            return found
        latest = session.scalar(select(func.max(RecipeVersion.version))
                                .where(RecipeVersion.name == recipe.name)) or 0
        mine = [p.to_dict() for p in problems if p.file == recipe.file]
        try:
            with session.begin_nested():
                session.add(RecipeVersion(name=recipe.name, version=latest + 1, path=recipe.file,
                                          content_hash=recipe.content_hash, content=recipe.text,
                                          problems=mine))
            return latest + 1
        except IntegrityError:
            continue
    raise RuntimeError(f"could not record a version of recipe {recipe.name}")


def mark_current(session: Session, versions: dict[str, int]) -> None:
    session.execute(update(RecipeVersion).where(RecipeVersion.is_current.is_(True))
                    .values(is_current=False))
    for name, version in versions.items():
        session.execute(update(RecipeVersion).where(RecipeVersion.name == name,
                                                    RecipeVersion.version == version)
                        .values(is_current=True))


def _folder_signature(folder: Path) -> tuple:
    if not folder.is_dir():
        return ()
    return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                        for p in folder.iterdir() if p.suffix in (".yaml", ".yml")))
