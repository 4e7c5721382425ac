"""Every lint check, proven on fixtures: each reports exactly the lines marked in a failing fixture and
nothing on a passing one.

A fixture is `fixtures/<check name, '/' written '__'>/<bad…|good…>/<file>.yaml`. Its files replace the
same-named files in a copy of the shipped `rules/` (or are added beside them), then the whole directory is
linted. In a failing fixture, each line where the check must report ends with `# expect: <check>`; write
the name twice for two findings on one line, and `<check>@<column>` where the column matters.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from logmon.diagnostics import Finding, Severity
from logmon.lint import CHECKS, LintContext, lint_directory, lint_rules, run_checks
from logmon.rules import load_rules
from paylog.catalogue import CATALOGUE, Category, EventSpec, FieldSpec, FieldType

SHIPPED_RULES = Path(__file__).resolve().parents[2] / "rules"
FIXTURES = Path(__file__).parent / "fixtures"
MARKER = re.compile(r"#\s*expect:\s*(?P<items>[^#]+?)\s*$")
QUERY_TERM_CHECKS = frozenset(
    {"query/tag-vs-attribute", "query/unknown-field", "query/unknown-value", "query/ambiguous-precedence"}
)
"""Checks whose finding's text is a piece of the query, which the finding's column must point at."""
CATALOGUE_CHECKS = frozenset({"logger/reserved-key"})
"""Checks about the logger's catalogue rather than the YAML; TestReservedKey gives them their fixtures."""


@dataclass(frozen=True)
class Marker:
    file: str
    line: int
    check: str
    column: int | None


@dataclass(frozen=True)
class FixtureCase:
    check: str
    variant: str
    directory: Path

    @property
    def failing(self) -> bool:
        return self.variant.startswith("bad")

    def files(self) -> dict[str, str]:
        return {path.name: path.read_text(encoding="utf-8") for path in sorted(self.directory.iterdir())}

    def markers(self) -> list[Marker]:
        found = []
        for name, text in self.files().items():
            for number, line in enumerate(text.splitlines(), start=1):
                match = MARKER.search(line)
                if match is None:
                    continue
                for item in match.group("items").split(","):
                    check, _, column = item.strip().partition("@")
                    found.append(Marker(name, number, check, int(column) if column else None))
        return found

    def own_markers(self) -> list[Marker]:
        return [marker for marker in self.markers() if marker.check == self.check]


def discover() -> list[FixtureCase]:
    return [
        FixtureCase(check_directory.name.replace("__", "/"), variant.name, variant)
        for check_directory in sorted(FIXTURES.iterdir())
        if check_directory.is_dir()
        for variant in sorted(check_directory.iterdir())
        if variant.is_dir()
    ]


CASES = discover()
FAILING = [pytest.param(case, id=f"{case.check}:{case.variant}") for case in CASES if case.failing]
FAILING_QUERY_TERMS = [
    pytest.param(case, id=f"{case.check}:{case.variant}")
    for case in CASES
    if case.failing and case.check in QUERY_TERM_CHECKS
]
PASSING = [pytest.param(case, id=f"{case.check}:{case.variant}") for case in CASES if not case.failing]


LintFixture = Callable[[FixtureCase], tuple[Path, list[Finding]]]


@pytest.fixture(scope="module")
def lint_fixture(tmp_path_factory: pytest.TempPathFactory) -> LintFixture:
    """Lint a fixture over a copy of the shipped rules, once per fixture: (directory, the check's findings)."""
    done: dict[FixtureCase, tuple[Path, list[Finding]]] = {}

    def lint(case: FixtureCase) -> tuple[Path, list[Finding]]:
        if case not in done:
            directory = tmp_path_factory.mktemp("fixture") / "rules"
            shutil.copytree(SHIPPED_RULES, directory)
            for name, text in case.files().items():
                (directory / name).write_text(text, encoding="utf-8")
            result = lint_directory(directory)
            assert result.rules is not None, [f"{f.location}: {f.check}: {f.message}" for f in result.findings]
            done[case] = (directory, [finding for finding in result.findings if finding.check == case.check])
        return done[case]

    return lint


def source_from(directory: Path, finding: Finding) -> str:
    """The rules text from the finding's position to the end of its line."""
    lines = (directory / Path(finding.location.file).name).read_text(encoding="utf-8").splitlines()
    return lines[finding.location.line - 1][finding.location.column - 1 :]


