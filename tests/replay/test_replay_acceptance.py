"""Acceptance: a simulated 40 minutes with two bursts, replayed through the shipped rules.

The bursts are sized so that exactly two monitors trip, and the minute each trips can be worked out by
hand from the rules' thresholds and the traffic's per-minute counts:

- payment_failures: 50/min over 5 m → `> 250`. Steady traffic has 1 failed completion a minute; the burst
  adds 200 a minute in minutes 10 and 11. At 00:11 the window [6, 11) holds 4·1 + 201 = 205; at 00:12 the
  window [7, 12) holds 3·1 + 2·201 = 405 > 250, so the monitor alerts at 00:12, and recovers at 00:16
  (window [11, 16): 201 + 4 = 205).
- authentication_failures: 20/min over 5 m → `> 100`. Steady traffic has 3 failed logins a minute; the
  burst adds 60 a minute in minutes 20–22. At 00:21: 4·3 + 63 = 75; at 00:22: 3·3 + 2·63 = 135 > 100,
  so it alerts at 00:22 and recovers at 00:27 (window [22, 27): 63 + 4·3 = 75).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
import pytest
from replay_testing import MINUTES, TRAFFIC, at_minute, shipped_rules

from logmon.evaluation import Evaluation, Intake
from logmon.queries import thresholds
from logmon.replay import Replay, render_text
from logmon.rules.loader import RuleSet
from logmon.simulate import START, simulate

Line = dict[str, Any]


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return shipped_rules()


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    return list(simulate(MINUTES, TRAFFIC))


@pytest.fixture(scope="module")
def parsed(lines: list[bytes]) -> list[Line]:
    return [orjson.loads(line) for line in lines]


@pytest.fixture(scope="module")
def report(rules: RuleSet, lines: list[bytes]) -> dict[str, Any]:
    return Replay(rules).run(lines)


@pytest.fixture(scope="module")
def evaluation(rules: RuleSet, lines: list[bytes]) -> Evaluation:
    """The same lines through the same engine, keeping every monitor's per-minute values."""
    intake, evaluation = Intake(rules), Evaluation(rules, keep_timeline=True)
    for line in lines:
        evaluation.feed(intake.ingest(orjson.loads(line), line))
    evaluation.finish()
    return evaluation


