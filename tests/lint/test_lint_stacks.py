"""`logmon lint` checks the stack files too: settings, overrides, and the rules as each stack deploys them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the rules and stack files, as the working directory."""
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def line_of(path: Path, needle: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


class TestStackFindings:
    def test_the_shipped_stacks_are_clean(self, run_logmon: Any) -> None:
        """The rules and the three stack files lint without a problem."""
        code, stdout, _ = run_logmon(["lint", "--rules", str(ROOT / "rules")])
        assert code == 0, stdout
        assert "in 10 files" in stdout

    def test_an_override_of_a_renamed_index(self, project: Path, run_logmon: Any) -> None:
        """An index override left behind by a rename fails at the stack file's line."""
        edit(project / "rules" / "indexes.yaml", "\n  main:\n", "\n  catchall:\n")
        code, stdout, _ = run_logmon(["lint"])
        assert code == 1
        line = line_of(project / "Pulumi.dev.yaml", "      main:")
        assert re.search(rf"^Pulumi\.dev\.yaml:{line}:\d+: error ", stdout, re.MULTILINE), stdout

    def test_a_misspelled_override_name(self, project: Path, run_logmon: Any) -> None:
        """A monitor override whose name matches no monitor fails at its line in the stack file."""
        stack_file = project / "Pulumi.dev.yaml"
        edit(stack_file, "      payment_failures:\n", "      payment_failure:\n")
        code, stdout, _ = run_logmon(["lint"])
        assert code == 1
        line = line_of(stack_file, "payment_failure:")
        assert re.search(rf"^Pulumi\.dev\.yaml:{line}:\d+: error .*payment_failure", stdout, re.MULTILINE), stdout

    def test_a_warning_above_critical_in_one_environment(self, project: Path, run_logmon: Any) -> None:
        """Dev's threshold override with warning above critical is `monitor/warning-side` at the override."""
        stack_file = project / "Pulumi.dev.yaml"
        edit(stack_file, "threshold: {critical: 5, warning: 2}", "threshold: {critical: 5, warning: 9}")
        code, stdout, _ = run_logmon(["lint"])
        assert code == 1
        line = line_of(stack_file, "warning: 9")
        assert re.search(rf"^Pulumi\.dev\.yaml:{line}:\d+: error monitor/warning-side", stdout, re.MULTILINE), stdout

    def test_a_bad_setting_is_reported_at_the_stack_file(self, project: Path, run_logmon: Any) -> None:
        """A setting of the wrong type is a finding in the stack file, not only a failed plan."""
        stack_file = project / "Pulumi.prod.yaml"
        edit(stack_file, "protect: true", "protect: sometimes")
        code, stdout, _ = run_logmon(["lint", "--format", "json"])
        assert code == 1
        assert '"file": "Pulumi.prod.yaml"' in stdout
        assert "logmon:settings.protect" in stdout

    def test_one_stack_only(self, project: Path, run_logmon: Any) -> None:
        """`--stack staging` ignores a problem in dev's file."""
        edit(project / "Pulumi.dev.yaml", "      payment_failures:\n", "      payment_failure:\n")
        code, stdout, _ = run_logmon(["lint", "--stack", "staging"])
        assert code == 0, stdout
        code, _, _ = run_logmon(["lint", "--stack", "dev"])
        assert code == 1

    def test_an_unknown_stack_is_a_usage_error(self, project: Path, run_logmon: Any) -> None:
        """`--stack qa` without Pulumi.qa.yaml exits 2 and lists the stacks there are."""
        code, _, stderr = run_logmon(["lint", "--stack", "qa"])
        assert code == 2
        assert "stacks here: dev, prod, staging" in stderr