class TestFixtureCoverage:
    def test_every_check_has_a_failing_fixture(self) -> None:
        """A new check cannot be registered without a fixture that makes it report."""
        covered = {case.check for case in CASES if case.failing} | CATALOGUE_CHECKS
        assert covered == set(CHECKS), f"missing: {sorted(set(CHECKS) - covered)}"

    def test_every_check_has_a_passing_fixture(self) -> None:
        """A new check cannot be registered without a fixture it stays quiet on."""
        covered = {case.check for case in CASES if not case.failing} | CATALOGUE_CHECKS
        assert covered == set(CHECKS), f"missing: {sorted(set(CHECKS) - covered)}"

    def test_fixtures_name_registered_checks(self) -> None:
        """Fixture directories and their markers name checks that exist, so a renamed check leaves no orphans."""
        assert {case.check for case in CASES} <= set(CHECKS)
        assert {marker.check for case in CASES for marker in case.markers()} <= set(CHECKS)

    def test_variants_are_failing_or_passing(self) -> None:
        """Every fixture variant is named bad… or good…, and only failing ones carry markers."""
        assert all(case.variant.startswith(("bad", "good")) for case in CASES)
        assert all(case.own_markers() for case in CASES if case.failing)
        assert not [case.directory for case in CASES if not case.failing and case.markers()]


class TestFailingFixtures:
    @pytest.mark.parametrize("case", FAILING)
    def test_reports_exactly_the_marked_lines(self, case: FixtureCase, lint_fixture: LintFixture) -> None:
        """The check reports on each marked line (as often as marked) and nowhere else."""
        _, findings = lint_fixture(case)
        reported = Counter((Path(f.location.file).name, f.location.line) for f in findings)
        expected = Counter((marker.file, marker.line) for marker in case.own_markers())
        assert reported == expected, [f"{f.location}: {f.message}" for f in findings]

    @pytest.mark.parametrize("case", FAILING)
    def test_marked_columns(self, case: FixtureCase, lint_fixture: LintFixture) -> None:
        """Where a marker states a column, a finding on that line has exactly that column."""
        _, findings = lint_fixture(case)
        for marker in case.own_markers():
            if marker.column is None:
                continue
            columns = [
                f.location.column
                for f in findings
                if (Path(f.location.file).name, f.location.line) == (marker.file, marker.line)
            ]
            assert marker.column in columns, (marker, columns)

    @pytest.mark.parametrize("case", FAILING)
    def test_findings_carry_the_check_severity_and_a_message(
        self, case: FixtureCase, lint_fixture: LintFixture
    ) -> None:
        """Each finding has its check's registered severity, a message, and the offending text."""
        _, findings = lint_fixture(case)
        for finding in findings:
            assert finding.severity is CHECKS[case.check].severity
            assert finding.message.strip()
            assert finding.text

    @pytest.mark.parametrize("case", FAILING_QUERY_TERMS)
    def test_query_findings_point_at_the_term(self, case: FixtureCase, lint_fixture: LintFixture) -> None:
        """A query finding's column is the first character of the term it is about, as written in the file."""
        directory, findings = lint_fixture(case)
        assert findings
        for finding in findings:
            assert finding.text is not None
            assert source_from(directory, finding).startswith(finding.text), finding


class TestPassingFixtures:
    @pytest.mark.parametrize("case", PASSING)
    def test_reports_nothing(self, case: FixtureCase, lint_fixture: LintFixture) -> None:
        """The check is quiet on rules that come close to its mistake without making it."""
        _, findings = lint_fixture(case)
        assert findings == []


def event(name: str, *fields: FieldSpec) -> EventSpec:
    return EventSpec(name, Category.BUSINESS, name.replace("_", " "), fields, "info", (), always_keep=False)


def text_field(name: str) -> FieldSpec:
    return FieldSpec(name, FieldType.STRING, True, "x")


