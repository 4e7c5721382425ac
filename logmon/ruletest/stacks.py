"""The rules as one stack deploys them: `rules/` with that stack's `logmon:overrides` applied."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from logmon.diagnostics import Finding, Location, RulesInvalid, Severity
from logmon.rules.loader import RuleSet, apply_overrides, display_name
from logmon.runnable import rules_findings
from logmon.settings import read_stack_file, stack_file


class StackRules:
    """Rules per stack, each stack file read once; `None` means the rules as written."""

    def __init__(self, rules: RuleSet, project_dir: Path) -> None:
        self.rules = rules
        self.project_dir = project_dir
        self._cache: dict[str, RuleSet | list[Finding] | None] = {}
        """Stack → its rules, the problems that keep it from loading, or None when it has no stack file."""

    def get(self, stack: str | None, where: Location) -> RuleSet:
        """The stack's rules; RulesInvalid pointing at `where` (the case's `stack:`) or into the stack file."""
        if stack is None:
            return self.rules
        if stack not in self._cache:
            self._cache[stack] = self._load(stack)
        loaded = self._cache[stack]
        if loaded is None:
            raise RulesInvalid([_missing(stack, where, self.project_dir)])
        if isinstance(loaded, list):
            raise RulesInvalid(loaded)
        return loaded

    def _load(self, stack: str) -> RuleSet | list[Finding] | None:
        path = stack_file(stack, self.project_dir)
        if not path.is_file():
            return None
        try:
            _, overrides = read_stack_file(stack, self.project_dir, check="ruletest/stack")
            rules = apply_overrides(self.rules, overrides)
        except RulesInvalid as invalid:
            return invalid.findings
        problems = [
            finding
            if finding.location.file in (display_name(path), path.name)
            else replace(finding, message=f"with the overrides in {display_name(path)}: {finding.message}")
            for finding in rules_findings(rules)
        ]
        return problems or rules


def _missing(stack: str, where: Location, project_dir: Path) -> Finding:
    return Finding(
        "ruletest/stack",
        Severity.ERROR,
        where,
        f"stack '{stack}' needs {display_name(stack_file(stack, project_dir))} (the stack file beside the rules "
        "directory); add it or remove `stack`",
        stack,
    )
