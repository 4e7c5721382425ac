"""Rule test runs over the shipped rules, or over a project copy that a test changes file by file."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest
from ruletest_testing import REPOSITORY, SHIPPED_RULES, CommandRun, ProjectCopy, run_main

from logmon.ruletest import TestReport, run_tests


@pytest.fixture(scope="session")
def shipped_report() -> TestReport:
    """One run of every shipped rule test against the shipped rules."""
    return run_tests(SHIPPED_RULES)


@pytest.fixture(scope="session")
def shipped_command(tmp_path_factory: pytest.TempPathFactory) -> CommandRun:
    """`logmon test --junit FILE --coverage` over the shipped rules, run once."""
    junit = tmp_path_factory.mktemp("junit") / "rule-tests.xml"
    status, output = run_main(SHIPPED_RULES, junit=junit, coverage=True)
    return CommandRun(status, output, junit)


@pytest.fixture
def project_copy(tmp_path: Path) -> ProjectCopy:
    """Copy `rules/` (with its tests) and the stack files, then write the given files over the copy."""

    def copy(files: Mapping[str, str]) -> Path:
        rules = tmp_path / "rules"
        if not rules.exists():
            shutil.copytree(SHIPPED_RULES, rules)
            for stack_file in REPOSITORY.glob("Pulumi.*.yaml"):
                shutil.copy(stack_file, tmp_path / stack_file.name)
        for name, text in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return rules

    return copy
