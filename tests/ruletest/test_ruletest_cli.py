"""`logmon test` as CI runs it: exit statuses, `--run`, JUnit XML and `--coverage`."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ruletest_testing import SHIPPED_RULES, CommandRun, ProjectCopy, edit, run_main

from logmon.ruletest import TestReport


class TestRunSelection:
    def test_run_selects_cases_by_file_and_name(self) -> None:
        """`--run` is searched in `<file stem>/<case name>`; only matching cases run."""
        status, output = run_main(SHIPPED_RULES, run="^authentication/(fires|warns)_")
        assert status == 0
        assert output == "2 passed, 0 failed\n"

    def test_run_matching_nothing_fails_and_says_so(self) -> None:
        """A pattern that matches no case is a bad argument: status 2 and a line saying no case matched."""
        status, output = run_main(SHIPPED_RULES, run="no-such-case")
        assert status == 2
        assert "no case matched --run 'no-such-case'" in output

    def test_a_failing_case_makes_the_status_one(self, project_copy: ProjectCopy) -> None:
        """Any failed case exits 1 and is counted in the summary line."""
        rules = project_copy({})
        edit(rules / "monitors.yaml", "      critical: 20\n", "      critical: 21\n")
        status, output = run_main(rules, run="^authentication/")
        assert status == 1
        assert output.splitlines()[-1] == "4 passed, 1 failed"
        assert output.splitlines()[0] == (
            f"FAIL authentication/fires_just_above_the_threshold ({rules / 'tests' / 'authentication.yaml'}:7:3)"
        )


class TestJunit:
    def test_one_testcase_per_case_with_failures_marked(self, project_copy: ProjectCopy, tmp_path: Path) -> None:
        """The XML parses, has one testcase per case that ran, and marks exactly the failed ones."""
        rules = project_copy({})
        edit(rules / "monitors.yaml", "@action:block", "@action:review")
        junit = tmp_path / "reports" / "rule-tests.xml"
        status, _ = run_main(rules, run="^(fraud|security)/", junit=junit)
        root = ET.parse(junit).getroot()
        cases = root.findall("./testsuite/testcase")
        failed = {case.get("name") for case in cases if case.find("failure") is not None}
        assert status == 1
        assert root.tag == "testsuites"
        assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "4", "0")
        assert len(cases) == 6
        assert failed == {
            "fires_just_above_the_threshold",
            "warns_at_the_threshold",
            "quiet_at_the_warning",
            "reviews_are_not_blocks",
        }
        fraud = root.find("./testsuite[@name='" + str(rules / "tests" / "fraud.yaml") + "']")
        assert fraud is not None
        assert fraud.get("failures") == "4"
        failure = fraud.find("./testcase[@name='fires_just_above_the_threshold']/failure")
        assert failure is not None
        assert failure.get("message", "").startswith("fraud_blocks at 5m: expected alert with value 51, got ok")
        assert str(rules / "tests" / "fraud.yaml") in (failure.text or "")

    def test_every_shipped_case_is_a_passing_testcase(
        self, shipped_command: CommandRun, shipped_report: TestReport
    ) -> None:
        """Over the shipped tests, JUnit lists every case once, none failed."""
        root = ET.parse(shipped_command.junit).getroot()
        names = [f"{case.get('classname')}/{case.get('name')}" for case in root.iter("testcase")]
        assert shipped_command.status == 0
        assert sorted(names) == sorted(case.id for case in shipped_report.cases)
        assert not list(root.iter("failure"))

    def test_invalid_files_are_errors_in_the_report(self, tmp_path: Path) -> None:
        """When test files are invalid, JUnit still says so: one errored testcase per file."""
        tests = tmp_path / "tests"
        tests.mkdir()
        (tests / "broken.yaml").write_text("tests:\n  a_case: {events: []}\n", encoding="utf-8")
        junit = tmp_path / "junit.xml"
        status, _ = run_main(SHIPPED_RULES, junit=junit, tests=tests)
        root = ET.parse(junit).getroot()
        [case] = root.iter("testcase")
        assert status == 2
        assert case.get("name") == str(tests / "broken.yaml")
        error = case.find("error")
        assert error is not None
        assert "missing required key 'expect'" in (error.text or "")

    def test_an_unwritable_report_path_is_a_usage_error(self, tmp_path: Path) -> None:
        """A JUnit path that cannot be written exits 2 with the reason."""
        status, output = run_main(SHIPPED_RULES, run="^security/", junit=tmp_path)
        assert status == 2
        assert f"cannot write {tmp_path}" in output


class TestCoverageOption:
    def test_shipped_coverage_has_no_gap(self, shipped_command: CommandRun) -> None:
        """`--coverage` over the shipped tests lists only unused event types and exits 0."""
        output = shipped_command.output
        coverage = output[output.index("coverage:\n") :]
        assert shipped_command.status == 0
        assert output.index(" passed, 0 failed\n") < output.index("coverage:\n")
        assert "\n  monitor " not in coverage
        assert "  event type cache_operation: no monitor or metric uses it\n" in coverage

    def test_a_monitor_without_a_firing_case_exits_one(self, project_copy: ProjectCopy) -> None:
        """Without security.yaml nothing makes security_incidents fire: coverage names it and exits 1."""
        rules = project_copy({})
        (rules / "tests" / "security.yaml").unlink()
        status, output = run_main(rules, run="^(payments|fraud|authentication|errors)/", coverage=True)
        assert status == 1
        assert output.splitlines()[0] == "25 passed, 0 failed"
        assert "  monitor security_incidents: no case makes it fire (expect `state: alert`)\n" in output
        assert "monitor payment_failures" not in output

    def test_coverage_counts_only_the_cases_that_ran(self) -> None:
        """With `--run`, coverage is about the selected cases, so a narrow run shows gaps."""
        status, output = run_main(SHIPPED_RULES, run="^security/", coverage=True)
        assert status == 1
        assert "monitor payment_failures: no case makes it fire" in output
        assert "monitor security_incidents" not in output
