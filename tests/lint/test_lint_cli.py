"""`logmon lint` as people and CI run it: exit 0 without errors, 1 with errors, 2 for bad usage or input;
and the shipped rules lint clean."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import orjson
import pytest

from logmon.lint import CHECKS, lint_directory
from logmon.rules.schema import schema_text
from paylog.catalogue import CATALOGUE

RulesCopy = Callable[[Mapping[str, str]], Path]
RunLogmon = Callable[[list[str]], tuple[int, str, str]]

REPOSITORY = Path(__file__).resolve().parents[2]
SHIPPED_RULES = REPOSITORY / "rules"
SHIPPED_FILE_COUNT = len(list(SHIPPED_RULES.glob("*.yaml")))
SHIPPED_STACK_COUNT = len(list(SHIPPED_RULES.parent.glob("Pulumi.*.yaml")))
"""The stack files beside the shipped rules, which `logmon lint` checks too."""
LOGMON = Path(sys.executable).parent / "logmon"

WARNINGS_ONLY = """\
indexes:
  main:
    filter: "*"
  security:
    filter: "@event_category:security"
"""
TAG_SEARCH = """\
monitors:
  payment_failures:
    name: "[logs] Payment failures"
    search: "event_type:payment_completion @payment_status:failed"
    window: 5m
    threshold: {critical: 50}
    notify: {critical: ["@pagerduty-payments"]}
"""


class TestShippedRules:
    def test_shipped_rules_lint_clean(self) -> None:
        """The rules in the repository have no finding of any severity, from any check."""
        result = lint_directory(SHIPPED_RULES)
        assert result.rules is not None
        assert [f"{f.location}: {f.check}: {f.message}" for f in result.findings] == []
        assert result.files == SHIPPED_FILE_COUNT

    def test_every_check_ran_on_them(self) -> None:
        """The shipped rules exercise every section lint knows: monitors, pipelines, indexes, metrics, retention."""
        rules = lint_directory(SHIPPED_RULES).rules
        assert rules is not None
        sections = {
            "monitors": rules.monitors,
            "pipelines": rules.pipelines,
            "indexes": rules.indexes,
            "metrics": rules.metrics,
            "archives": rules.archives,
        }
        assert [name for name, section in sections.items() if not section] == []
        assert rules.retention is not None
        assert rules.sensitive_data is not None
        assert len(CHECKS) >= 36


class TestExitStatus:
    def test_clean_rules_exit_zero(self, run_logmon: RunLogmon) -> None:
        """The shipped rules exit 0 with only the summary."""
        code, stdout, stderr = run_logmon(["lint", "--rules", str(SHIPPED_RULES)])
        files = SHIPPED_FILE_COUNT + SHIPPED_STACK_COUNT
        assert (code, stdout, stderr) == (0, f"no problems in {files} files\n", "")

    def test_default_directory_is_rules(self, run_logmon: RunLogmon, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without `--rules`, the `rules` directory under the working directory is linted."""
        monkeypatch.chdir(REPOSITORY)
        assert run_logmon(["lint"])[0] == 0

    def test_an_error_exits_one(self, rules_copy: RulesCopy, run_logmon: RunLogmon) -> None:
        """Any error-severity finding exits 1."""
        code, stdout, _ = run_logmon(["lint", "--rules", str(rules_copy({"monitors.yaml": TAG_SEARCH}))])
        assert code == 1
        assert ": error query/tag-vs-attribute: " in stdout

    def test_only_warnings_exit_zero(self, rules_copy: RulesCopy, run_logmon: RunLogmon) -> None:
        """Warnings are reported but do not fail the run."""
        code, stdout, _ = run_logmon(["lint", "--rules", str(rules_copy({"indexes.yaml": WARNINGS_ONLY}))])
        assert code == 0
        assert ": warning index/shadowed-index: " in stdout
        assert stdout.splitlines()[-1] == f"1 problem (1 warning) in {SHIPPED_FILE_COUNT} files"

    def test_unloadable_rules_exit_one_with_findings(self, rules_copy: RulesCopy, run_logmon: RunLogmon) -> None:
        """Rules that cannot be loaded are findings too, reported in the chosen format."""
        directory = rules_copy({"monitors.yaml": "monitors:\n  a: [unclosed\n"})
        code, stdout, stderr = run_logmon(["lint", "--rules", str(directory), "--format", "json"])
        assert (code, stderr) == (1, "")
        (finding,) = orjson.loads(stdout)
        assert (finding["check"], Path(finding["file"]).name, finding["line"]) == ("yaml/syntax", "monitors.yaml", 3)

    def test_missing_directory_exits_two(self, tmp_path: Path, run_logmon: RunLogmon) -> None:
        """A directory that does not exist is a usage problem: one line on stderr, exit 2."""
        code, stdout, stderr = run_logmon(["lint", "--rules", str(tmp_path / "nowhere")])
        assert (code, stdout) == (2, "")
        assert stderr == f"logmon: no rules directory at {tmp_path / 'nowhere'}; pass --rules DIR\n"

    def test_a_file_instead_of_a_directory_exits_two(self, tmp_path: Path, run_logmon: RunLogmon) -> None:
        """`--rules` naming a file is refused by the option itself."""
        path = tmp_path / "monitors.yaml"
        path.write_text(TAG_SEARCH, encoding="utf-8")
        code, stdout, stderr = run_logmon(["lint", "--rules", str(path)])
        assert (code, stdout) == (2, "")
        assert "is a file" in stderr

    def test_unknown_format_exits_two(self, run_logmon: RunLogmon) -> None:
        """An unknown `--format` is a usage error naming the accepted formats."""
        code, stdout, stderr = run_logmon(["lint", "--rules", str(SHIPPED_RULES), "--format", "xml"])
        assert (code, stdout) == (2, "")
        words = " ".join(stderr.replace("│", " ").split())
        assert "Invalid value for '--format'" in words
        assert "'xml' is not one of 'text', 'github', 'json'" in words

    def test_empty_directory_exits_one(self, tmp_path: Path, run_logmon: RunLogmon) -> None:
        """A directory without rules files is a finding that fails the run."""
        code, stdout, _ = run_logmon(["lint", "--rules", str(tmp_path)])
        assert code == 1
        assert "error rules/no-files: " in stdout


