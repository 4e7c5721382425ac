"""What expectations mean: group-by monitors, evaluation times and windows, rollups, lines and metric tolerances."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from logmon.rules.source import parse_yaml
from logmon.rules.validation import validate_document
from logmon.ruletest import CaseResult, run_tests
from logmon.ruletest.lines import BASE_TIME, case_lines
from logmon.ruletest.model import RuleTestFile

RULES = """\
monitors:
  failures_by_currency:
    name: failures by currency
    search: "@event_type:payment_completion @payment_status:failed"
    window: 5m
    group_by: ["@currency"]
    threshold: {critical: 3, warning: 1}
  incidents:
    name: incidents
    search: "@event_type:security_incident"
    window: 1m
    threshold: {comparator: ">=", critical: 1}
  slow_requests:
    name: slow requests
    search: "@event_type:api_request"
    window: 5m
    rollup: avg
    measure: "@response_time_ms"
    threshold: {critical: 500}
indexes:
  main: {filter: "*"}
metrics:
  logs.api.response_time:
    filter: "@event_type:api_request"
    compute: distribution
    path: "@response_time_ms"
    include_percentiles: true
"""


@pytest.fixture(scope="module")
def rules_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small rule set: a group-by count monitor, a one-minute monitor, an avg monitor and a distribution."""
    directory = tmp_path_factory.mktemp("project") / "rules"
    directory.mkdir()
    (directory / "rules.yaml").write_text(RULES, encoding="utf-8")
    return directory


def run_case(rules_dir: Path, tmp_path: Path, body: str) -> CaseResult:
    """Run one case (the YAML of its body, under `tests: {the_case: ...}`) and return its result."""
    tests = tmp_path / "tests"
    tests.mkdir(exist_ok=True)
    text = "tests:\n  the_case:\n" + textwrap.indent(textwrap.dedent(body), "    ")
    (tests / "case.yaml").write_text(text, encoding="utf-8")
    report = run_tests(rules_dir, tests)
    assert report.findings == [], [str(f.location) + " " + f.message for f in report.findings]
    [case] = report.cases
    return case


def messages(case: CaseResult) -> list[str]:
    return [failure.message for failure in case.failures]


FAILURES_BY_CURRENCY = """\
events:
  - {event: payment_completion, fields: {payment_status: failed, currency: USD}, count: 4, over: 4m}
  - {event: payment_completion, fields: {payment_status: failed, currency: EUR}, at: 1m}
"""


class TestGroupedMonitors:
    def test_without_groups_the_worst_group_decides(self, rules_dir: Path, tmp_path: Path) -> None:
        """Without `groups`, the state is the worst across groups: USD alerts, so the monitor alerts."""
        case = run_case(
            rules_dir,
            tmp_path,
            FAILURES_BY_CURRENCY + "expect:\n  monitors:\n"
            "    - {monitor: failures_by_currency, at: 5m, state: alert}\n",
        )
        assert case.passed

    def test_a_wrong_state_lists_every_group(self, rules_dir: Path, tmp_path: Path) -> None:
        """When the worst state is not the expected one, the message shows each group's value and state."""
        case = run_case(
            rules_dir,
            tmp_path,
            FAILURES_BY_CURRENCY + "expect:\n  monitors:\n    - {monitor: failures_by_currency, at: 5m, state: ok}\n",
        )
        assert messages(case) == [
            "failures_by_currency at 5m: expected ok, got alert (groups {@currency: EUR} 1 ok, "
            "{@currency: USD} 4 alert, critical > 3, warning > 1)"
        ]

    def test_groups_select_by_facet_with_or_without_the_at_sign(self, rules_dir: Path, tmp_path: Path) -> None:
        """`{currency: EUR}` and `{"@currency": USD}` each pick one group, whose state and value are checked."""
        case = run_case(
            rules_dir,
            tmp_path,
            FAILURES_BY_CURRENCY + "expect:\n  monitors:\n"
            "    - {monitor: failures_by_currency, at: 5m, state: ok, groups: [{currency: EUR}], value: 1}\n"
            "    - {monitor: failures_by_currency, at: 5m, state: alert, groups: [{'@currency': USD}], value: 4}\n",
        )
        assert case.passed

    def test_each_listed_group_is_checked_on_its_own(self, rules_dir: Path, tmp_path: Path) -> None:
        """Listing two groups with `state: alert` fails for the group that does not alert, naming it."""
        case = run_case(
            rules_dir,
            tmp_path,
            FAILURES_BY_CURRENCY + "expect:\n  monitors:\n"
            "    - {monitor: failures_by_currency, at: 5m, state: alert, groups: [{currency: EUR}, {currency: USD}]}\n",
        )
        assert messages(case) == [
            "failures_by_currency at 5m for {@currency: EUR}: expected alert, got ok "
            "(value 1, critical > 3, warning > 1)"
        ]

    def test_a_group_without_data_is_ok_and_has_no_value(self, rules_dir: Path, tmp_path: Path) -> None:
        """A group with no logs in the window is OK (no data), and a value expected of it fails."""
        case = run_case(
            rules_dir,
            tmp_path,
            FAILURES_BY_CURRENCY + "expect:\n  monitors:\n"
            "    - {monitor: failures_by_currency, at: 5m, state: ok, groups: [{currency: JPY}]}\n"
            "    - {monitor: failures_by_currency, at: 5m, state: ok, groups: [{currency: JPY}], value: 0}\n",
        )
        assert messages(case) == [
            "failures_by_currency at 5m for {@currency: JPY}: expected ok with value 0, got ok "
            "(no data, critical > 3, warning > 1)"
        ]


