"""Sensitive Data Scanner: rules that leave the identifiers correlating logs with traces intact."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from logmon.diagnostics import Finding, Severity
from logmon.lint.context import LintContext
from logmon.lint.registry import check

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
