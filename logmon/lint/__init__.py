"""`logmon lint`: every named check over the rules, with findings that point at the YAML."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from logmon.diagnostics import Finding, RulesInvalid, Severity
from logmon.lint import (  # noqa: F401  (each module registers its checks)
    grok_checks,
    index_checks,
    logger_checks,
    metric_checks,
    monitor_checks,
    pipeline_checks,
    query_checks,
    retention_checks,
    scanner_checks,
)
from logmon.lint.context import LintContext
from logmon.lint.registry import CHECKS, Check
from logmon.rules.loader import RuleSet, load_rules


@dataclass(frozen=True)
class LintResult:
    findings: list[Finding]
    files: int
    rules: RuleSet | None
    """None when the rules could not be loaded at all."""

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]


def run_checks(context: LintContext, checks: Sequence[Check] | None = None) -> list[Finding]:
    findings: list[Finding] = []
    for registered in checks if checks is not None else CHECKS.values():
        findings.extend(registered.run(context))
    unique = dict.fromkeys(findings)
    return sorted(unique, key=Finding.sort_key)


def lint_rules(
    rules: RuleSet, catalogue: Mapping[str, Any] | None = None, environment_handles: Sequence[str] = ()
) -> list[Finding]:
    return run_checks(LintContext(rules, catalogue, environment_handles))


def lint_directory(
    directory: Path, catalogue: Mapping[str, Any] | None = None, environment_handles: Sequence[str] = ()
) -> LintResult:
    """Load `directory` and run every check; loading problems are findings too."""
    files = sum(1 for p in directory.iterdir() if p.suffix in (".yaml", ".yml")) if directory.is_dir() else 0
    with _collection_paused():
        try:
            rules = load_rules(directory)
        except RulesInvalid as invalid:
            return LintResult(invalid.findings, files, None)
        return LintResult(lint_rules(rules, catalogue, environment_handles), files, rules)


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """Loading builds a large tree of long-lived objects that holds no reference cycles worth collecting;
    the cyclic collector would walk it again and again (it took a third of the time for 5,000 monitors)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


__all__ = ["CHECKS", "LintContext", "LintResult", "lint_directory", "lint_rules", "run_checks"]
