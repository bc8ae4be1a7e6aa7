"""Safe YAML for recipes: line numbers on every key and item; no tags, anchors or aliases."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from hub.recipes.model import Problem

MAX_BYTES = 512 * 1024
MAX_DEPTH = 64
MAX_NODES = 50_000

_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = frozenset(
    {_STR, "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
     "tag:yaml.org,2002:float"}
)
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_BOOL = "tag:yaml.org,2002:bool"
_BOOLS = frozenset({"true", "false"})
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"


class YamlMap(dict):
    """A mapping that remembers its own line and the line of each key (1-based)."""

    def __init__(self, line: int, items: Any = (), key_lines: dict[Any, int] | None = None):
        super().__init__(items)
        self.line = line
        self.key_lines: dict[Any, int] = dict(key_lines or {})

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class YamlSeq(list):
    """A sequence that remembers its own line and the line of each item (1-based)."""

    def __init__(self, line: int, items: Any = (), item_lines: list[int] | None = None):
        super().__init__(items)
        self.line = line
        self.item_lines: list[int] = list(item_lines or [])

    def line_of(self, index: Any) -> int:
        if isinstance(index, int) and 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


class SeqKey(tuple):
    """A flow-sequence mapping key, `[sepa_debit, ach_debit]: ...` (only switch cases use it)."""


class YamlRefused(Exception):
    """The text is not YAML we accept; carries the problems found (with lines)."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def parse_yaml(text: str, file: str) -> Any:
    """Parse one YAML document into YamlMap / YamlSeq / scalars, or raise YamlRefused."""
    if len(text.encode("utf-8", "replace")) > MAX_BYTES:
        raise YamlRefused([Problem(file, None, f"file is larger than {MAX_BYTES} bytes")])
    try:
        node = _GuardedComposer(text).get_single_node()
    except _Refusal as refusal:
        raise YamlRefused([Problem(file, refusal.line, refusal.message)]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or " ")
        message = f"character U+{code:04X} is not allowed in YAML"
        raise YamlRefused([Problem(file, line, message)]) from None
    except yaml.YAMLError as exc:
        raise YamlRefused([_syntax_problem(exc, file)]) from None
    if node is None:
        raise YamlRefused([Problem(file, 1, "the file holds no YAML document")])
    converter = _Converter(file)
    data = converter.convert(node)
    if converter.problems:
        raise YamlRefused(converter.problems)
    return data


class _Refusal(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class _GuardedComposer(yaml.SafeLoader):
    """PyYAML's safe composer that refuses anchors/aliases and bounds depth and size.

    Refusing anchors outright is what makes an alias bomb ("billion laughs") harmless: the
    parser stops at the first `&anchor`, before anything can be expanded.
    """

    def __init__(self, text: str):
        super().__init__(text)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refusal(line, "anchors and aliases (&name, *name) are not allowed in recipes;"
                                 " write the value out where it is needed")
        self._depth += 1
        self._nodes += 1
        if self._depth > MAX_DEPTH:
            raise _Refusal(line, f"nesting deeper than {MAX_DEPTH} levels")
        if self._nodes > MAX_NODES:
            raise _Refusal(line, f"more than {MAX_NODES} YAML nodes")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _syntax_problem(exc: yaml.YAMLError, file: str) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    if "'\\t'" in problem:  # PyYAML's words for a tab are no help to someone who pressed Tab
        message = "YAML syntax error: a tab is used for indenting; YAML indents with spaces only"
    return Problem(file, line, message)


class _Converter:
    """Turns composed nodes into YamlMap / YamlSeq / scalars, collecting every refusal."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []
        self._scalars = yaml.SafeLoader("")  # its constructor turns plain scalars into values

    def refuse(self, node: Node, message: str) -> None:
        self.problems.append(Problem(self.file, node.start_mark.line + 1, message))

    def convert(self, node: Node) -> Any:
        if isinstance(node, MappingNode):
            return self.mapping(node)
        if isinstance(node, SequenceNode):
            return self.sequence(node)
        return self.scalar(node)

    def scalar(self, node: Node) -> Any:
        if node.tag == _TIMESTAMP or (node.tag == _BOOL and node.value.lower() not in _BOOLS):
            return node.value  # YAML 1.2 reading: yes/no/on/off stay words, dates stay text
        if node.tag not in _SCALAR_TAGS:
            self.refuse(node, f"tag {_short_tag(node.tag)} is not allowed in recipes")
            return None
        return self._scalars.construct_object(node)

    def sequence(self, node: SequenceNode) -> YamlSeq:
        if node.tag != _SEQ:
            self.refuse(node, f"tag {_short_tag(node.tag)} is not allowed in recipes")
        items = [self.convert(item) for item in node.value]
        lines = [item.start_mark.line + 1 for item in node.value]
        return YamlSeq(node.start_mark.line + 1, items, lines)

    def mapping(self, node: MappingNode) -> YamlMap:
        if node.tag != _MAP:
            self.refuse(node, f"tag {_short_tag(node.tag)} is not allowed in recipes")
        result = YamlMap(node.start_mark.line + 1)
        for key_node, value_node in node.value:
            key = self.key(key_node)
            if key is None:
                continue
            line = key_node.start_mark.line + 1
            if key in result:
                first = result.key_lines[key]
                self.refuse(key_node, f"duplicate key {_show(key)} (first at line {first})")
                continue
            result[key] = self.convert(value_node)
            result.key_lines[key] = line
        return result

    def key(self, node: Node) -> str | SeqKey | None:
        """Keys are text as written (so `on:` or `no:` stay words), or a flow list of words."""
        if isinstance(node, ScalarNode):
            if node.tag == _MERGE:
                self.refuse(node, "merge keys (<<) are not allowed in recipes")
                return None
            if node.tag not in _SCALAR_TAGS and node.tag != _TIMESTAMP:
                self.refuse(node, f"tag {_short_tag(node.tag)} is not allowed in recipes")
                return None
            return str(node.value)
        if isinstance(node, SequenceNode) and all(isinstance(n, ScalarNode) for n in node.value):
            if node.tag != _SEQ or any(n.tag not in _SCALAR_TAGS for n in node.value):
                self.refuse(node, "tags are not allowed in recipes")
                return None
            return SeqKey(str(n.value) for n in node.value)
        self.refuse(node, "a mapping key must be a word or a flow list of words like [a, b]")
        return None


def _short_tag(tag: str) -> str:
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix):] if tag.startswith(prefix) else tag


def _show(key: Any) -> str:
    if isinstance(key, SeqKey):
        return "[" + ", ".join(key) + "]"
    return repr(key)


def to_plain(value: Any) -> Any:
    """A copy without line bookkeeping: plain dicts, lists and scalars."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value
