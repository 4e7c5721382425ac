"""What a test file says, checked against the rules: every monitor, metric, index and stream it names exists.

A test that names a monitor nobody defined would otherwise fail with a confusing "got nothing", or worse,
a `quiet` entry for a misspelt slug would pass forever. Each problem is a finding at the name as written.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from logmon.diagnostics import Finding, Location, RulesInvalid, Severity
from logmon.queries import monitor_query
from logmon.rules.loader import RuleSet
from logmon.rules.source import LocatedDict
from logmon.ruletest.lines import check_stream
from logmon.ruletest.model import (
    DISTRIBUTION_KEYS,
    PERCENTILE_KEYS,
    Case,
    MetricExpectation,
    MonitorExpectation,
    duration_microseconds,
)
from logmon.ruletest.stacks import StackRules

MINUTE = 60_000_000


def child(node: Any, *path: str | int) -> Any:
    """The YAML node at `path` below `node`, or None when the path is not there."""
    for part in path:
        if isinstance(node, dict) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def _error(check: str, where: Location, message: str, text: str | None = None) -> Finding:
    return Finding(check, Severity.ERROR, where, message, text)


def _hint(value: str, known: Iterable[str]) -> str:
    names = sorted(known)
    close = difflib.get_close_matches(value, names, n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; known: {', '.join(names)}" if names else "; there are none"


def _key_location(mapping: Any, key: str, fallback: Location) -> Location:
    if isinstance(mapping, LocatedDict):
        return mapping.key_locations.get(key, fallback)
    return fallback


def check_case(case: Case, source: Any, rules: RuleSet, stacks: StackRules) -> list[Finding]:
    """Every problem of one case that needs the rules (or the logger) to see."""
    findings: list[Finding] = []
    try:
        stacks.get(case.stack, case.where("stack"))
    except RulesInvalid as invalid:
        findings.extend(invalid.findings)
    names: dict[str, Location] = {}
    for position, stream in enumerate(case.events):
        if stream.name is not None:
            if stream.name in names:
                findings.append(
                    _error(
                        "ruletest/duplicate-name",
                        stream.where("name"),
                        f"stream '{stream.name}' is already named at {names[stream.name]}; "
                        "names must be unique within a case",
                        stream.name,
                    )
                )
            names.setdefault(stream.name, stream.where("name"))
        findings.extend(check_stream(stream, case, child(source, "events", position)))
    expect = case.expect
    for position, expectation in enumerate(expect.monitors):
        findings.extend(_check_monitor(expectation, rules, child(source, "expect", "monitors", position)))
    for position, slug in enumerate(expect.quiet):
        if slug not in rules.monitors:
            findings.append(
                _error(
                    "ruletest/unknown-monitor",
                    expect.item_where("quiet", position),
                    f"no monitor '{slug}' in the rules{_hint(slug, rules.monitors)}",
                    slug,
                )
            )
    for position, metric in enumerate(expect.metrics):
        findings.extend(_check_metric(metric, rules, child(source, "expect", "metrics", position)))
    for routing in expect.routing:
        if routing.events not in names:
            findings.append(
                _error(
                    "ruletest/unknown-stream",
                    routing.where("events"),
                    f"no stream named '{routing.events}' in this case{_hint(routing.events, names)}; "
                    "give the stream a `name`",
                    routing.events,
                )
            )
        if routing.index is not None and routing.index not in rules.indexes:
            findings.append(
                _error(
                    "ruletest/unknown-index",
                    routing.where("index"),
                    f"no index '{routing.index}' in the rules{_hint(routing.index, rules.indexes)}",
                    routing.index,
                )
            )
    return findings


def _check_monitor(expectation: MonitorExpectation, rules: RuleSet, source: Any) -> list[Finding]:
    findings: list[Finding] = []
    at = duration_microseconds(expectation.at)
    if at % MINUTE or at < MINUTE:
        findings.append(
            _error(
                "ruletest/evaluation-time",
                expectation.where("at"),
                f"monitors are evaluated at minute boundaries from 1m on; {expectation.at!r} is not one "
                "(write `1m`, `5m`, ...)",
                expectation.at,
            )
        )
    monitor = rules.monitors.get(expectation.monitor)
    if monitor is None:
        findings.append(
            _error(
                "ruletest/unknown-monitor",
                expectation.where("monitor"),
                f"no monitor '{expectation.monitor}' in the rules{_hint(expectation.monitor, rules.monitors)}",
                expectation.monitor,
            )
        )
        return findings
    try:
        facets = monitor_query(monitor).group_by
    except ValueError:
        return findings  # reported by rules_findings
    if expectation.groups is None:
        if facets and expectation.value is not None:
            findings.append(
                _error(
                    "ruletest/value-needs-group",
                    expectation.where("value"),
                    f"monitor '{expectation.monitor}' groups by {', '.join(facets)}; say whose value this is "
                    "with `groups`",
                )
            )
        return findings
    if not facets:
        findings.append(
            _error(
                "ruletest/not-grouped",
                expectation.where("groups"),
                f"monitor '{expectation.monitor}' has no group-by; remove `groups`",
            )
        )
        return findings
    for position, group in enumerate(expectation.groups):
        for key in group:
            if facet_name(key, facets) is None:
                where = _key_location(
                    child(source, "groups", position), key, expectation.item_where("groups", position)
                )
                findings.append(
                    _error(
                        "ruletest/unknown-facet",
                        where,
                        f"monitor '{expectation.monitor}' does not group by '{key}'; it groups by {', '.join(facets)}",
                        key,
                    )
                )
    return findings


def facet_name(key: str, facets: Iterable[str]) -> str | None:
    """The group-by facet a `groups` key names: as written, or without its `@`."""
    for facet in facets:
        if key in (facet, facet.removeprefix("@")):
            return facet
    return None


def _check_metric(expectation: MetricExpectation, rules: RuleSet, source: Any) -> list[Finding]:
    metric = rules.metrics.get(expectation.metric)
    if metric is None:
        return [
            _error(
                "ruletest/unknown-metric",
                expectation.where("metric"),
                f"no metric '{expectation.metric}' in the rules{_hint(expectation.metric, rules.metrics)}",
                expectation.metric,
            )
        ]
    findings: list[Finding] = []
    tags = [group.tag for group in metric.group_bys()]
    for key in expectation.tags:
        if key not in tags:
            findings.append(
                _error(
                    "ruletest/unknown-tag",
                    _key_location(child(source, "tags"), key, expectation.where("tags")),
                    f"metric '{expectation.metric}' has no tag '{key}'; "
                    + (f"its tags are {', '.join(tags)}" if tags else "it has no tags"),
                    key,
                )
            )
    stated = [key for key in ("value", *DISTRIBUTION_KEYS) if getattr(expectation, key) is not None]
    if metric.compute == "count":
        wrong = [key for key in stated if key != "value"]
        if wrong or "value" not in stated:
            findings.append(
                _error(
                    "ruletest/metric-kind",
                    expectation.where(wrong[0]) if wrong else expectation.where(),
                    f"metric '{expectation.metric}' is a count: expect its `value`"
                    + (f", not {', '.join(wrong)}" if wrong else ""),
                )
            )
        return findings
    if "value" in stated or not stated:
        findings.append(
            _error(
                "ruletest/metric-kind",
                expectation.where("value") if "value" in stated else expectation.where(),
                f"metric '{expectation.metric}' is a distribution: expect any of {', '.join(DISTRIBUTION_KEYS)}",
            )
        )
    if not metric.include_percentiles:
        for key in stated:
            if key in PERCENTILE_KEYS:
                findings.append(
                    _error(
                        "ruletest/metric-kind",
                        expectation.where(key),
                        f"metric '{expectation.metric}' has no percentiles (`include_percentiles` is off); "
                        f"remove `{key}`",
                    )
                )
    return findings
