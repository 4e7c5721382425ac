"""Wrong test files: each problem is one clear line at file:line:col, nothing runs, and the exit status is 2."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from ruletest_testing import SHIPPED_RULES, ProjectCopy, edit, run_main

from logmon.ruletest import run_tests

HEADER = "# yaml-language-server: $schema=../../schema/ruletests.schema.json\n"


def position(text: str, needle: str) -> tuple[int, int]:
    """(line, column), 1-based, of the only occurrence of `needle`."""
    assert text.count(needle) == 1, needle
    before = text[: text.index(needle)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def check(tmp_path: Path, body: str, needle: str | None, message: str) -> None:
    """The file `body` makes `logmon test` exit 2 with `message` reported where `needle` is written (if given)."""
    text = HEADER + textwrap.dedent(body)
    tests = tmp_path / "tests"
    tests.mkdir(exist_ok=True)
    path = tests / "case.yaml"
    path.write_text(text, encoding="utf-8")
    status, output = run_main(SHIPPED_RULES, tests=tests)
    assert status == 2, output
    if needle is not None:
        line, column = position(text, needle)
        assert f"{path}:{line}:{column}: error " in output, output
    else:
        assert output.startswith(f"{path}:"), output
    assert message in output, output
    assert "Traceback" not in output
    assert output.splitlines()[-1].startswith("rule tests did not run: ")
    assert " passed, " not in output


class TestSchemaProblems:
    def test_unknown_key(self, tmp_path: Path) -> None:
        """A misspelt key is reported at the key, with the key it probably means."""
        check(
            tmp_path,
            """\
            tests:
              a_case:
                events: [{event: payment_completion}]
                expectt: {quiet: [payment_failures]}
            """,
            "expectt",
            "unknown key 'expectt'; did you mean 'expect'?",
        )

    def test_unknown_event_type(self, tmp_path: Path) -> None:
        """An event type the catalogue lacks is reported at the value, with the closest catalogued one."""
        check(
            tmp_path,
            """\
            tests:
              a_case:
                events:
                  - event: payment_complete
                expect: {quiet: [payment_failures]}
            """,
            "payment_complete\n",
            "unknown event type 'payment_complete'; did you mean 'payment_completion'?",
        )

    def test_malformed_duration(self, tmp_path: Path) -> None:
        """`5 minutes` is not a duration; the message shows the accepted form."""
        check(
            tmp_path,
            """\
            tests:
              a_case:
                events: [{event: payment_completion, count: 10, over: 5 minutes}]
                expect: {quiet: [payment_failures]}
            """,
            "5 minutes",
            "'5 minutes' is not a duration; write a whole number and a unit (ms, s, m or h), e.g. `90s` or `5m`",
        )

    def test_a_level_on_an_event(self, tmp_path: Path) -> None:
        """An event's level comes from the catalogue, so setting one is an error that says what to do instead."""
        check(
            tmp_path,
            """\
            tests:
              a_case:
                events:
                  - {event: api_request, level: error}
                expect: {quiet: [payment_failures]}
            """,
            "error}",
            "takes its level from the catalogue's level rules",
        )

    def test_a_raw_line_with_its_own_date(self, tmp_path: Path) -> None:
        """A raw line is dated by its stream; a `timestamp` in it is refused."""
        check(
            tmp_path,
            """\
            tests:
              a_case:
                events:
                  - raw: {message: hello, timestamp: "2026-01-05T00:00:00Z"}
                expect: {quiet: [payment_failures]}
            """,
            "{message: hello",
            "remove `timestamp` from it",
        )

    def test_a_case_without_expectations(self, tmp_path: Path) -> None:
        """A case that expects nothing proves nothing and is refused."""
        check(
            tmp_path,
            """\
            tests:
              a_case:
                events: [{event: payment_completion}]
                expect: {}
            """,
            "{}",
            "a case must expect something",
        )

    def test_malformed_yaml(self, tmp_path: Path) -> None:
        """Unreadable YAML is a syntax finding, not a traceback."""
        check(
            tmp_path,
            """\
            tests:
              a_case: [unclosed
            """,
            None,
            "malformed YAML",
        )


