"""Indexes: names Datadog accepts, sample rates that are fractions, filters that can apply, and a sampling
policy that never drops what must be kept."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from logmon.diagnostics import Finding, Severity
from logmon.lint.context import LintContext
from logmon.lint.registry import check
from logmon.search.analysis import requires_attribute

INDEX_NAME: Final = re.compile(r"^[a-z][a-z0-9-]*$")
WARNING_OR_ABOVE: Final = frozenset({"warning", "error", "critical", "alert", "emergency"})


def _catch_all(query: str) -> bool:
    return query.strip() in ("", "*")


@check("index/name-format", Severity.ERROR, "index names match ^[a-z][a-z0-9-]*$")
def name_format(context: LintContext) -> Iterator[Finding]:
    for name in context.rules.indexes:
        if not INDEX_NAME.match(name):
            suggestion = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
            if not suggestion[:1].isalpha():
                suggestion = f"logs-{suggestion}".rstrip("-")
            yield name_format.finding(
                context.rules.slug_location("indexes", name),
                f"index name '{name}' is not lower-case letters, digits and '-' starting with a letter; "
                f"Datadog refuses it — try '{suggestion}' (a deleted index name can never be reused, so choose well)",
                name,
            )


@check("index/sample-rate", Severity.ERROR, "exclusion sample rates are fractions in [0, 1]")
def sample_rate(context: LintContext) -> Iterator[Finding]:
    for name, index in context.rules.indexes.items():
        for exclusion in index.exclusion_filters:
            if not 0.0 <= exclusion.sample_rate <= 1.0:
                yield sample_rate.finding(
                    exclusion.where("sample_rate"),
                    f"index '{name}' exclusion '{exclusion.name}': sample_rate {exclusion.sample_rate} is not a "
                    "fraction; it is the share EXCLUDED, from 0 (keep all) to 1 (drop all)",
                    str(exclusion.sample_rate),
                )


@check("index/shadowed-exclusion", Severity.WARNING, "no exclusion filter comes after a catch-all one")
def shadowed_exclusion(context: LintContext) -> Iterator[Finding]:
    for name, index in context.rules.indexes.items():
        catch_all: str | None = None
        for exclusion in index.exclusion_filters:
            if not exclusion.enabled:
                continue
            if catch_all is not None:
                yield shadowed_exclusion.finding(
                    exclusion.where("name"),
                    f"index '{name}' exclusion '{exclusion.name}' never applies: only the first matching filter "
                    f"applies and the catch-all '{catch_all}' comes before it",
                    exclusion.name,
                )
            elif _catch_all(exclusion.filter):
                catch_all = exclusion.name


@check("index/shadowed-index", Severity.WARNING, "no index comes after a catch-all index")
def shadowed_index(context: LintContext) -> Iterator[Finding]:
    catch_all: str | None = None
    for name, index in context.rules.indexes.items():
        if catch_all is not None:
            yield shadowed_index.finding(
                context.rules.slug_location("indexes", name),
                f"index '{name}' never receives a log: a log goes to the first matching index and the catch-all "
                f"'{catch_all}' comes before it; move '{catch_all}' last",
                name,
            )
        elif _catch_all(index.filter):
            catch_all = name


@check("index/retention-order", Severity.ERROR, "standard days do not exceed the standard + Flex total")
def retention_order(context: LintContext) -> Iterator[Finding]:
    for name in context.rules.indexes:
        standard, total = context.rules.index_retention(name)
        if standard is not None and total is not None and standard > total:
            index = context.rules.indexes[name]
            field = "flex_retention_days" if index.flex_retention_days else "retention_days"
            where = index.where(field)
            yield retention_order.finding(
                where,
                f"index '{name}' keeps logs {standard} days in the standard tier but only {total} days in total; "
                "flex_retention_days is the total of standard and Flex, so it must be at least retention_days",
                str(total if field == "flex_retention_days" else standard),
            )


@check(
    "index/excludes-always-keep",
    Severity.ERROR,
    "exclusion filters never sample always-keep events or warnings and above",
)
def excludes_always_keep(context: LintContext) -> Iterator[Finding]:
    hits: dict[tuple[str, str], set[str]] = {}
    for sample in context.samples:
        decision = sample.decision
        if decision.exclusion is None or decision.sample_rate <= 0:
            continue
        if sample.always_keep or sample.record.status in WARNING_OR_ABOVE:
            label = sample.event_type or "plain lines"
            if not sample.always_keep:
                label += f" at {sample.record.status}"
            hits.setdefault((decision.index or "", decision.exclusion), set()).add(label)
    for (index_name, exclusion_name), labels in hits.items():
        exclusion = next(e for e in context.rules.indexes[index_name].exclusion_filters if e.name == exclusion_name)
        yield excludes_always_keep.finding(
            exclusion.where("filter"),
            f"index '{index_name}' exclusion '{exclusion_name}' drops {exclusion.sample_rate:.0%} of "
            f"{', '.join(sorted(labels))}; the sampling policy keeps always-keep events and warnings and above — "
            "exclude them from the filter",
            exclusion.filter,
        )


@check("index/unrouted-events", Severity.WARNING, "every catalogued event lands in some index")
def unrouted_events(context: LintContext) -> Iterator[Finding]:
    if not context.rules.indexes:
        return
    missing = sorted({s.event_type or "plain lines" for s in context.samples if s.decision.index is None})
    if missing:
        last = list(context.rules.indexes)[-1]
        yield unrouted_events.finding(
            context.rules.slug_location("indexes", last),
            f"no index takes {', '.join(missing)}; those logs are never searchable — add a catch-all `*` index last",
            last,
        )


@check(
    "index/sample-attribute-absent",
    Severity.WARNING,
    "an exclusion filter sampling by an attribute matches only logs that carry it",
)
def sample_attribute_absent(context: LintContext) -> Iterator[Finding]:
    for name, index in context.rules.indexes.items():
        for exclusion in index.exclusion_filters:
            if exclusion.sample_attribute is None or not exclusion.enabled or exclusion.sample_rate <= 0:
                continue
            site = context.site_of(exclusion)
            if site is None or site.query is None:
                continue  # reported by query/syntax
            attribute = exclusion.sample_attribute
            path = attribute.removeprefix("@")
            if requires_attribute(site.query, path):
                continue
            yield sample_attribute_absent.finding(
                exclusion.where("sample_attribute"),
                f"index '{name}' exclusion '{exclusion.name}' samples by {attribute}, but its filter also matches "
                f"logs without {attribute}, which Datadog does not sample: they are all indexed (sidecars, "
                f"ingress, third-party logs) — add `@{path}:*` to the filter and sample the rest in a second "
                f"exclusion filter with `-@{path}:*` and no sample_attribute",
                attribute,
            )
