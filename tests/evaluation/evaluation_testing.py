"""Test support for the evaluation tests: inline rule sets, dated records, and single-monitor evaluators."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from logmon.evaluation import MonitorEvaluator
from logmon.logrecord import LogRecord
from logmon.rules.loader import RuleSet, load_rules, rules_from_text
from logmon.search.monitor_query import parse_monitor_query

REPOSITORY = Path(__file__).resolve().parents[2]
SHIPPED_RULES = REPOSITORY / "rules"
T0 = 29_000_000
"""An epoch minute (early 2025) that the tests count from."""


def rules_from_yaml(text: str) -> RuleSet:
    """One rules file's YAML as the RuleSet the loader would build from it."""
    return rules_from_text(textwrap.dedent(text), "inline.yaml")


def shipped_rules() -> RuleSet:
    return load_rules(SHIPPED_RULES)


def monitor(query: str, warning: float | None = None) -> MonitorEvaluator:
    """An evaluator for a complete `logs(...)` query that keeps its timeline."""
    return MonitorEvaluator("under_test", parse_monitor_query(query), warning, keep_timeline=True)


def log(attributes: dict[str, Any] | None = None, *, minute: float | None = None, **reserved: Any) -> LogRecord:
    """A processed log; `minute` (epoch minutes, fractions allowed) sets its timestamp."""
    timestamp = None if minute is None else minute * 60.0
    return LogRecord(attributes=attributes if attributes is not None else {}, timestamp=timestamp, **reserved)


def raw_line(event_type: str | None, minute: float, **fields: Any) -> dict[str, Any]:
    """A raw JSON log as a service writes it, dated `minute` epoch minutes."""
    line: dict[str, Any] = {"timestamp": int(minute * 60_000), "level": "info", "message": "m", **fields}
    if event_type is not None:
        line["event_type"] = event_type
    return line