class TestRuleReferences:
    def test_unknown_monitor_slug(self, tmp_path: Path) -> None:
        """A monitor the rules do not define is reported at the slug, with the closest defined one."""
        check(
            tmp_path,
            """\
            tests:
              a_case:
                events: [{event: payment_completion}]
                expect:
                  monitors:
                    - {monitor: payment_failure, at: 5m, state: ok}
            """,
            "payment_failure,",
            "no monitor 'payment_failure' in the rules; did you mean 'payment_failures'?",
        )

    def test_unknown_quiet_slug(self, tmp_path: Path) -> None:
        """A misspelt `quiet` entry cannot pass silently forever; it is an error at the entry."""
        check(
            tmp_path,
            """\
            tests:
              a_case:
                events: [{event: payment_completion}]
                expect: {quiet: [fraud_block]}
            """,
            "fraud_block]",
            "no monitor 'fraud_block' in the rules; did you mean 'fraud_blocks'?",
        )

    def test_evaluation_time_between_minutes(self, tmp_path: Path) -> None:
        """Monitors are evaluated at minute boundaries; `90s` is refused where it is written."""
        check(
            tmp_path,
            """\
            tests:
              a_case:
                events: [{event: payment_completion}]
                expect:
                  monitors:
                    - {monitor: payment_failures, at: 90s, state: ok}
            """,
            "90s",
            "monitors are evaluated at minute boundaries from 1m on; '90s' is not one",
        )

    def test_unknown_metric_tag(self, tmp_path: Path) -> None:
        """A tag the metric does not have is reported at the tag, listing the metric's tags."""
        check(
            tmp_path,
            """\
            tests:
              a_case:
                events: [{event: payment_attempt}]
                expect:
                  metrics:
                    - {metric: logs.payment.attempts, tags: {curency: EUR}, value: 1}
            """,
            "curency",
            "metric 'logs.payment.attempts' has no tag 'curency'; its tags are currency, payment_method",
        )

    def test_count_keys_on_a_distribution(self, tmp_path: Path) -> None:
        """A distribution has no single `value`; the message lists what can be expected of it."""
        check(
            tmp_path,
            """\
            tests:
              a_case:
                events: [{event: payment_completion}]
                expect:
                  metrics:
                    - {metric: logs.payment.processing_time, value: 1}
            """,
            "1}",
            "metric 'logs.payment.processing_time' is a distribution: expect any of count, sum",
        )

    def test_routing_names_an_unknown_stream(self, tmp_path: Path) -> None:
        """`routing` refers to streams by name; an unknown name is an error at the reference."""
        check(
            tmp_path,
            """\
            tests:
              a_case:
                events: [{name: attempts, event: payment_attempt}]
                expect:
                  routing:
                    - {events: attempt, index: main}
            """,
            "attempt,",
            "no stream named 'attempt' in this case; did you mean 'attempts'?",
        )

    def test_stack_without_a_stack_file(self, tmp_path: Path) -> None:
        """A stack needs its Pulumi.<stack>.yaml beside the rules directory."""
        rules = tmp_path / "project" / "rules"
        rules.mkdir(parents=True)
        for path in SHIPPED_RULES.glob("*.yaml"):
            (rules / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        tests = rules / "tests"
        tests.mkdir()
        (tests / "case.yaml").write_text(
            HEADER + "tests:\n  a_case:\n    stack: dev\n    events: [{event: api_request}]\n"
            "    expect: {quiet: [high_error_rate]}\n",
            encoding="utf-8",
        )
        status, output = run_main(rules)
        assert status == 2
        assert f"{tests / 'case.yaml'}:4:12: error ruletest/stack: stack 'dev' needs " in output
        assert "Pulumi.dev.yaml" in output


class TestLoggerRefusals:
    def test_a_field_value_the_catalogue_does_not_allow(self, tmp_path: Path) -> None:
        """The real logger, in strict mode, refuses the value; the error points at the field in the test file."""
        check(
            tmp_path,
            """\
            tests:
              a_case:
                events:
                  - event: payment_completion
                    fields:
                      payment_status: lost
                expect: {quiet: [payment_failures]}
            """,
            "lost",
            "the logger refuses event 'payment_completion': field 'payment_status': 'lost' is not allowed "
            "(allowed: pending, completed, failed, cancelled, refunded)",
        )

    def test_a_field_of_the_wrong_type(self, tmp_path: Path) -> None:
        """A text amount is refused at the field, as the logger would refuse it in dev and test."""
        check(
            tmp_path,
            """\
            tests:
              a_case:
                events:
                  - {event: payment_attempt, fields: {amount: "12 EUR"}}
                expect: {quiet: [payment_failures]}
            """,
            '"12 EUR"',
            "field 'amount': expected number, got str",
        )

    def test_a_field_the_event_does_not_have(self, tmp_path: Path) -> None:
        """The old business `status` key is not a field of payment_completion."""
        check(
            tmp_path,
            """\
            tests:
              a_case:
                events:
                  - {event: payment_completion, fields: {status: failed}}
                expect: {quiet: [payment_failures]}
            """,
            "failed}",
            "field 'status'",
        )


class TestEveryProblemAtOnce:
    def test_valid_cases_beside_an_invalid_one_are_still_checked(self, tmp_path: Path) -> None:
        """One run reports a schema problem in one case and a reference problem in another."""
        text = HEADER + textwrap.dedent(
            """\
            tests:
              broken:
                evnets: []
                expect: {quiet: [payment_failures]}
              misspelt:
                events: [{event: payment_completion}]
                expect: {quiet: [payment_failure]}
            """
        )
        tests = tmp_path / "tests"
        tests.mkdir()
        (tests / "case.yaml").write_text(text, encoding="utf-8")
        report = run_tests(SHIPPED_RULES, tests)
        checks = sorted(finding.check for finding in report.findings)
        assert checks == ["ruletest/unknown-monitor", "schema/missing-key", "schema/unknown-key"]
        assert report.cases == []


class TestNothingToRun:
    def test_no_tests_directory(self, tmp_path: Path) -> None:
        """A missing tests directory is an error naming it."""
        status, output = run_main(SHIPPED_RULES, tests=tmp_path / "absent")
        assert status == 2
        assert "no rule tests directory here" in output

    def test_an_empty_test_file(self, tmp_path: Path) -> None:
        """A file with no tests in it is an error, not a silent pass."""
        (tmp_path / "empty.yaml").write_text(HEADER, encoding="utf-8")
        status, output = run_main(SHIPPED_RULES, tests=tmp_path)
        assert status == 2
        assert f"{tmp_path / 'empty.yaml'}:1:1: error ruletest/empty-file" in output

    def test_invalid_rules(self, project_copy: ProjectCopy) -> None:
        """Rules that do not load stop the run with their own findings."""
        rules = project_copy({})
        edit(
            rules / "monitors.yaml",
            "    window: 5m\n    threshold:\n      unit: per_minute\n      critical: 100\n",
            "    window: 5m\n    treshold:\n      unit: per_minute\n      critical: 100\n",
        )
        status, output = run_main(rules)
        assert status == 2
        assert "unknown key 'treshold'" in output

    def test_rules_whose_query_does_not_parse(self, project_copy: ProjectCopy) -> None:
        """A monitor query with a syntax error stops the run at the query's position."""
        rules = project_copy({})
        edit(rules / "monitors.yaml", '"@event_type:security_incident"', '"@event_type:(security_incident"')
        status, output = run_main(rules)
        assert status == 2
        assert "error ruletest/rules: monitor 'security_incidents'" in output

    def test_a_monitor_window_out_of_range(self, project_copy: ProjectCopy) -> None:
        """A window the engine cannot evaluate stops the run at the window, not with a traceback."""
        rules = project_copy({})
        edit(rules / "monitors.yaml", "    window: 1m\n", "    window: 0m\n")
        status, output = run_main(rules)
        assert status == 2
        assert f"{rules / 'monitors.yaml'}:" in output
        assert "monitor 'security_incidents': window '0m' must be minutes or hours" in output

    def test_a_pipeline_expression_the_emulator_cannot_run(self, project_copy: ProjectCopy) -> None:
        """A malformed arithmetic expression stops the run at the expression."""
        rules = project_copy({})
        edit(rules / "pipelines.yaml", '"response_time_ms * 1000000"', '"response_time_ms * * 1000000"')
        status, output = run_main(rules)
        assert status == 2
        assert "pipeline 'paylog': not an arithmetic expression" in output

    def test_an_array_condition_that_does_not_parse(self, project_copy: ProjectCopy) -> None:
        """An array processor's condition with a syntax error stops the run at the condition."""
        rules = project_copy({})
        (rules / "ingress.yaml").write_text(
            "pipelines:\n"
            "  ingress:\n"
            "    name: ingress\n"
            "    processors:\n"
            "      - type: array_processor\n"
            "        operation: {type: select, source: h, filter: '(name:x', value_to_extract: v, target: t}\n",
            encoding="utf-8",
        )
        status, output = run_main(rules)
        assert status == 2
        assert f"{rules / 'ingress.yaml'}:6:" in output
        assert "pipeline 'ingress' array condition" in output

    def test_a_stack_override_naming_no_monitor(self, project_copy: ProjectCopy) -> None:
        """A typo in a stack's overrides is reported in the stack file, and the cases using the stack cannot run."""
        rules = project_copy({})
        stack = rules.parent / "Pulumi.dev.yaml"
        edit(stack, "      payment_failures:\n        threshold", "      payment_failure:\n        threshold")
        status, output = run_main(rules)
        assert status == 2
        assert "Pulumi.dev.yaml" in output
        assert "the override names monitor 'payment_failure', which no rule defines" in output

    def test_a_stack_override_the_engine_cannot_run(self, project_copy: ProjectCopy) -> None:
        """A window overridden out of range in a stack is reported with the stack file it comes from."""
        rules = project_copy({})
        stack = rules.parent / "Pulumi.dev.yaml"
        edit(stack, "        threshold: {critical: 5, warning: 2}\n", "        window: 9000m\n")
        status, output = run_main(rules)
        [problem, summary] = output.splitlines()
        assert status == 2
        assert problem.startswith("Pulumi.dev.yaml:")
        assert "monitor 'payment_failures': window '9000m' is longer than Datadog's 2 days" in problem
        assert summary == "rule tests did not run: 1 problem to fix first"

    @pytest.mark.parametrize("pattern", ["(", "[a-"])
    def test_a_malformed_run_pattern(self, pattern: str) -> None:
        """`--run` must be a regular expression; anything else is a usage error."""
        status, output = run_main(SHIPPED_RULES, run=pattern)
        assert status == 2
        assert "is not a regular expression" in output
