"""What the rule tests leave unproven: monitors never shown firing or never shown quiet, and event types that
no monitor or metric looks at.

An event type is "used" by a monitor or metric when its query matches some catalogue sample of that type,
rendered by the real logger and run through the pipelines, exactly as lint sees events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from logmon.emulator import Emulator
from logmon.logrecord import LogRecord
from logmon.queries import monitor_query
from logmon.rules.loader import RuleSet
from logmon.ruletest.runner import TestReport
from logmon.search import compile_query, parse
from paylog.catalogue import CATALOGUE, iter_samples
from paylog.render import render

_SAMPLE_CORRELATION_ID = "5d0c6c2e-8a41-4b7e-b1f2-3c9e7a0d4f18"


@dataclass(frozen=True)
class Coverage:
    never_fires: list[str]
    """Monitors that no case expects to alert."""
    never_quiet: list[str]
    """Monitors that no case expects to be OK (or lists under `quiet`)."""
    unused_event_types: list[str]
    """Catalogue event types that no monitor or metric matches."""

    @property
    def has_gaps(self) -> bool:
        """A monitor lacks a firing case or a quiet case (unused event types are information only)."""
        return bool(self.never_fires or self.never_quiet)

    def lines(self) -> list[str]:
        lines = [
            *(f"monitor {slug}: no case makes it fire (expect `state: alert`)" for slug in self.never_fires),
            *(
                f"monitor {slug}: no case keeps it quiet (expect `state: ok`, or list it under `quiet`)"
                for slug in self.never_quiet
            ),
            *(f"event type {name}: no monitor or metric uses it" for name in self.unused_event_types),
        ]
        return lines or ["every monitor has a case that fires it and one that keeps it quiet"]


def coverage(report: TestReport) -> Coverage:
    """Gaps over the cases that ran in `report`, whatever their outcome."""
    rules = report.rules or RuleSet()
    fires = set().union(*(case.fires for case in report.cases))
    quiet = set().union(*(case.keeps_quiet for case in report.cases))
    used = event_type_users(rules)
    return Coverage(
        never_fires=[slug for slug in rules.monitors if slug not in fires],
        never_quiet=[slug for slug in rules.monitors if slug not in quiet],
        unused_event_types=[name for name in CATALOGUE if not used.get(name)],
    )


def event_type_users(rules: RuleSet) -> dict[str, set[str]]:
    """Event type → the monitors (`monitor <slug>`) and metrics (`metric <name>`) whose query matches it."""
    queries: list[tuple[str, Callable[[LogRecord], bool]]] = []
    for slug, monitor in rules.monitors.items():
        queries.append((f"monitor {slug}", compile_query(parse(monitor_query(monitor).search))))
    for name, metric in rules.metrics.items():
        queries.append((f"metric {name}", compile_query(parse(metric.filter))))
    emulator = Emulator(rules)
    users: dict[str, set[str]] = {}
    for event_type, spec in CATALOGUE.items():
        found = users.setdefault(event_type, set())
        for fields in iter_samples(spec):
            record = emulator.process(render(event_type, fields, correlation_id=_SAMPLE_CORRELATION_ID))
            found.update(user for user, matches in queries if matches(record))
    return users