def minute_of(line: Line) -> int:
    moment = datetime.fromisoformat(line["timestamp"].replace("Z", "+00:00"))
    return int((moment - START).total_seconds() // 60)


def per_minute(parsed: list[Line], wanted: Callable[[Line], bool]) -> list[int]:
    counts = Counter(minute_of(line) for line in parsed if wanted(line))
    return [counts[minute] for minute in range(MINUTES)]


def first_crossing(counts: list[int], window: int, threshold: float) -> int | None:
    """The first boundary T whose window [T − window, T) holds more than `threshold`."""
    for boundary in range(1, len(counts) + window + 1):
        if sum(counts[max(0, boundary - window) : boundary]) > threshold:
            return boundary
    return None


def failed_payment(line: Line) -> bool:
    return line.get("event_type") == "payment_completion" and line.get("payment_status") == "failed"


def failed_login(line: Line) -> bool:
    return line.get("event_type") == "authentication_attempt" and line.get("success") is False


def window_value(evaluation: Evaluation, slug: str, minute: int) -> float:
    timeline = evaluation.monitors[slug].timeline
    assert timeline is not None
    start = int(START.timestamp()) // 60
    return timeline[start + minute][()].value


class TestGeneratedTraffic:
    def test_per_minute_counts_are_exact(self, parsed: list[Line]) -> None:
        """The generator writes exactly the steady rate plus each burst, minute by minute."""
        payments = per_minute(parsed, failed_payment)
        logins = per_minute(parsed, failed_login)
        assert payments == [201 if m in (10, 11) else 1 for m in range(MINUTES)]
        assert logins == [63 if m in (20, 21, 22) else 3 for m in range(MINUTES)]
        assert len(parsed) == 261 * MINUTES + 2 * 200 + 3 * 60

    def test_lines_are_real_logger_output(self, parsed: list[Line]) -> None:
        """Each line carries the logger's fields and a distinct correlation ID, in time order."""
        assert all(
            {"timestamp", "level", "message", "logger", "service", "event_type"} <= line.keys() for line in parsed
        )
        assert len({line["correlation_id"] for line in parsed}) == len(parsed)
        stamps = [line["timestamp"] for line in parsed]
        assert stamps == sorted(stamps)


class TestMonitorsThatTrip:
    def test_thresholds_are_per_minute_rates_times_five(self, rules: RuleSet) -> None:
        """The worked example rests on these thresholds: 50/min and 20/min over 5 minutes."""
        assert thresholds(rules.monitors["payment_failures"]) == (250, 125)
        assert thresholds(rules.monitors["authentication_failures"]) == (100, 50)

    def test_first_crossings_worked_out_from_the_counts(self, rules: RuleSet, parsed: list[Line]) -> None:
        """From the per-minute counts and the thresholds, payments cross at 00:12 and logins at 00:22."""
        payments, _ = thresholds(rules.monitors["payment_failures"])
        logins, _ = thresholds(rules.monitors["authentication_failures"])
        assert first_crossing(per_minute(parsed, failed_payment), 5, payments) == 12
        assert first_crossing(per_minute(parsed, failed_login), 5, logins) == 22

    def test_payment_failures_alert_at_the_worked_out_minute(self, report: dict[str, Any]) -> None:
        """payment_failures fires at 00:12 and recovers at 00:16, at most 405 failures in a window."""
        result = report["monitors"]["payment_failures"]
        assert result["fired"] is True
        assert result["first_alert_at"] == at_minute(12) == "2026-01-05T00:12:00Z"
        assert result["alerts"] == [{"group": {}, "from": at_minute(12), "to": at_minute(16)}]
        assert result["max_value"] == 405

    def test_authentication_failures_alert_at_the_worked_out_minute(self, report: dict[str, Any]) -> None:
        """authentication_failures fires at 00:22 and recovers at 00:27, at most 195 failures in a window."""
        result = report["monitors"]["authentication_failures"]
        assert result["fired"] is True
        assert result["first_alert_at"] == at_minute(22) == "2026-01-05T00:22:00Z"
        assert result["alerts"] == [{"group": {}, "from": at_minute(22), "to": at_minute(27)}]
        assert result["max_value"] == 3 * 63 + 2 * 3

    def test_one_minute_earlier_they_were_below(self, evaluation: Evaluation) -> None:
        """The evaluation a minute before each first alert was under the threshold (a warning, not an alert)."""
        assert [window_value(evaluation, "payment_failures", m) for m in (11, 12)] == [205, 405]
        assert [window_value(evaluation, "authentication_failures", m) for m in (21, 22)] == [75, 135]
        timeline = evaluation.monitors["payment_failures"].timeline
        assert timeline is not None
        start = int(START.timestamp()) // 60
        assert [timeline[start + m][()].state.value for m in (10, 11, 12)] == ["ok", "warn", "alert"]

    def test_the_other_monitors_stay_quiet(self, rules: RuleSet, report: dict[str, Any]) -> None:
        """high_error_rate, fraud_blocks and security_incidents never fire and stay under their thresholds."""
        assert {slug for slug, result in report["monitors"].items() if result["fired"]} == {
            "payment_failures",
            "authentication_failures",
        }
        for slug in ("high_error_rate", "fraud_blocks", "security_incidents"):
            result = report["monitors"][slug]
            assert (result["first_alert_at"], result["alerts"]) == (None, [])
            critical, _ = thresholds(rules.monitors[slug])
            assert result["max_value"] < critical
        assert report["monitors"]["high_error_rate"]["max_value"] == 5 * 2  # the steady 503s


class TestIndexesAndMetrics:
    def test_every_line_is_an_event(self, report: dict[str, Any], parsed: list[Line]) -> None:
        """Every generated line is replayed; none is malformed or unrouted."""
        assert report["events"] == len(parsed)
        assert report["malformed"] == {"count": 0, "lines": []}
        assert report["unrouted"] == 0

    def test_index_routing_counts(self, report: dict[str, Any], parsed: list[Line]) -> None:
        """Security events go to `security`, debug lines to flex `debug`, the rest to `main`."""
        security = sum(line["event_type"] == "authentication_attempt" for line in parsed)
        debug = sum(line["level"] == "debug" for line in parsed)
        indexes = report["indexes"]
        assert indexes["security"] == {"matched": security, "indexed": security, "excluded": 0}
        assert indexes["debug"] == {"matched": debug, "indexed": debug, "excluded": 0}
        assert indexes["main"]["matched"] == len(parsed) - security - debug

    def test_main_index_sampling(self, report: dict[str, Any], parsed: list[Line]) -> None:
        """Only routine info lines are sampled, and about 90 % of them are excluded."""
        exempt = {"security_incident", "fraud_detection", "payment_completion", "authentication_attempt"}
        routine = sum(line["event_type"] not in exempt and line["level"] == "info" for line in parsed)
        main = report["indexes"]["main"]
        assert main["indexed"] + main["excluded"] == main["matched"]
        assert main["excluded"] <= routine
        assert main["excluded"] / routine == pytest.approx(0.9, abs=0.02)
        assert main["indexed"] >= main["matched"] - routine

    def test_metric_totals_equal_the_generated_counts(self, report: dict[str, Any], parsed: list[Line]) -> None:
        """Count metrics, computed before sampling, equal what was generated, per tag set."""
        metrics = report["metrics"]
        by_event = Counter(line["event_type"] for line in parsed)
        assert metrics["logs.payment.attempts"]["total"] == by_event["payment_attempt"] == 20 * MINUTES
        assert metrics["logs.payment.completions"]["total"] == by_event["payment_completion"]
        assert metrics["logs.fraud.detections"]["total"] == by_event["fraud_detection"]
        assert metrics["logs.api.requests"]["total"] == by_event["api_request"] == 102 * MINUTES
        completions = {g["tags"]["payment_status"]: g["value"] for g in metrics["logs.payment.completions"]["groups"]}
        assert completions == {"completed": 18 * MINUTES, "failed": MINUTES + 400}
        codes = {g["tags"]["status_code"]: g["value"] for g in metrics["logs.api.requests"]["groups"]}
        assert codes == {"200": 100 * MINUTES, "503": 2 * MINUTES}

    def test_distribution_metrics(self, report: dict[str, Any], parsed: list[Line]) -> None:
        """Distributions count every value and keep the exact mean of the logger's values."""
        response = report["metrics"]["logs.api.response_time"]
        times = [line["response_time_ms"] for line in parsed if line["event_type"] == "api_request"]
        assert response["count"] == len(times)
        assert response["avg"] == pytest.approx(sum(times) / len(times))
        assert response["p95"] == pytest.approx(sorted(times)[int(0.95 * (len(times) - 1))], rel=0.01)
        assert report["metrics"]["logs.fraud.risk_score"]["count"] == 17 * MINUTES

    def test_text_report(self, report: dict[str, Any]) -> None:
        """The text report names the fired monitors with their times and the quiet ones."""
        text = render_text(report)
        assert "payment_failures: FIRED at 2026-01-05T00:12:00Z" in text
        assert "authentication_failures: FIRED at 2026-01-05T00:22:00Z" in text
        assert "fraud_blocks: quiet" in text
        assert f"{report['events']} events replayed" in text