SHIPPED_TEXT = {path.name: path.read_text(encoding="utf-8") for path in SHIPPED_RULES.glob("*.yaml")}
BROKEN_EMULATED_FILTERS = {
    "index filter": ("indexes.yaml", '"@event_category:security"', '"@event_category:(security"'),
    "exclusion filter": (
        "indexes.yaml",
        "emergency)\n        sample_rate: 0.9\n        sample_attribute",
        "emergency\n        sample_rate: 0.9\n        sample_attribute",
    ),
    "pipeline filter": ("pipelines.yaml", '"@logger:*"', '"@logger:(*"'),
    "category filter": ("pipelines.yaml", '"@event_type:(user_registration OR', '"@event_type:((user_registration OR'),
}


class TestUnparsableRulesTheEmulatorRuns:
    @pytest.mark.parametrize("site", list(BROKEN_EMULATED_FILTERS))
    def test_filter_syntax_error_is_a_finding(self, rules_copy: RulesCopy, site: str) -> None:
        """A filter the emulator applies that does not parse is a query/syntax finding on its line, not a crash."""
        name, written, broken = BROKEN_EMULATED_FILTERS[site]
        assert SHIPPED_TEXT[name].count(written) == 1
        text = SHIPPED_TEXT[name].replace(written, broken)
        line = text[: text.index(broken)].count("\n") + 1
        result = lint_directory(rules_copy({name: text}))
        syntax = [(Path(f.location.file).name, f.location.line) for f in result.findings if f.check == "query/syntax"]
        assert syntax == [(name, line)]

    def test_unparsable_arithmetic_expression_is_a_finding(self, rules_copy: RulesCopy) -> None:
        """An arithmetic expression that does not parse is an error finding on its line, not a crash."""
        text = SHIPPED_TEXT["pipelines.yaml"].replace('"response_time_ms * 1000000"', '"response_time_ms * (1000000"')
        line = text[: text.index("(1000000")].count("\n") + 1
        result = lint_directory(rules_copy({"pipelines.yaml": text}))
        assert [(Path(f.location.file).name, f.location.line) for f in result.errors] == [("pipelines.yaml", line)]


class TestInstalledCommand:
    @pytest.mark.parametrize(
        ("files", "expected_code"),
        [
            ({"monitors.yaml": TAG_SEARCH}, 1),
            ({"monitors.yaml": "monitors:\n  yes: 1\n"}, 1),
            ({"indexes.yaml": WARNINGS_ONLY}, 0),
        ],
        ids=["lint-error", "load-error", "warnings"],
    )
    def test_exit_status_without_a_traceback(
        self, rules_copy: RulesCopy, files: Mapping[str, str], expected_code: int
    ) -> None:
        """The installed `logmon` script exits with the documented status and never prints a traceback."""
        completed = subprocess.run(
            [str(LOGMON), "lint", "--rules", str(rules_copy(files))],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert completed.returncode == expected_code, completed.stderr
        assert "Traceback" not in completed.stdout + completed.stderr

    def test_missing_directory(self, tmp_path: Path) -> None:
        """The installed script turns a missing directory into exit 2 and one line."""
        completed = subprocess.run(
            [str(LOGMON), "lint", "--rules", str(tmp_path / "nowhere")],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert completed.returncode == 2
        assert completed.stderr.count("\n") == 1
        assert "Traceback" not in completed.stderr


class TestOtherCommands:
    def test_schema(self, run_logmon: RunLogmon) -> None:
        """`logmon schema` prints the rules JSON Schema."""
        assert run_logmon(["schema"]) == (0, schema_text(), "")

    def test_catalogue(self, run_logmon: RunLogmon) -> None:
        """`logmon catalogue` prints the logger's catalogue as JSON naming every event."""
        code, stdout, _ = run_logmon(["catalogue"])
        assert code == 0
        assert set(orjson.loads(stdout)["events"]) == set(CATALOGUE)
