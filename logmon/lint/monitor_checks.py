"""Monitors: query and thresholds agree, windows Datadog accepts, someone is told, and logs they can see."""

from __future__ import annotations

from collections.abc import Iterator

from logmon.diagnostics import Finding, Severity
from logmon.lint.context import LintContext
from logmon.lint.query_checks import attribute_problem
from logmon.lint.registry import check
from logmon.queries import monitor_query, scale
from logmon.search import SearchSyntaxError
from logmon.search.monitor_query import format_number, parse_monitor_query, window_minutes

ABOVE = (">", ">=")
SINGLE_LOG_ROLLUPS = ("count", "cardinality")
"""Rollups whose value reaches 1 with one matching log."""


@check("monitor/threshold-mismatch", Severity.ERROR, "the number in the query equals the critical threshold")
def threshold_mismatch(context: LintContext) -> Iterator[Finding]:
    for slug, monitor in context.rules.monitors.items():
        if monitor.query is None:
            continue
        try:
            parsed = parse_monitor_query(monitor.query)
        except SearchSyntaxError:
            continue  # reported by query/syntax
        expected = scale(monitor, monitor.threshold.critical, parsed.window_minutes)
        if parsed.threshold != expected or parsed.comparator != monitor.threshold.comparator:
            yield threshold_mismatch.finding(
                monitor.where("query"),
                f"monitor '{slug}': the query compares '{parsed.comparator} {format_number(parsed.threshold)}' "
                f"but the critical threshold is '{monitor.threshold.comparator} {format_number(expected)}'; "
                'Datadog rejects the monitor ("Alert threshold does not match that used in the query") — '
                "write `search`/`window` instead and let the query be built",
                monitor.query,
            )


@check("monitor/window-range", Severity.ERROR, "the window is 1 minute to 2 days")
def window_range(context: LintContext) -> Iterator[Finding]:
    for slug, monitor in context.rules.monitors.items():
        if monitor.window is None:
            continue
        try:
            window_minutes(monitor.window)
        except ValueError as error:
            yield window_range.finding(monitor.where("window"), f"monitor '{slug}': {error}", monitor.window)


@check("monitor/warning-side", Severity.ERROR, "the warning threshold is crossed before the critical one")
def warning_side(context: LintContext) -> Iterator[Finding]:
    for slug, monitor in context.rules.monitors.items():
        threshold = monitor.threshold
        if threshold.warning is None:
            continue
        above = threshold.comparator in ABOVE
        if (above and threshold.warning >= threshold.critical) or (
            not above and threshold.warning <= threshold.critical
        ):
            side = "below" if above else "above"
            yield warning_side.finding(
                threshold.where("warning"),
                f"monitor '{slug}' alerts when the value is {threshold.comparator} "
                f"{format_number(threshold.critical)}, so the warning must be {side} it to ever warn first "
                f"(it is {format_number(threshold.warning)})",
                format_number(threshold.warning),
            )


@check(
    "monitor/single-log-alert",
    Severity.ERROR,
    "a count threshold that any single log crosses is declared with `threshold.alert_on_single_log: true`",
)
def single_log_alert(context: LintContext) -> Iterator[Finding]:
    for slug, monitor in context.rules.monitors.items():
        if monitor.threshold.alert_on_single_log:
            continue
        try:
            query = monitor_query(monitor)
        except (ValueError, SearchSyntaxError):
            continue  # reported by query/syntax, monitor/window-range and the model
        if query.rollup not in SINGLE_LOG_ROLLUPS or not _one_log_crosses(query.comparator, query.threshold):
            continue
        yield single_log_alert.finding(
            monitor.threshold.where("critical"),
            f"monitor '{slug}' alerts when the {query.rollup} is {query.comparator} "
            f"{format_number(query.threshold)} in {query.window_text}, so one matching log pages; raise the "
            "threshold, or set `alert_on_single_log: true` under `threshold` if every single log must alert",
            format_number(monitor.threshold.critical),
        )


def _one_log_crosses(comparator: str, threshold: float) -> bool:
    """Whether a count (or cardinality) of 1 already crosses the threshold."""
    return (comparator == ">" and threshold < 1) or (comparator == ">=" and threshold <= 1)


@check("monitor/per-minute-rollup", Severity.ERROR, "per-minute thresholds only make sense for counts")
def per_minute_rollup(context: LintContext) -> Iterator[Finding]:
    for slug, monitor in context.rules.monitors.items():
        if monitor.threshold.unit == "per_minute" and monitor.rollup != "count":
            yield per_minute_rollup.finding(
                monitor.threshold.where("unit"),
                f"monitor '{slug}' rolls up '{monitor.rollup}', which is not a count; a per-minute rate cannot be "
                "scaled to it — use `unit: per_window`",
                "per_minute",
            )


@check("monitor/duplicate-name", Severity.ERROR, "each monitor has its own name")
def duplicate_name(context: LintContext) -> Iterator[Finding]:
    seen: dict[str, str] = {}
    for slug, monitor in context.rules.monitors.items():
        key = monitor.name.strip().lower()
        if key in seen:
            yield duplicate_name.finding(
                monitor.where("name"),
                f"monitor '{slug}' has the same name as '{seen[key]}'; on-call cannot tell their pages apart",
                monitor.name,
            )
        else:
            seen[key] = slug


