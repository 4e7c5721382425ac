"""Log-based metrics: valid names, and paths that exist after the pipelines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from logmon.diagnostics import Finding, Severity
from logmon.lint.context import LintContext
from logmon.lint.query_checks import attribute_problem
from logmon.lint.registry import check

METRIC_NAME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,199}$")
TAG_NAME: Final = re.compile(r"^[a-z][a-z0-9_\-./]*$")


@check("metric/name-format", Severity.ERROR, "metric names and tags are valid and unique")
def name_format(context: LintContext) -> Iterator[Finding]:
    seen: dict[str, str] = {}
    for name, metric in context.rules.metrics.items():
        where = context.rules.slug_location("metrics", name)
        if not METRIC_NAME.match(name):
            yield name_format.finding(
                where,
                f"metric name '{name}' must start with a letter and hold only letters, digits, '_' and '.' "
                "(200 characters at most)",
                name,
            )
        if name.startswith("datadog."):
            yield name_format.finding(where, f"metric name '{name}' uses Datadog's reserved 'datadog.' prefix", name)
        folded = name.lower()
        if folded in seen:
            yield name_format.finding(
                where,
                f"metric '{name}' differs from '{seen[folded]}' only in case; dashboards will confuse them",
                name,
            )
        seen.setdefault(folded, name)
        tags: dict[str, str] = {}
        for position, group in enumerate(metric.group_bys()):
            item_where = metric.item_where("group_by", position)
            if not TAG_NAME.match(group.tag):
                yield name_format.finding(
                    item_where,
                    f"metric '{name}': tag name '{group.tag}' is not a valid Datadog tag key",
                    group.tag,
                )
            if group.tag in tags:
                yield name_format.finding(
                    item_where,
                    f"metric '{name}': tag '{group.tag}' is given by both '{tags[group.tag]}' and '{group.path}'",
                    group.tag,
                )
            tags[group.tag] = group.path


@check("metric/unknown-path", Severity.ERROR, "group-by and distribution paths exist after the pipelines")
def unknown_path(context: LintContext) -> Iterator[Finding]:
    for name, metric in context.rules.metrics.items():
        for position, group in enumerate(metric.group_bys()):
            problem = attribute_problem(context, group.path, "post")
            if problem is not None:
                yield unknown_path.finding(
                    metric.item_where("group_by", position), f"metric '{name}': {problem}", group.path
                )
        if metric.path is None:
            continue
        problem = attribute_problem(context, metric.path, "post")
        if problem is not None:
            yield unknown_path.finding(metric.where("path"), f"metric '{name}': {problem}", metric.path)
            continue
        info = context.fields.get(metric.path.removeprefix("@"))
        if info is not None and not info.types & {"number"}:
            yield unknown_path.finding(
                metric.where("path"),
                f"metric '{name}': '{metric.path}' holds {', '.join(sorted(info.types))}, not numbers; a distribution "
                "needs a numeric measure",
                metric.path,
            )