class TestEvaluationTimes:
    def test_the_window_ends_just_before_the_evaluation_time(self, rules_dir: Path, tmp_path: Path) -> None:
        """At 1m the window is [0s, 60s): a line at 59s counts then, a line at 60s only at 2m."""
        case = run_case(
            rules_dir,
            tmp_path,
            """\
            events:
              - {event: security_incident, at: 59s}
              - {event: security_incident, at: 60s}
            expect:
              monitors:
                - {monitor: incidents, at: 1m, state: alert, value: 1}
                - {monitor: incidents, at: 2m, state: alert, value: 1}
                - {monitor: incidents, at: 3m, state: ok, value: 0}
            """,
        )
        assert case.passed

    @pytest.mark.parametrize("spread", ["every: 1m", "over: 3m"])
    def test_lines_spread_by_every_or_over(self, rules_dir: Path, tmp_path: Path, spread: str) -> None:
        """Three lines from 30s, one a minute (`every: 1m` or `over: 3m`), fill three one-minute windows."""
        case = run_case(
            rules_dir,
            tmp_path,
            f"""\
            events:
              - {{event: security_incident, count: 3, at: 30s, {spread}}}
            expect:
              monitors:
                - {{monitor: incidents, at: 1m, state: alert, value: 1}}
                - {{monitor: incidents, at: 2m, state: alert, value: 1}}
                - {{monitor: incidents, at: 3m, state: alert, value: 1}}
                - {{monitor: incidents, at: 4m, state: ok, value: 0}}
            """,
        )
        assert case.passed

    def test_expectations_after_the_last_line_are_evaluated(self, rules_dir: Path, tmp_path: Path) -> None:
        """Evaluation runs on to the latest expectation, long after the last line."""
        case = run_case(
            rules_dir,
            tmp_path,
            """\
            events:
              - {event: security_incident}
            expect:
              monitors:
                - {monitor: incidents, at: 2h, state: alert, value: 1}
            """,
        )
        assert messages(case) == ["incidents at 2h: expected alert with value 1, got ok (value 0, critical >= 1)"]

    def test_quiet_covers_every_evaluation_of_the_case(self, rules_dir: Path, tmp_path: Path) -> None:
        """`quiet` fails on an alert that comes after every other expectation, and says when."""
        case = run_case(
            rules_dir,
            tmp_path,
            """\
            events:
              - {event: api_request, count: 5, over: 5m}
              - {event: security_incident, at: 570s}
            expect:
              monitors:
                - {monitor: incidents, at: 1m, state: ok}
              quiet: [incidents, slow_requests]
            """,
        )
        assert messages(case) == ["incidents should stay ok, but was alert at 10m (value 1, critical >= 1)"]


class TestRollupsAndRawLines:
    def test_an_average_monitor_value(self, rules_dir: Path, tmp_path: Path) -> None:
        """An `avg` monitor is evaluated once its logs fill the window (the mean of the measure), and keeps its
        last state after they stop, as deployed (require_full_window, on_missing_data: default)."""
        case = run_case(
            rules_dir,
            tmp_path,
            """\
            events:
              - {event: api_request, fields: {response_time_ms: 400}, at: 10s, count: 6, every: 1m}
              - {event: api_request, fields: {response_time_ms: 700}, at: 20s, count: 6, every: 1m}
            expect:
              monitors:
                - {monitor: slow_requests, at: 1m, state: ok}
                - {monitor: slow_requests, at: 5m, state: alert, value: 550}
                - {monitor: slow_requests, at: 15m, state: alert}
            """,
        )
        assert case.passed

    def test_a_raw_line_is_dated_by_its_stream(self, rules_dir: Path, tmp_path: Path) -> None:
        """A raw line without a date is received at its stream's time, so it counts in that minute."""
        case = run_case(
            rules_dir,
            tmp_path,
            """\
            events:
              - raw: {event_type: security_incident, level: critical, message: from another program}
                at: 90s
            expect:
              monitors:
                - {monitor: incidents, at: 1m, state: ok, value: 0}
                - {monitor: incidents, at: 2m, state: alert, value: 1}
            """,
        )
        assert case.passed


