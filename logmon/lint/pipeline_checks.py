"""Pipelines within Datadog's limits, and honest about what the emulator cannot know offline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from logmon.diagnostics import Finding, Severity
from logmon.lint.context import LintContext
from logmon.lint.registry import check
from logmon.rules import model
from logmon.rules.loader import RuleSet
from logmon.search import FieldKind, SearchSyntaxError, parse

RECOMMENDED_PROCESSORS: Final = 20
"""Datadog "recommends using at most 20 processors per pipeline" and "reserves the right to disable
underperforming parsing rules, processors, or pipelines" (Datadog's Pipelines page)."""


@dataclass(frozen=True)
class UnknownOutput:
    """An attribute a processor fills from data that lives in Datadog, so its value is unknown offline."""

    path: str
    pipeline: str
    processor: model.Processor
    source: str
    """What Datadog reads it from."""


def unknown_outputs(rules: RuleSet) -> list[UnknownOutput]:
    """Every GeoIP parser's and Reference Table lookup's target in the enabled pipelines."""
    found = []
    for slug, pipeline in rules.pipelines.items():
        for processor, _ in pipeline.all_processors():
            if isinstance(processor, model.GeoIpParser):
                found.append(UnknownOutput(processor.target, slug, processor, "its GeoIP database"))
            elif isinstance(processor, model.ReferenceTableLookupProcessor):
                table = processor.lookup_enrichment_table
                found.append(UnknownOutput(processor.target, slug, processor, f"the Reference Table '{table}'"))
    return found


def unknown_output_at(rules: RuleSet, path: str) -> UnknownOutput | None:
    """The unknown output `@path` lies at or below, if any."""
    path = path.removeprefix("@")
    for output in unknown_outputs(rules):
        if path == output.path or path.startswith(output.path + "."):
            return output
    return None


def _label(processor: model.Processor) -> str:
    return f"{processor.type} '{processor.name or processor.type}'"


@check("pipeline/nesting", Severity.ERROR, "nested pipelines hold processors only (Datadog allows one level)")
def nesting(context: LintContext) -> Iterator[Finding]:
    for slug, pipeline in context.rules.pipelines.items():
        for processor, parent in pipeline.all_processors():
            if isinstance(processor, model.NestedPipeline) and parent is not None:
                yield nesting.finding(
                    processor.where("type"),
                    f"pipeline '{slug}': nested pipeline '{processor.name}' is inside nested pipeline "
                    f"'{parent.name}'; Datadog allows a pipeline to hold nested pipelines, but a nested pipeline "
                    "holds processors only — move its processors up, or make it a pipeline of its own",
                    processor.type,
                )


@check(
    "pipeline/processor-count",
    Severity.WARNING,
    f"at most {RECOMMENDED_PROCESSORS} processors per pipeline, as Datadog recommends",
)
def processor_count(context: LintContext) -> Iterator[Finding]:
    for slug, pipeline in context.rules.pipelines.items():
        holders: list[tuple[str, model.Pipeline | model.NestedPipeline]] = [(f"pipeline '{slug}'", pipeline)]
        holders += [
            (f"pipeline '{slug}' nested pipeline '{processor.name}'", processor)
            for processor, _ in pipeline.all_processors()
            if isinstance(processor, model.NestedPipeline)
        ]
        for what, holder in holders:
            count = len(holder.processors)
            if count > RECOMMENDED_PROCESSORS:
                yield processor_count.finding(
                    holder.item_where("processors", RECOMMENDED_PROCESSORS),
                    f"{what} has {count} processors; Datadog recommends at most {RECOMMENDED_PROCESSORS} per "
                    "pipeline and may disable an underperforming one — split it into nested pipelines",
                    holder.processors[RECOMMENDED_PROCESSORS].type,
                )


@check(
    "pipeline/unknown-offline",
    Severity.INFO,
    "processors whose outputs only Datadog can compute (GeoIP, Reference Tables)",
)
def unknown_offline(context: LintContext) -> Iterator[Finding]:
    for output in unknown_outputs(context.rules):
        yield unknown_offline.finding(
            output.processor.where("type"),
            f"pipeline '{output.pipeline}' {_label(output.processor)}: Datadog fills '@{output.path}' from "
            f"{output.source}, which is not available offline; rule tests and replay treat it as unknown, so "
            "a query on it is reported as undecidable rather than false",
            output.processor.type,
        )


@check("pipeline/array-filter", Severity.ERROR, "array processor conditions are valid search syntax")
def array_filter(context: LintContext) -> Iterator[Finding]:
    for slug, pipeline in context.rules.pipelines.items():
        for processor, _ in pipeline.all_processors():
            if not isinstance(processor, model.ArrayProcessor):
                continue
            operation = processor.operation
            if not isinstance(operation, model.ArraySelect):
                continue
            try:
                parse(operation.filter)
            except SearchSyntaxError as error:
                yield array_filter.finding(
                    operation.where("filter"),
                    f"pipeline '{slug}' {_label(processor)}: the condition does not parse ({error.message}); "
                    "write it in Datadog search syntax over the element's keys, e.g. `name:Referrer`",
                    operation.filter,
                )


@check(
    "query/unknown-offline",
    Severity.WARNING,
    "queries and group-bys on attributes only Datadog can compute: rule tests and replay cannot decide them",
)
def query_unknown_offline(context: LintContext) -> Iterator[Finding]:
    if not unknown_outputs(context.rules):
        return
    yield from _group_bys_unknown_offline(context)
    from logmon.lint.query_checks import term_offset, term_text, terms_with_events

    for site in context.queries:
        if site.query is None:
            continue
        for term, _ in terms_with_events(site.query):
            if term.field.kind is not FieldKind.ATTRIBUTE:
                continue
            output = unknown_output_at(context.rules, term.field.path)
            if output is None:
                continue
            yield query_unknown_offline.finding(
                site.location(term_offset(term)),
                f"{site.what}: '@{term.field.path.removeprefix('@')}' comes from pipeline '{output.pipeline}' "
                f"{_label(output.processor)}, filled from {output.source}; offline its value is unknown, so rule "
                "tests and replay cannot prove this term",
                term_text(site, term),
            )


def _group_bys_unknown_offline(context: LintContext) -> Iterator[Finding]:
    grouped: list[tuple[str, model.RuleModel, list[str]]] = [
        (f"monitor '{slug}'", monitor, list(monitor.group_by)) for slug, monitor in context.rules.monitors.items()
    ]
    grouped += [
        (f"metric '{name}'", metric, [group.path for group in metric.group_bys()])
        for name, metric in context.rules.metrics.items()
    ]
    for what, rule, paths in grouped:
        for position, path in enumerate(paths):
            output = unknown_output_at(context.rules, path)
            if output is not None:
                yield query_unknown_offline.finding(
                    rule.item_where("group_by", position),
                    f"{what} groups by '@{path.removeprefix('@')}', filled by pipeline '{output.pipeline}' "
                    f"{_label(output.processor)} from {output.source}; offline its groups are unknown, so rule "
                    "tests and replay cannot prove them",
                    path,
                )
