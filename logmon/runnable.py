"""Rules the engine cannot run: a query that does not parse, a window out of range, an expression the
emulator cannot evaluate. Rule tests stop on them with a finding at the rule; `logmon lint` says more."""

from __future__ import annotations

from logmon.diagnostics import Finding, Severity
from logmon.emulator.processors import UnsupportedExpression, parse_expression
from logmon.queries import monitor_query
from logmon.rules.loader import RuleSet, iter_queries
from logmon.rules.model import ArithmeticProcessor, ArrayProcessor, ArraySelect
from logmon.search import SearchSyntaxError, parse


def rules_findings(rules: RuleSet) -> list[Finding]:
    """Every rule the engine cannot run, at the rule."""
    findings: list[Finding] = []
    for what, model, field, text in iter_queries(rules):
        try:
            parse(text)
        except SearchSyntaxError as error:
            findings.append(
                Finding(
                    "ruletest/rules",
                    Severity.ERROR,
                    model.position_in(field, error.position),
                    f"{what}: {error}; the rule tests cannot run until the rules compile",
                )
            )
    for slug, monitor in rules.monitors.items():
        try:
            monitor_query(monitor)
        except ValueError as error:  # a SearchSyntaxError is one too
            field = "query" if monitor.query is not None else "window"
            findings.append(
                Finding(
                    "ruletest/rules",
                    Severity.ERROR,
                    monitor.where(field),
                    f"monitor '{slug}': {error}; fix the rule first",
                )
            )
    for slug, pipeline in rules.pipelines.items():
        for processor, _ in pipeline.all_processors():
            if isinstance(processor, ArrayProcessor) and isinstance(processor.operation, ArraySelect):
                try:
                    parse(processor.operation.filter)
                except SearchSyntaxError as error:
                    findings.append(
                        Finding(
                            "ruletest/rules",
                            Severity.ERROR,
                            processor.operation.position_in("filter", error.position),
                            f"pipeline '{slug}' array condition: {error}; the rule tests cannot run until it compiles",
                        )
                    )
            if isinstance(processor, ArithmeticProcessor):
                try:
                    parse_expression(processor.expression)
                except UnsupportedExpression as error:
                    findings.append(
                        Finding(
                            "ruletest/rules",
                            Severity.ERROR,
                            processor.where("expression"),
                            f"pipeline '{slug}': {error}; the rule tests cannot emulate this processor",
                        )
                    )
    return findings
