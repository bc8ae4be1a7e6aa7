"""A server process loads the recipes as it starts (no request pays for it), then freezes its heap."""

from __future__ import annotations

import gc
import logging
from pathlib import Path

from hub.web import prepare_server_process

RECIPE = """\
name: tag-everyone
trigger: {connector: stripe, events: [customer.updated]}
steps:
  - set_custom_field: {key: seen, value: true}
"""


def test_the_recipes_are_loaded_before_any_request_then_the_heap_frozen(app, hub, monkeypatch):  # type: ignore[no-untyped-def]
    frozen_after: list[tuple] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen_after.append(hub.recipes.loaded.recipes))
    folder = Path(hub.settings.recipes_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "card.yaml").write_text(RECIPE)
    assert hub.recipes.loaded.recipes == ()
    prepare_server_process(app).join(timeout=30)
    assert [r.name for r in hub.recipes.loaded.recipes] == ["tag-everyone"], hub.recipes.loaded.problems
    assert [len(recipes) for recipes in frozen_after] == [1]  # frozen once, after the load


def test_a_failed_load_is_logged_and_the_heap_still_frozen(app, hub, monkeypatch, caplog):  # type: ignore[no-untyped-def]
    frozen: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))

    def database_down():  # type: ignore[no-untyped-def]
        raise ConnectionError("database not up yet")

    monkeypatch.setattr(hub.recipes, "current", database_down)
    with caplog.at_level(logging.WARNING, logger="hub.web"):
        prepare_server_process(app).join(timeout=30)
    assert "could not load the recipes at start-up" in caplog.text and frozen == [True]
