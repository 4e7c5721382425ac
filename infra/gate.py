"""The gate between configuration and resources: settings, rules and lint, before anything is registered.

A problem is reported through Pulumi's log with its file and line, then the program stops with
`pulumi.RunError`, so a bad rule or setting creates, changes and deletes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pulumi

from logmon.diagnostics import Finding, RulesInvalid, Severity
from logmon.lint import lint_rules
from logmon.rules.loader import RuleSet, apply_overrides, load_rules
from logmon.rules.model import Overrides
from logmon.settings import PROJECT, StackSettings, parse_settings


def _report(findings: Sequence[Finding]) -> int:
    errors = 0
    for finding in findings:
        line = f"{finding.location}: {finding.severity.value} {finding.check}: {finding.message}"
        if finding.severity is Severity.ERROR:
            errors += 1
            pulumi.log.error(line)
        elif finding.severity is Severity.WARNING:
            pulumi.log.warn(line)
        else:
            pulumi.log.info(line)
    return errors


def _stop(findings: Sequence[Finding], what: str) -> None:
    errors = _report(findings)
    raise pulumi.RunError(f"{what}: {errors} error(s), reported above; no resource was registered")


def read_settings(stack: str, project_dir: Path) -> tuple[StackSettings, Overrides]:
    """The stack's settings from Pulumi's config; the stack file under `project_dir` only places findings."""
    config = pulumi.Config(PROJECT)
    return parse_settings(config.get_object("settings"), config.get_object("overrides"), stack, project_dir)


def validated_inputs(stack: str, project_dir: Path) -> tuple[StackSettings, RuleSet]:
    """The stack's settings and its rules (overrides applied), both checked; stops the program otherwise.

    `project_dir` holds `Pulumi.yaml`; the rules directory is resolved from it, never from the working
    directory, which the engine sets to `infra/`.
    """
    try:
        settings, overrides = read_settings(stack, project_dir)
    except RulesInvalid as invalid:
        _stop(invalid.findings, f"the settings in Pulumi.{stack}.yaml are invalid")
        raise
    rules_dir = project_dir / settings.rules_dir
    if not rules_dir.is_dir():
        raise pulumi.RunError(
            f"no rules directory at {rules_dir} (`logmon:settings.rules_dir` is {settings.rules_dir!r}, "
            f"read from the project root {project_dir}); restore it or set `logmon:settings.rules_dir` "
            f"in Pulumi.{stack}.yaml"
        )
    try:
        rules = apply_overrides(load_rules(rules_dir, project_dir), overrides)
    except RulesInvalid as invalid:
        _stop(invalid.findings, "the rules do not load")
        raise
    handles = [*settings.notifications.critical, *settings.notifications.warning]
    findings = lint_rules(rules, environment_handles=handles)
    if any(f.severity is Severity.ERROR for f in findings):
        _stop(findings, "the rules fail lint")
    _report(findings)
    return settings, rules