class TestReservedKey:
    """`logger/reserved-key` reads the catalogue, so its fixtures are catalogues, run through that check only."""

    CHECK = CHECKS["logger/reserved-key"]

    def findings(self, catalogue: dict[str, EventSpec]) -> list[Finding]:
        context = LintContext(load_rules(SHIPPED_RULES), catalogue=catalogue)
        return run_checks(context, [self.CHECK])

    def test_reserved_keys_in_a_catalogue_are_reported(self) -> None:
        """Fields named like Datadog's reserved attributes are errors, whatever their case."""
        catalogue = {
            "refund_issued": event("refund_issued", text_field("transaction_id"), text_field("status")),
            "login_checked": event("login_checked", text_field("Severity"), text_field("host"), text_field("source")),
        }
        findings = self.findings(catalogue)
        assert sorted(f.text or "" for f in findings) == ["Severity", "host", "source", "status"]
        assert {f.severity for f in findings} == {Severity.ERROR}
        status = next(f for f in findings if f.text == "status")
        assert status.message.startswith("event 'refund_issued' field 'status' collides with Datadog's reserved")
        assert "rename it, e.g. 'refund_status'" in status.message
        assert all(f.location.file == "paylog/src/paylog/catalogue.py" for f in findings)

    def test_every_reserved_key_is_caught(self) -> None:
        """Each key Datadog reads as a reserved attribute is caught."""
        reserved = ["status", "level", "severity", "host", "service", "message", "timestamp", "source", "date"]
        catalogue = {f"event_{key}": event(f"event_{key}", text_field(key)) for key in reserved}
        assert sorted(f.text or "" for f in self.findings(catalogue)) == sorted(reserved)

    def test_renamed_business_fields_pass(self) -> None:
        """Business fields renamed away from the reserved keys, even ones that start like them, pass."""
        catalogue = {
            "refund_issued": event(
                "refund_issued",
                text_field("refund_status"),
                text_field("status_code"),
                text_field("hostname_hash"),
                text_field("message_id"),
            )
        }
        assert self.findings(catalogue) == []

    def test_the_real_catalogue_passes(self) -> None:
        """The logger's catalogue uses no reserved key, checked alone and in a full lint."""
        assert self.findings(dict(CATALOGUE)) == []
        everything = lint_rules(load_rules(SHIPPED_RULES), catalogue=CATALOGUE)
        assert [f for f in everything if f.check == self.CHECK.name] == []


class TestMessagesSayHowToFix:
    @pytest.mark.parametrize(
        ("check", "variant", "text", "advice"),
        [
            ("query/tag-vs-attribute", "bad", "ip_address:203.0.113.42", "use '@network.client.ip:203.0.113.42'"),
            ("query/unknown-field", "bad", "@payment_state:failed", "did you mean '@payment_status'?"),
            (
                "query/unknown-field",
                "bad",
                "@payment_status:failed",
                "not on fraud_detection; only on payment_completion",
            ),
            ("query/unknown-field", "bad", "@user_id:*", "the pipeline moves it to '@usr.id'; query the new name"),
            ("query/unknown-value", "bad", "@payment_status:failled", "did you mean 'failed'?"),
            ("query/unknown-value", "bad", "@success:no", "is true or false, never 'no'"),
            ("query/syntax", "bad", None, "unclosed parenthesis '('; add the matching ')'"),
            ("index/name-format", "bad", "Debug_Logs", "try 'debug-logs'"),
            ("index/sample-rate", "bad", "90.0", "it is the share EXCLUDED, from 0 (keep all) to 1 (drop all)"),
            ("index/shadowed-index", "bad", "security", "move 'main' last"),
            ("metric/unknown-path", "bad", "@endpoint", "moves it to '@http.url_details.path'"),
            ("monitor/threshold-mismatch", "bad", None, "the critical threshold is '> 250'"),
            ("monitor/window-range", "bad", "72h", "longer than Datadog's 2 days (2880m or 48h)"),
            ("monitor/no-notification-target", "bad", "pagerduty-security", "handles start with '@'"),
            ("monitor/invisible-logs", "bad", None, "goes to the Flex-only index 'debug'"),
            ("retention/seven-years", "bad", "2555", "7 years is 2557 days counting leap days"),
            ("retention/compliance", "bad", "GLACIER", "move this transition to day 90 or later, or use GLACIER_IR"),
            ("archive/catch-all-not-last", "bad", "security", "move 'everything' last"),
        ],
    )
    def test_message_names_the_fix(
        self, lint_fixture: LintFixture, check: str, variant: str, text: str | None, advice: str
    ) -> None:
        """The finding about a mistake says how to put it right."""
        (case,) = [case for case in CASES if (case.check, case.variant) == (check, variant)]
        _, findings = lint_fixture(case)
        messages = [f.message for f in findings if text is None or f.text == text]
        assert any(advice in message for message in messages), messages