class TestMetricTolerance:
    BODY = """\
    events:
      - {event: api_request, fields: {response_time_ms: 40}, count: 99}
      - {event: api_request, fields: {response_time_ms: 900}}
    expect:
      metrics:
        - {metric: logs.api.response_time, count: 100, p50: %s, avg: 48.6}
    """

    def test_percentiles_within_two_percent_pass(self, rules_dir: Path, tmp_path: Path) -> None:
        """The sketch's p50 of forty-millisecond requests is accepted within 2 %."""
        assert run_case(rules_dir, tmp_path, self.BODY % "40.7").passed

    def test_percentiles_beyond_two_percent_fail(self, rules_dir: Path, tmp_path: Path) -> None:
        """A p50 off by 3 % fails, and the message says the tolerance."""
        case = run_case(rules_dir, tmp_path, self.BODY % "41.2")
        [message] = messages(case)
        assert message.startswith("logs.api.response_time: p50 expected 41.2 (within 2 %), got 40")
        assert message.endswith("(count 100)")

    def test_exact_summaries_are_compared_exactly(self, rules_dir: Path, tmp_path: Path) -> None:
        """`avg` is not a sketch estimate: 48.7 for a mean of 48.6 fails."""
        case = run_case(rules_dir, tmp_path, (self.BODY % "40").replace("avg: 48.6", "avg: 48.7"))
        assert messages(case) == ["logs.api.response_time: avg expected 48.7, got 48.6 (count 100)"]


class TestLines:
    @staticmethod
    def case(text: str) -> RuleTestFile:
        return validate_document(parse_yaml(textwrap.dedent(text), "t.yaml"), RuleTestFile, "t.yaml")

    def test_each_line_has_its_own_stable_correlation_id(self) -> None:
        """By default every line is its own request, and the IDs are the same on every run."""
        parsed = self.case(
            """\
            tests:
              a:
                events: [{event: api_request, count: 50}]
                expect: {quiet: [x]}
            """
        )
        first = [line.raw["correlation_id"] for line in case_lines(parsed.tests["a"])]
        again = [line.raw["correlation_id"] for line in case_lines(parsed.tests["a"])]
        assert len(set(first)) == 50
        assert first == again

    def test_a_fixed_correlation_id_makes_one_request(self) -> None:
        """`correlation_id` puts every line of the stream in one request."""
        parsed = self.case(
            """\
            tests:
              a:
                events: [{event: api_request, count: 5, correlation_id: req-1}]
                expect: {quiet: [x]}
            """
        )
        assert {line.raw["correlation_id"] for line in case_lines(parsed.tests["a"])} == {"req-1"}

    def test_required_fields_come_from_the_catalogue_examples(self) -> None:
        """Fields left out take the catalogue's examples; given ones win; the level follows the level rules."""
        parsed = self.case(
            """\
            tests:
              a:
                events: [{event: api_request, fields: {status_code: 503}, at: 2m, service: checkout}]
                expect: {quiet: [x]}
            """
        )
        [line] = case_lines(parsed.tests["a"])
        assert line.raw["endpoint"] == "/v1/payments"
        assert line.raw["status_code"] == 503
        assert line.raw["level"] == "error"
        assert line.raw["service"] == "checkout"
        assert line.raw["timestamp"] == "2026-01-05T00:02:00.000000Z"
        assert line.timestamp == BASE_TIME.timestamp() + 120

    def test_streams_interleave_in_time_order(self) -> None:
        """Lines of several streams are fed by time, whatever order the streams are written in."""
        parsed = self.case(
            """\
            tests:
              a:
                events:
                  - {message: later, level: info, count: 2, at: 30s, every: 30s}
                  - {raw: {message: earlier}, count: 2, every: 40s}
                expect: {quiet: [x]}
            """
        )
        offsets = [line.offset // 1_000_000 for line in case_lines(parsed.tests["a"])]
        assert offsets == [0, 30, 40, 60]
