"""Comparing what the engine made of a case's lines with what the case expects, one failure per mismatch.

Every failure says what was expected and what came out, with the numbers behind it (the value and the
thresholds), so a reader can tell a changed threshold from a broken query without rerunning anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from logmon.diagnostics import Location
from logmon.evaluation import Evaluation, GroupResult, MonitorEvaluator, State
from logmon.evaluation.facets import group_value
from logmon.ruletest.checks import MINUTE, facet_name
from logmon.ruletest.model import (
    DISTRIBUTION_KEYS,
    PERCENTILE_KEYS,
    MetricExpectation,
    MonitorExpectation,
    RoutingExpectation,
    duration_microseconds,
)

PERCENTILE_TOLERANCE = 0.02
"""Sketch quantiles are approximate (1 % by construction); allow 2 %."""
_SEVERITY = {State.OK: 0, State.WARN: 1, State.ALERT: 2}
_MAX_GROUPS_SHOWN = 5


@dataclass(frozen=True, slots=True)
class Failure:
    location: Location
    """The expectation (or the part of it) that does not hold."""
    message: str


@dataclass
class StreamRouting:
    """Where one stream's lines went."""

    lines: dict[str | None, int] = field(default_factory=dict)
    """Index (None: no index took them) → lines routed there."""
    indexed: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    """Exclusion filter → lines it dropped."""

    def add(self, index: str | None, indexed: bool, exclusion: str | None) -> None:
        self.lines[index] = self.lines.get(index, 0) + 1
        if index is None:
            return
        if indexed:
            self.indexed += 1
        else:
            name = exclusion or "?"
            self.excluded[name] = self.excluded.get(name, 0) + 1


def number_text(value: float | None) -> str:
    if value is None:
        return "nothing"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6g}"


def minutes_text(minutes: int) -> str:
    return f"{minutes}m"


def thresholds_text(evaluator: MonitorEvaluator) -> str:
    comparator = evaluator.query.comparator
    text = f"critical {comparator} {number_text(evaluator.critical)}"
    if evaluator.warning is not None:
        text += f", warning {comparator} {number_text(evaluator.warning)}"
    return text


def _worst(results: Mapping[Any, GroupResult]) -> State:
    return max((r.state for r in results.values()), key=_SEVERITY.__getitem__, default=State.OK)


def _groups_text(evaluator: MonitorEvaluator, results: Mapping[Any, GroupResult]) -> str:
    if not results:
        return "no data"
    if len(results) == 1:
        return f"value {number_text(next(iter(results.values())).value)}"
    shown = [
        f"{_group_label(evaluator.group_names(key))} {number_text(result.value)} {result.state.value}"
        for key, result in sorted(results.items())[:_MAX_GROUPS_SHOWN]
    ]
    more = len(results) - _MAX_GROUPS_SHOWN
    return "groups " + ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _group_label(names: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{facet}: {value}" for facet, value in names.items()) + "}"


def check_monitor(expectation: MonitorExpectation, evaluation: Evaluation, start_minute: int) -> list[Failure]:
    evaluator = evaluation.monitors[expectation.monitor]
    timeline = evaluator.timeline or {}
    minute = start_minute + duration_microseconds(expectation.at) // MINUTE
    results = timeline.get(minute, {})
    subject = f"{expectation.monitor} at {expectation.at}"
    selections: list[tuple[str, Mapping[Any, GroupResult]]]
    if expectation.groups is None:
        selections = [("", results)]
    else:
        selections = []
        for group in expectation.groups:
            wanted = {
                facet_name(key, evaluator.group_facets) or key: group_value(value) for key, value in group.items()
            }
            picked = {
                key: result
                for key, result in results.items()
                if all(evaluator.group_names(key).get(facet) == value for facet, value in wanted.items())
            }
            selections.append((f" for {_group_label(wanted)}", picked))
    failures: list[Failure] = []
    expected: str = expectation.state
    if expectation.value is not None:
        expected += f" with value {number_text(expectation.value)}"
    for label, group_results in selections:
        chosen: Mapping[Any, GroupResult] = group_results
        state = _worst(chosen)
        state_holds = state.value == expectation.state
        value_holds = expectation.value is None or (
            len(chosen) == 1
            and math.isclose(next(iter(chosen.values())).value, expectation.value, rel_tol=1e-9, abs_tol=1e-9)
        )
        if state_holds and value_holds:
            continue
        failures.append(
            Failure(
                expectation.where("state" if not state_holds else "value"),
                f"{subject}{label}: expected {expected}, got {state.value} "
                f"({_groups_text(evaluator, chosen)}, {thresholds_text(evaluator)})",
            )
        )
    return failures


