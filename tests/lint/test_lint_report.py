"""How findings are reported: text for people, GitHub workflow annotations, JSON for tools."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

import orjson
import pytest

from logmon.diagnostics import Finding, Location, Severity
from logmon.lint.report import FORMATS, as_github, as_json, as_text, render, summary, to_json

RulesCopy = Callable[[Mapping[str, str]], Path]
RunLogmon = Callable[[list[str]], tuple[int, str, str]]

TAG_SEARCH = Finding(
    "query/tag-vs-attribute",
    Severity.ERROR,
    Location("rules/monitors.yaml", 28, 14),
    "'event_type:payment_completion' searches a tag; the logger emits the attribute — use "
    "'@event_type:payment_completion'",
    "event_type:payment_completion",
)
SHADOWED = Finding(
    "index/shadowed-index",
    Severity.WARNING,
    Location("rules/indexes.yaml", 12, 3),
    "index 'debug' never receives a log",
    "debug",
)
NOTE = Finding("retention/note", Severity.INFO, Location("rules/retention.yaml", 1, 1), "for your information")
AWKWARD = Finding(
    "yaml/syntax",
    Severity.ERROR,
    Location("rules/odd, name: v2.yaml", 3, 7),
    "100% broken:\nsecond line\r\nthird, with a comma",
)

TEXT_LINE = re.compile(
    r"(?P<file>.+):(?P<line>\d+):(?P<column>\d+): (?P<severity>error|warning|info) (?P<check>\S+): .+"
)
GITHUB_LINE = re.compile(
    r"::(?P<level>error|warning|notice) file=(?P<file>[^,]+),line=(?P<line>\d+),col=(?P<column>\d+),"
    r"title=(?P<title>[^:]+)::(?P<message>.+)"
)

WARNINGS_ONLY = """\
indexes:
  main:
    filter: "*"
  security:
    filter: "@event_category:security"
"""
ONE_ERROR_ONE_WARNING = """\
monitors:
  payment_failures:
    name: "[logs] Payment failures"
    search: "event_type:payment_completion @payment_status:failed"
    window: 5m
    threshold: {critical: 50}
    notify: {critical: ["@pagerduty-payments"]}
"""


class TestSummary:
    def test_no_problems(self) -> None:
        """A clean run says so and how many files were read, in the right number."""
        assert summary([], 6) == "no problems in 6 files"
        assert summary([], 1) == "no problems in 1 file"

    def test_counts_by_severity(self) -> None:
        """Problems are counted per severity, most severe first."""
        assert summary([SHADOWED, TAG_SEARCH, TAG_SEARCH], 6) == "3 problems (2 errors, 1 warning) in 6 files"
        assert summary([TAG_SEARCH], 1) == "1 problem (1 error) in 1 file"
        assert summary([NOTE, NOTE], 2) == "2 problems (2 info) in 2 files"


class TestTextFormat:
    def test_one_line_per_finding_then_the_summary(self) -> None:
        """Each finding is `file:line:col: severity check: message`; the last line is the summary."""
        assert as_text([TAG_SEARCH, SHADOWED], 6) == (
            "rules/monitors.yaml:28:14: error query/tag-vs-attribute: 'event_type:payment_completion' searches a tag; "
            "the logger emits the attribute — use '@event_type:payment_completion'\n"
            "rules/indexes.yaml:12:3: warning index/shadowed-index: index 'debug' never receives a log\n"
            "2 problems (1 error, 1 warning) in 6 files\n"
        )

    def test_clean_run(self) -> None:
        """With no findings only the summary is printed."""
        assert as_text([], 3) == "no problems in 3 files\n"


class TestGithubFormat:
    def test_annotations_per_severity(self) -> None:
        """Errors, warnings and infos become ::error, ::warning and ::notice workflow commands."""
        lines = as_github([TAG_SEARCH, SHADOWED, NOTE], 6).splitlines()
        assert lines[0] == (
            "::error file=rules/monitors.yaml,line=28,col=14,title=query/tag-vs-attribute::"
            "'event_type:payment_completion' searches a tag; the logger emits the attribute — use "
            "'@event_type:payment_completion'"
        )
        assert lines[1] == (
            "::warning file=rules/indexes.yaml,line=12,col=3,title=index/shadowed-index::index 'debug' never "
            "receives a log"
        )
        assert lines[2].startswith("::notice file=rules/retention.yaml,line=1,col=1,title=retention/note::")
        assert lines[3] == "3 problems (1 error, 1 warning, 1 info) in 6 files"

    def test_escaping(self) -> None:
        """`%`, CR and LF are escaped everywhere; `:` and `,` also in properties, so nothing can break the command."""
        (line, _) = as_github([AWKWARD], 1).splitlines()
        assert line == (
            "::error file=rules/odd%2C name%3A v2.yaml,line=3,col=7,title=yaml/syntax::"
            "100%25 broken:%0Asecond line%0D%0Athird, with a comma"
        )
        match = GITHUB_LINE.fullmatch(line)
        assert match is not None
        assert match["file"] == "rules/odd%2C name%3A v2.yaml"


class TestJsonFormat:
    def test_a_list_of_findings_with_every_field(self) -> None:
        """JSON output is a list of objects with check, severity, file, line, column, message and text."""
        assert orjson.loads(as_json([TAG_SEARCH, NOTE])) == [
            {
                "check": "query/tag-vs-attribute",
                "severity": "error",
                "file": "rules/monitors.yaml",
                "line": 28,
                "column": 14,
                "message": TAG_SEARCH.message,
                "text": "event_type:payment_completion",
            },
            {
                "check": "retention/note",
                "severity": "info",
                "file": "rules/retention.yaml",
                "line": 1,
                "column": 1,
                "message": "for your information",
                "text": None,
            },
        ]

    def test_clean_run_is_an_empty_list(self) -> None:
        """No findings is `[]`, with no summary line to break a JSON reader."""
        assert orjson.loads(as_json([])) == []

    def test_special_characters_survive(self) -> None:
        """Messages with newlines, quotes and non-ASCII round-trip exactly."""
        assert to_json([AWKWARD])[0]["message"] == AWKWARD.message
        assert orjson.loads(as_json([AWKWARD]))[0]["file"] == "rules/odd, name: v2.yaml"


class TestRenderChoosesTheFormat:
    @pytest.mark.parametrize("output_format", FORMATS)
    def test_each_format(self, output_format: str) -> None:
        """`render` dispatches to the format's writer."""
        expected = {"text": as_text, "github": as_github}.get(output_format)
        rendered = render([TAG_SEARCH], 2, output_format)
        assert rendered == (expected([TAG_SEARCH], 2) if expected else as_json([TAG_SEARCH]))


