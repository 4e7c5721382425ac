"""The stack files are rules too: each `Pulumi.<stack>.yaml`'s settings and overrides, and the rules as that
stack deploys them, checked by the same engine as `rules/`.

A renamed index left in `logmon:overrides`, a misspelled override name or a warning threshold above critical
in one environment is reported at the stack file's line and column, by `logmon lint` (and so by the
pre-commit hook and CI), not first by `logmon plan` or `pulumi preview`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from logmon.diagnostics import Finding, RulesInvalid
from logmon.lint import lint_rules
from logmon.rules.loader import RuleSet, apply_overrides, display_name
from logmon.settings import read_stack_file, stack_file

STACK_FILE_GLOB = "Pulumi.*.yaml"


def stack_names(project_dir: Path) -> list[str]:
    """The stacks that have a stack file in `project_dir`."""
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in project_dir.glob(STACK_FILE_GLOB))


def lint_stacks(
    rules: RuleSet,
    project_dir: Path,
    stacks: Sequence[str],
    rules_findings: Iterable[Finding],
    catalogue: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Findings for each stack that the rules alone (`rules_findings`, already reported) do not give."""
    reported = {_identity(finding) for finding in rules_findings}
    findings: list[Finding] = []
    for stack in stacks:
        findings += [f for f in lint_stack(rules, project_dir, stack, catalogue) if _identity(f) not in reported]
    return findings


def lint_stack(
    rules: RuleSet, project_dir: Path, stack: str, catalogue: Mapping[str, Any] | None = None
) -> list[Finding]:
    """The stack file's own problems, then every check on the rules with its overrides and handles applied."""
    path = stack_file(stack, project_dir)
    name = display_name(path)
    try:
        settings, overrides = read_stack_file(stack, project_dir)
        deployed = apply_overrides(rules, overrides)
    except RulesInvalid as invalid:
        return invalid.findings
    handles = [*settings.notifications.critical, *settings.notifications.warning]
    return [
        finding
        if finding.location.file in (name, path.name)
        else replace(finding, message=f"with the overrides in {path.name}: {finding.message}")
        for finding in lint_rules(deployed, catalogue, environment_handles=handles)
    ]


def _identity(finding: Finding) -> tuple[str, str, str]:
    return finding.check, str(finding.location), finding.message