@check("monitor/no-notification-target", Severity.ERROR, "someone is notified when the monitor alerts")
def no_target(context: LintContext) -> Iterator[Finding]:
    for slug, monitor in context.rules.monitors.items():
        if not (monitor.notify.critical or monitor.notify.warning or context.environment_handles):
            yield no_target.finding(
                monitor.where("notify") if "notify" in monitor.model_fields_set else monitor.where(),
                f"monitor '{slug}' notifies nobody; add handles under `notify.critical` (e.g. '@pagerduty-team')",
                slug,
            )
        for handle in [*monitor.notify.critical, *monitor.notify.warning]:
            if not handle.startswith("@"):
                yield no_target.finding(
                    monitor.notify.where(),
                    f"monitor '{slug}': '{handle}' is not a notification handle; handles start with '@'",
                    handle,
                )


@check("monitor/unknown-index", Severity.ERROR, "a monitor evaluates standard indexes that exist")
def unknown_index(context: LintContext) -> Iterator[Finding]:
    indexes = context.rules.indexes
    for slug, monitor in context.rules.monitors.items():
        for position, name in enumerate(monitor.indexes):
            if name == "*":
                continue
            where = monitor.item_where("indexes", position)
            if name not in indexes:
                yield unknown_index.finding(
                    where, f"monitor '{slug}' evaluates index '{name}', which no rule defines", name
                )
            elif indexes[name].flex_only:
                yield unknown_index.finding(
                    where,
                    f"monitor '{slug}' evaluates index '{name}', which keeps logs in Flex only; monitors never "
                    "see Flex logs",
                    name,
                )


@check("monitor/unknown-facet", Severity.ERROR, "group-by facets and measures exist after the pipelines")
def unknown_facet(context: LintContext) -> Iterator[Finding]:
    for slug, monitor in context.rules.monitors.items():
        facets = [("group_by", index, facet) for index, facet in enumerate(monitor.group_by)]
        if monitor.measure is not None:
            facets.append(("measure", -1, monitor.measure))
        for field, index, facet in facets:
            if not facet.startswith("@"):
                continue
            problem = attribute_problem(context, facet, "post")
            if problem is not None:
                where = monitor.item_where(field, index) if index >= 0 else monitor.where(field)
                yield unknown_facet.finding(where, f"monitor '{slug}': {problem}", facet)


@check("monitor/matches-nothing", Severity.WARNING, "the search matches some catalogued event")
def matches_nothing(context: LintContext) -> Iterator[Finding]:
    for slug, monitor in context.rules.monitors.items():
        matched = context.possible_samples(monitor)
        if matched is not None and not matched:
            field = "search" if monitor.search is not None else "query"
            yield matches_nothing.finding(
                monitor.where(field),
                f"monitor '{slug}' matches none of the logger's catalogued events after the pipelines, so it can "
                "never fire on them; check its fields and values",
                monitor.search or monitor.query,
            )


@check(
    "monitor/invisible-logs",
    Severity.ERROR,
    "the logs a monitor searches reach a standard index (monitors don't see Flex-only or excluded logs)",
)
def invisible_logs(context: LintContext) -> Iterator[Finding]:
    for slug, monitor in context.rules.monitors.items():
        matched = context.possible_samples(monitor)
        if not matched:
            continue
        wanted = set(monitor.indexes)
        visible = [s for s in matched if s.decision.may_be_indexed and ("*" in wanted or s.decision.index in wanted)]
        if visible:
            continue
        reasons = sorted({_why_invisible(s.decision, wanted) for s in matched})
        field = "search" if monitor.search is not None else "query"
        yield invisible_logs.finding(
            monitor.where(field),
            f"monitor '{slug}' can never fire: every log it matches {'; '.join(reasons)}, and monitors only "
            "evaluate logs kept in a standard index",
            monitor.search or monitor.query,
        )


def _why_invisible(decision: object, wanted: set[str]) -> str:
    from logmon.emulator import IndexDecision

    assert isinstance(decision, IndexDecision)
    if decision.index is None:
        return "matches no index"
    if decision.flex_only:
        return f"goes to the Flex-only index '{decision.index}'"
    if decision.sample_rate >= 1.0:
        return f"is excluded from index '{decision.index}' by '{decision.exclusion}'"
    return f"goes to index '{decision.index}', which the monitor does not evaluate ({', '.join(sorted(wanted))})"


@check(
    "monitor/offline-approximation",
    Severity.INFO,
    "a monitor option that replay and rule tests can only approximate is named where the monitor uses it",
)
def offline_approximation(context: LintContext) -> Iterator[Finding]:
    for slug, monitor in context.rules.monitors.items():
        try:
            query = monitor_query(monitor)
        except (ValueError, SearchSyntaxError):
            continue  # reported by query/syntax, monitor/window-range and the model
        where = monitor.where("query" if monitor.query is not None else "rollup")
        if query.rollup not in SINGLE_LOG_ROLLUPS:
            yield offline_approximation.finding(
                where,
                f"monitor '{slug}' ({query.rollup}) keeps each group's last state when its logs stop "
                "(on_missing_data: default) until Datadog drops the group, after a retention it does not document "
                "for monitors that set none; replay and rule tests keep the state to the end. It also requires a "
                "full window, read offline as: the group has logs in the window's first minute",
                query.rollup,
            )
        if "host" in query.group_by:
            yield offline_approximation.finding(
                monitor.where("query" if monitor.query is not None else "group_by"),
                f"monitor '{slug}' groups by host: the provider sends new_host_delay 300 s, which Datadog applies "
                "to host groups unless new_group_delay is set; replay and rule tests wait the new_group_delay "
                "default (60 s) for every new group",
                "host",
            )
