"""The safe YAML layer: lines for every key and item, YAML 1.2 words, refusals with lines."""

from __future__ import annotations

import pytest

from hub.recipes.yaml_loader import MAX_BYTES, SeqKey, YamlMap, YamlRefused, parse_yaml, to_plain


def _refusal(text: str):
    with pytest.raises(YamlRefused) as refused:
        parse_yaml(text, "f.yaml")
    return refused.value.problems


def test_every_key_and_item_keeps_its_line():
    doc = parse_yaml("a: 1\nb:\n  - x\n  - {c: 2}\n", "f.yaml")
    assert isinstance(doc, YamlMap)
    assert (doc.line_of("a"), doc.line_of("b")) == (1, 2)
    assert doc["b"].item_lines == [3, 4]
    assert doc["b"][1].line_of("c") == 4
    assert to_plain(doc) == {"a": 1, "b": ["x", {"c": 2}]}


def test_flow_list_keys_become_seq_keys():
    doc = parse_yaml("[sepa_debit, ach_debit]: x\ncard: y\n", "f.yaml")
    assert list(doc) == [SeqKey(("sepa_debit", "ach_debit")), "card"]


def test_yes_no_on_off_stay_words_and_dates_stay_text():
    doc = parse_yaml("on: yes\nno: off\nwhen: 2026-01-01\nt: true\nn: null\ni: 3\n", "f.yaml")
    assert to_plain(doc) == {"on": "yes", "no": "off", "when": "2026-01-01", "t": True,
                             "n": None, "i": 3}


@pytest.mark.parametrize(("text", "line", "words"), [
    ("a: !!python/object:os.system x\n", 1, "!!python/object:os.system"),
    ("a:\n  b: !!python/name:os.system ''\n", 2, "!!python/name:os.system"),
    ("a: !custom 1\n", 1, "!custom"),
    ("a: !!binary aGk=\n", 1, "!!binary"),
    ("a: !!set {x: null}\n", 1, "!!set"),
    ("a: &x 1\nb: *x\n", 1, "anchors and aliases"),
    ("a: {b: 1}\n<<: {c: 2}\n", 2, "merge keys"),
    ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a' (first at line 1)"),
    ("? {a: 1}\n: x\n", 1, "mapping key must be"),
    ("a: [1\n", 2, "YAML syntax error"),
    ("a: 1\n---\nb: 2\n", 2, "single document"),
    ("a: 1\nb: \x07\n", 2, "character U+0007 is not allowed"),
    ("a:\n\tb: 1\n", 2, "YAML syntax error"),
])
def test_unsafe_or_broken_yaml_is_refused_with_its_line(text, line, words):
    problems = _refusal(text)
    assert problems[0].line == line
    assert words in problems[0].message


def test_several_problems_are_reported_together():
    problems = _refusal("a: !foo 1\nb: !bar 2\n")
    assert [p.line for p in problems] == [1, 2]


def test_deep_nesting_and_huge_files_are_refused():
    assert "nesting" in _refusal("a: " + "[" * 100 + "]" * 100)[0].message
    assert "larger" in _refusal("a: " + "x" * (MAX_BYTES + 1))[0].message


def test_byte_order_mark_and_crlf_are_fine():
    assert to_plain(parse_yaml("\ufeffa: 1\r\nb: 2\r\n", "f.yaml")) == {"a": 1, "b": 2}


def test_empty_text_is_refused():
    assert "no YAML document" in _refusal("# only a comment\n")[0].message


def test_a_tab_used_for_indenting_says_use_spaces():
    from hub.recipes.yaml_loader import YamlRefused, parse_yaml

    with pytest.raises(YamlRefused) as caught:
        parse_yaml("name: x\nsteps:\n\t- stop: recipe\n", "tabbed.yaml")
    [problem] = caught.value.problems
    assert problem.line == 3 and "spaces" in problem.message and "\\t" not in problem.message
