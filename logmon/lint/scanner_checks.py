"""Sensitive Data Scanner: rules that leave the identifiers correlating logs with traces intact, and the
attributes monitors, metrics and facets read; library rules the emulator cannot reproduce."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Final

from logmon.diagnostics import Finding, Severity
from logmon.emulator.scanner_library import LIBRARY
from logmon.lint.context import LintContext
from logmon.lint.registry import check
from logmon.rules.model import ScannerRule
from logmon.search.analysis import iter_field_terms
from logmon.search.ast import FieldKind

TRACE_ATTRIBUTES: Final = ("dd.trace_id", "dd.span_id")
"""Where the logger writes the active span's IDs (ddtrace's log injection)."""
TRACE_ID_EXAMPLES: Final = (
    "5227843308065000149",
    "15227843308065000149",
    "4039245873091624",
    "6b0c242500000000301e5cb6dbebe45a",
)
"""Span and trace IDs as ddtrace writes them: 64-bit decimals of any length up to 20 digits, and 128-bit
trace IDs in hex."""


@check("scanner/scans-trace-ids", Severity.ERROR, "scanner rules leave dd.trace_id and dd.span_id intact")
def scans_trace_ids(context: LintContext) -> Iterator[Finding]:
    scanner = context.rules.sensitive_data
    if scanner is None:
        return
    for slug, rule in scanner.rules.items():
        scope = scanner.scope(slug)
        scanned = [attribute for attribute in TRACE_ATTRIBUTES if scope.covers(attribute)]
        if not scanned:
            continue
        if rule.regex is not None:
            try:
                pattern = re.compile(rule.regex)
            except re.error:
                continue
            matched = [example for example in TRACE_ID_EXAMPLES if pattern.search(example)]
            if not matched:
                continue
            field, reason = "regex", f"its regex matches IDs such as {matched[0]}"
        else:
            field, reason = "library_rule", "a library rule's pattern cannot be checked offline"
        yield scans_trace_ids.finding(
            rule.where(field),
            f"sensitive data rule '{slug}' scans {' and '.join(scanned)} and {reason}; a masked ID breaks the "
            "link between logs and traces — add `dd` to `sensitive_data.excluded_namespaces`",
            rule.regex if rule.regex is not None else rule.library_rule,
        )


TRACE_CORRELATION: Final = ("dd.trace_id", "dd.span_id", "dd.service", "dd.env", "dd.version")
"""What ties a log to its trace and its service's APM data (ddtrace's log injection)."""


def _scanner_rules(context: LintContext) -> Mapping[str, ScannerRule]:
    """The scanning group's rules by slug; none without a group."""
    scanner = context.rules.sensitive_data
    return scanner.rules if scanner is not None else {}


def _relied_on(context: LintContext) -> list[tuple[str, str]]:
    """(attribute path, who relies on it) for every attribute a monitor, metric, facet or trace correlation
    reads, in rules order."""
    relied: list[tuple[str, str]] = []
    for site in context.queries:
        if site.query is None or not site.what.startswith(("monitor", "metric")):
            continue
        for term in iter_field_terms(site.query):
            if term.field.kind is FieldKind.ATTRIBUTE:
                relied.append((term.field.path, f"{site.what}'s search"))
    for slug, monitor in context.rules.monitors.items():
        if monitor.measure is not None:
            relied.append((monitor.measure.removeprefix("@"), f"monitor '{slug}''s measure"))
        relied.extend(
            (facet.removeprefix("@"), f"monitor '{slug}''s group-by facet")
            for facet in monitor.group_by
            if facet.startswith("@")
        )
    for name, metric in context.rules.metrics.items():
        if metric.path is not None:
            relied.append((metric.path.removeprefix("@"), f"metric '{name}''s path"))
        relied.extend(
            (group.path.removeprefix("@"), f"metric '{name}''s group-by")
            for group in metric.group_bys()
            if group.path.startswith("@")
        )
    relied.extend((path, "the link between logs and traces") for path in TRACE_CORRELATION)
    return list(dict.fromkeys(relied))


def _redacted_by_rule(context: LintContext) -> dict[str, dict[str, str]]:
    """Scanner rule slug → attribute path it changed → an example value before, over every catalogue sample
    run through the emulator (the logger's own output, after the pipelines)."""
    redacted: dict[str, dict[str, str]] = {}
    for sample in context.samples:
        _, trace = context.emulator.process_traced(copy.deepcopy(sample.raw))
        for entry in trace:
            if entry.label.kind != "scanner":
                continue
            changed = redacted.setdefault(str(entry.label.processor), {})
            for key, change in entry.changes.items():
                if key.startswith("@"):
                    changed.setdefault(key[1:], str(change["before"]))
    return redacted


@check(
    "scanner/redacts-relied-on",
    Severity.WARNING,
    "no scanner rule redacts an attribute that a monitor, metric, facet or trace correlation reads",
)
def redacts_relied_on(context: LintContext) -> Iterator[Finding]:
    rules = _scanner_rules(context)
    if not rules:
        return
    redacted = _redacted_by_rule(context)
    readers: dict[str, list[str]] = {}
    for path, reader in _relied_on(context):
        readers.setdefault(path, []).append(reader)
    for slug, rule in rules.items():
        changed = redacted.get(slug, {})
        for path, who in readers.items():
            hit = next((p for p in changed if p == path or p.startswith(f"{path}.")), None)
            if hit is None:
                continue
            yield redacts_relied_on.finding(
                rule.where("regex" if rule.regex is not None else "library_rule"),
                f"sensitive data rule '{slug}' redacts @{hit} (the logger writes values such as "
                f"'{changed[hit]}'), which {', '.join(who)} read(s); Datadog would store the redacted value — "
                f"add `{path}` to the rule's `excluded_namespaces` or narrow its pattern",
                rule.regex if rule.regex is not None else rule.library_rule,
            )


@check(
    "scanner/library-rule-not-emulated",
    Severity.WARNING,
    "every library scanner rule is reproduced offline",
)
def library_rule_not_emulated(context: LintContext) -> Iterator[Finding]:
    for slug, rule in _scanner_rules(context).items():
        if rule.library_rule is not None and rule.library_rule not in LIBRARY:
            yield library_rule_not_emulated.finding(
                rule.where("library_rule"),
                f"sensitive data rule '{slug}' uses library rule '{rule.library_rule}', which the emulator does "
                "not reproduce: rule tests, replay and `logmon process` leave its matches unredacted; emulated "
                f"library rules: {', '.join(sorted(LIBRARY))}",
                rule.library_rule,
            )
