"""docs/connectors.md shows the same vendor → vocabulary tables the connectors use."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from hub.domain.payment_methods import VOCABULARY

DOC = Path(__file__).resolve().parents[3] / "docs" / "connectors.md"
TABLE = re.compile(r"<!-- mapping: (?P<target>[\w.]+) -->\n(?P<body>.*?)<!-- /mapping -->", re.S)
ROW = re.compile(r"^\| `(?P<vendor>[^`]+)` \| `(?P<hub>[^`]+)` \|$", re.M)

MAPPINGS = [
    "connectors._stripe_mapping.PAYMENT_METHOD_TYPES",
    "connectors._chargebee_mapping.PAYMENT_METHOD_TYPES",
    "connectors._chargebee_mapping.DIRECT_DEBIT_SCHEMES",
    "connectors._chargebee_mapping.OFFLINE_PAYMENT_METHODS",
    "connectors._quickbooks_mapping.PAYMENT_METHOD_KEYWORDS",
]


def documented_tables() -> dict[str, list[tuple[str, str]]]:
    text = DOC.read_text(encoding="utf-8")
    return {
        m["target"]: [(r["vendor"], r["hub"]) for r in ROW.finditer(m["body"])] for m in TABLE.finditer(text)
    }


def code_table(target: str) -> list[tuple[str, str]]:
    module, _, name = target.rpartition(".")
    table = getattr(importlib.import_module(module), name)
    return list(table.items()) if isinstance(table, dict) else list(table)


def test_every_mapping_is_documented():
    assert sorted(documented_tables()) == sorted(MAPPINGS)


@pytest.mark.parametrize("target", MAPPINGS)
def test_documented_table_equals_code(target):
    assert documented_tables()[target] == code_table(target)


@pytest.mark.parametrize("target", MAPPINGS)
def test_mapping_targets_are_in_the_vocabulary(target):
    assert {hub for _, hub in code_table(target)} <= set(VOCABULARY)