class TestFormatsFromTheCommand:
    def test_text(self, rules_copy: RulesCopy, run_logmon: RunLogmon) -> None:
        """`--format text` prints parseable finding lines and the summary."""
        directory = rules_copy({"monitors.yaml": ONE_ERROR_ONE_WARNING})
        code, stdout, _ = run_logmon(["lint", "--rules", str(directory), "--format", "text"])
        *lines, last = stdout.splitlines()
        assert code == 1
        parsed = [TEXT_LINE.fullmatch(line) for line in lines]
        assert all(parsed), lines
        assert [(m["line"], m["column"], m["severity"], m["check"]) for m in parsed if m] == [
            ("4", "13", "warning", "monitor/matches-nothing"),
            ("4", "14", "error", "query/tag-vs-attribute"),
        ]
        assert last == f"2 problems (1 error, 1 warning) in {len(list(directory.glob('*.yaml')))} files"

    def test_github(self, rules_copy: RulesCopy, run_logmon: RunLogmon) -> None:
        """`--format github` prints one workflow command per finding, with the file, line and column."""
        directory = rules_copy({"monitors.yaml": ONE_ERROR_ONE_WARNING})
        code, stdout, _ = run_logmon(["lint", "--rules", str(directory), "--format", "github"])
        lines = stdout.splitlines()
        assert code == 1
        matches = [GITHUB_LINE.fullmatch(line) for line in lines[:-1]]
        assert all(matches), lines
        assert [(m["level"], m["line"], m["column"], m["title"]) for m in matches if m] == [
            ("warning", "4", "13", "monitor/matches-nothing"),
            ("error", "4", "14", "query/tag-vs-attribute"),
        ]
        assert all(Path(m["file"]).name == "monitors.yaml" for m in matches if m)

    def test_json(self, rules_copy: RulesCopy, run_logmon: RunLogmon) -> None:
        """`--format json` prints only a JSON list of the findings."""
        directory = rules_copy({"monitors.yaml": ONE_ERROR_ONE_WARNING})
        code, stdout, _ = run_logmon(["lint", "--rules", str(directory), "--format", "json"])
        assert code == 1
        findings = orjson.loads(stdout)
        assert [(f["check"], f["severity"], f["line"], f["column"], f["text"]) for f in findings] == [
            (
                "monitor/matches-nothing",
                "warning",
                4,
                13,
                "event_type:payment_completion @payment_status:failed",
            ),
            ("query/tag-vs-attribute", "error", 4, 14, "event_type:payment_completion"),
        ]
        assert {Path(f["file"]).name for f in findings} == {"monitors.yaml"}
