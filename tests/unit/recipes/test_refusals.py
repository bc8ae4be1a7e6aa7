"""The "must show" refusals: each invalid recipe is refused with file and line, nothing loaded."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from hub.recipes import (
    LoadOptions,
    RecipeLoadError,
    check_recipe_dir,
    check_recipe_file,
    load_recipe_dir,
    load_recipe_file,
)


def _errors(path: Path, **options):
    result = check_recipe_file(path, options=LoadOptions(**options))
    return result, [p for p in result.problems if p.is_error]


def test_unknown_key_is_refused_with_line_and_suggestion(fixtures_dir):
    path = fixtures_dir / "unknown_key.yaml"
    result, errors = _errors(path)
    assert result.recipe is None
    (error,) = errors
    assert (error.file, error.line) == (str(path), 9)
    assert "defualt" in error.message
    assert error.suggestion == "default"
    assert str(error).startswith(f"{path}:9: error:")


def test_wrong_types_are_refused_with_each_line(fixtures_dir):
    result, errors = _errors(fixtures_dir / "wrong_type.yaml")
    assert result.recipe is None
    assert [(e.line, e.message) for e in errors] == [
        (4, "trigger.events must be array, not string"),
        (5, "order must be integer, not string"),
    ]


def test_unknown_operator_is_refused_with_line_and_suggestion(fixtures_dir):
    _, errors = _errors(fixtures_dir / "unknown_operator.yaml")
    (error,) = errors
    assert error.line == 8
    assert error.message == "unknown operator 'equal'"
    assert error.suggestion == "equals"


def test_python_tag_is_refused_and_never_constructed(fixtures_dir, tmp_path):
    marker = Path("/tmp/hub-recipe-pwned")
    marker.unlink(missing_ok=True)
    _, errors = _errors(fixtures_dir / "python_tag.yaml")
    (error,) = errors
    assert error.line == 6
    assert "!!python/object/apply:os.system" in error.message
    assert "not allowed" in error.message
    assert not marker.exists()


def test_alias_bomb_is_refused_at_once_without_expanding(fixtures_dir):
    started = time.perf_counter()
    _, errors = _errors(fixtures_dir / "alias_bomb.yaml")
    assert time.perf_counter() - started < 1.0
    (error,) = errors
    assert error.line == 3  # the first anchor
    assert "anchors and aliases" in error.message


def test_missing_workflow_in_a_switch_case_is_a_warning_by_default(fixtures_dir,
                                                                   shipped_catalog):
    path = fixtures_dir / "missing_workflow.yaml"
    result = check_recipe_file(path, options=LoadOptions(catalog=shipped_catalog))
    assert result.ok
    (warning,) = result.warnings
    assert warning.line == 9
    assert warning.severity == "warning"
    assert "workflow 'Direct debits' does not exist" in warning.message
    assert warning.suggestion == "Direct debit"


def test_missing_workflow_in_a_switch_case_is_an_error_when_strict(fixtures_dir,
                                                                   shipped_catalog):
    path = fixtures_dir / "missing_workflow.yaml"
    options = LoadOptions(catalog=shipped_catalog, strict=True)
    with pytest.raises(RecipeLoadError) as refused:
        load_recipe_file(path, options=options)
    (error,) = refused.value.problems
    assert (error.line, error.severity) == (9, "error")
    assert refused.value.error_class == "invalid"
    assert refused.value.details[0]["line"] == 9


@pytest.mark.parametrize("name", ["unknown_key", "wrong_type", "unknown_operator",
                                  "python_tag", "alias_bomb"])
def test_invalid_recipe_raises_and_loads_nothing(fixtures_dir, name):
    with pytest.raises(RecipeLoadError) as refused:
        load_recipe_file(fixtures_dir / f"{name}.yaml")
    assert refused.value.problems
    assert all(p.file.endswith(f"{name}.yaml") and p.line for p in refused.value.problems)


def test_a_folder_with_one_invalid_recipe_loads_none_of_them(fixtures_dir, tmp_path):
    shutil.copy(fixtures_dir / "valid.yaml", tmp_path / "a-valid.yaml")
    shutil.copy(fixtures_dir / "unknown_operator.yaml", tmp_path / "b-broken.yaml")
    recipe_set = check_recipe_dir(tmp_path)
    assert not recipe_set.ok
    assert recipe_set.recipes == ()
    assert [r.ok for r in recipe_set.results] == [True, False]
    with pytest.raises(RecipeLoadError, match="b-broken.yaml:8"):
        load_recipe_dir(tmp_path)


def test_a_folder_of_valid_recipes_loads_in_order(fixtures_dir, tmp_path):
    shutil.copy(fixtures_dir / "valid.yaml", tmp_path / "valid.yml")
    (tmp_path / "notes.txt").write_text("not a recipe")
    (recipe,) = load_recipe_dir(tmp_path)
    assert recipe.name == "valid"


def test_two_recipes_with_one_name_are_refused(fixtures_dir, tmp_path):
    shutil.copy(fixtures_dir / "valid.yaml", tmp_path / "one.yaml")
    shutil.copy(fixtures_dir / "valid.yaml", tmp_path / "two.yaml")
    with pytest.raises(RecipeLoadError, match="already used"):
        load_recipe_dir(tmp_path)


def test_missing_folder_and_unreadable_file_are_reported(tmp_path):
    assert not check_recipe_dir(tmp_path / "nope").ok
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("name: caf\xe9\n".encode("latin-1"))
    result = check_recipe_file(bad)
    assert not result.ok
    assert "cannot read" in result.problems[0].message
