"""Test support for the emulator tests: rule sets written inline, compiled filters, hand-built records."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from logmon.emulator.processors import Predicate
from logmon.logrecord import LogRecord
from logmon.rules.loader import RuleSet, load_rules, rules_from_text
from logmon.search import compile_query, parse

REPOSITORY = Path(__file__).resolve().parents[2]
SHIPPED_RULES = REPOSITORY / "rules"


def rules_from_yaml(text: str) -> RuleSet:
    """One rules file's YAML as the RuleSet the loader would build from it."""
    return rules_from_text(textwrap.dedent(text), "inline.yaml")


def shipped_rules() -> RuleSet:
    return load_rules(SHIPPED_RULES)


def compile_filter(text: str) -> Predicate:
    """The compiler the emulator uses for pipeline, category and index filters."""
    return compile_query(parse(text))


def record(attributes: dict[str, Any] | None = None, **reserved: Any) -> LogRecord:
    """A processed log with these attributes and reserved fields (`status=`, `tags=`, ...)."""
    return LogRecord(attributes=attributes if attributes is not None else {}, **reserved)