def check_quiet(slug: str, where: Location, evaluation: Evaluation, start_minute: int) -> list[Failure]:
    evaluator = evaluation.monitors[slug]
    for minute, results in sorted((evaluator.timeline or {}).items()):
        loud = {key: result for key, result in results.items() if result.state is not State.OK}
        if loud:
            return [
                Failure(
                    where,
                    f"{slug} should stay ok, but was {_worst(loud).value} at {minutes_text(minute - start_minute)} "
                    f"({_groups_text(evaluator, loud)}, {thresholds_text(evaluator)})",
                )
            ]
    return []


def _series(expectation: MetricExpectation) -> str:
    if not expectation.tags:
        return expectation.metric
    return expectation.metric + "{" + ",".join(f"{k}:{group_value(v)}" for k, v in expectation.tags.items()) + "}"


def check_metric(expectation: MetricExpectation, evaluation: Evaluation) -> list[Failure]:
    aggregator = evaluation.metrics[expectation.metric]
    tags = {key: group_value(value) for key, value in expectation.tags.items()}
    got = aggregator.value(tags)
    series = _series(expectation)
    if isinstance(got, int):
        if expectation.value is not None and got != expectation.value:
            return [Failure(expectation.where("value"), f"{series}: expected {expectation.value}, got {got}")]
        return []
    failures: list[Failure] = []
    for key in DISTRIBUTION_KEYS:
        wanted = getattr(expectation, key)
        if wanted is None:
            continue
        actual = got.get(key)
        tolerance = PERCENTILE_TOLERANCE if key in PERCENTILE_KEYS else 1e-9
        if actual is None or not math.isclose(actual, wanted, rel_tol=tolerance, abs_tol=1e-12):
            within = " (within 2 %)" if key in PERCENTILE_KEYS else ""
            got_text = "no values" if actual is None else number_text(actual)
            failures.append(
                Failure(
                    expectation.where(key),
                    f"{series}: {key} expected {number_text(wanted)}{within}, got {got_text} "
                    f"(count {got.get('count', 0)})",
                )
            )
    return failures


def check_routing(expectation: RoutingExpectation, routing: StreamRouting) -> list[Failure]:
    stream = f"stream '{expectation.events}'"
    if set(routing.lines) != {expectation.index}:
        landed = ", ".join(
            f"{_index_text(index)}: {count}" for index, count in sorted(routing.lines.items(), key=lambda i: str(i[0]))
        )
        return [
            Failure(
                expectation.where("index"),
                f"{stream}: expected every line in {_index_text(expectation.index)}, got {landed or 'no lines'}",
            )
        ]
    excluded = sum(routing.excluded.values())
    by_filter = ", ".join(f"{count} by {name}" for name, count in sorted(routing.excluded.items()))
    detail = f"{routing.indexed} indexed, {excluded} excluded" + (f" ({by_filter})" if by_filter else "")
    failures: list[Failure] = []
    if expectation.indexed is not None and routing.indexed != expectation.indexed:
        failures.append(
            Failure(expectation.where("indexed"), f"{stream}: expected {expectation.indexed} indexed, got {detail}")
        )
    if expectation.excluded is not None and excluded != expectation.excluded:
        failures.append(
            Failure(expectation.where("excluded"), f"{stream}: expected {expectation.excluded} excluded, got {detail}")
        )
    return failures


def _index_text(index: str | None) -> str:
    return "no index" if index is None else f"index {index}"
