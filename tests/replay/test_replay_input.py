"""What replay accepts: logger lines, logs exported from Datadog's API, and malformed lines it skips."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from replay_testing import shipped_rules

from logmon.evaluation import MonitorEvaluator
from logmon.replay import MALFORMED_LINES_KEPT, Replay, exported_record, render_text
from logmon.rules.loader import RuleSet

RULES: RuleSet = shipped_rules()


def logger_line(second: float, **fields: Any) -> bytes:
    """A line as the logger writes it, `second` seconds into 2026-01-05."""
    line = {
        "timestamp": int((1_767_571_200 + second) * 1000),
        "level": "info",
        "logger": "payments.api",
        "service": "payment-service",
        "message": "m",
        **fields,
    }
    return orjson.dumps(line) + b"\n"


def exported_line(second: float, attributes: dict[str, Any], **content: Any) -> bytes:
    """A log as Datadog's Logs API returns it: already processed, attributes nested under `attributes`."""
    log = {
        "id": f"AQAAAZ{second}",
        "type": "log",
        "attributes": {
            "timestamp": f"2026-01-05T00:{int(second) // 60:02d}:{int(second) % 60:02d}.000Z",
            "attributes": attributes,
            **content,
        },
    }
    return orjson.dumps(log) + b"\n"


def replay(lines: list[bytes]) -> dict[str, Any]:
    return Replay(RULES).run(lines)


class TestMalformedLines:
    LINES = [
        logger_line(0, level="error"),
        b"not json\n",
        b"[1, 2]\n",
        b'"a string"\n',
        b"42\n",
        b"null\n",
        b"\n",
        b"   \t\n",
        b'\xff\xfe{"level": "error"}\n',
        b'{"level": "error"\n',
        b"{'single': 'quotes'}\n",
        logger_line(1, level="error"),
    ]

    def test_counted_with_their_line_numbers(self) -> None:
        """Each malformed line is counted with its 1-based line number; blank lines are skipped silently."""
        report = replay(self.LINES)
        assert report["malformed"]["count"] == 8
        assert [item["line"] for item in report["malformed"]["lines"]] == [2, 3, 4, 5, 6, 9, 10, 11]

    def test_never_stop_the_replay(self) -> None:
        """The lines after malformed ones are still replayed."""
        report = replay(self.LINES)
        assert report["events"] == 2
        assert report["monitors"]["high_error_rate"]["max_value"] == 2

    def test_reasons_say_what_is_wrong(self) -> None:
        """The reason tells text that is not JSON from JSON that is not an object."""
        reasons = {item["line"]: item["reason"] for item in replay(self.LINES)["malformed"]["lines"]}
        assert reasons[2].startswith("not JSON")
        assert reasons[3] == "not a JSON object but list"
        assert reasons[4] == "not a JSON object but str"
        assert reasons[5] == "not a JSON object but int"
        assert reasons[6] == "not a JSON object but NoneType"
        assert reasons[9].startswith("not JSON")  # not UTF-8
        assert reasons[10].startswith("not JSON")

    def test_line_numbers_kept_are_capped_but_the_count_goes_on(self) -> None:
        """Only the first line numbers are kept, however many lines are malformed."""
        report = replay([b"oops\n"] * (MALFORMED_LINES_KEPT + 50))
        assert report["malformed"]["count"] == MALFORMED_LINES_KEPT + 50
        assert [item["line"] for item in report["malformed"]["lines"]] == list(range(1, MALFORMED_LINES_KEPT + 1))

    def test_text_report_lists_them(self) -> None:
        """The text report says how many lines were skipped and where."""
        text = render_text(replay(self.LINES))
        assert "8 malformed lines skipped (lines 2, 3, 4, 5, 6, 9, 10, 11)" in text

    def test_line_endings(self) -> None:
        """CRLF line endings and a last line without a newline are ordinary lines."""
        lines = [logger_line(0, level="error").replace(b"\n", b"\r\n"), logger_line(1, level="error").rstrip()]
        report = replay(lines)
        assert (report["events"], report["malformed"]["count"]) == (2, 0)

    def test_empty_input(self) -> None:
        """An empty file replays to an empty report with every monitor quiet."""
        report = replay([])
        assert report["events"] == 0
        assert all(not result["fired"] for result in report["monitors"].values())

    def test_an_odd_level_does_not_stop_the_replay(self) -> None:
        """A line whose level is a superscript digit is replayed like any other; the next line too."""
        report = replay([logger_line(0, level="²"), logger_line(1, level="error")])
        assert report["events"] + report["malformed"]["count"] == 2
        assert report["monitors"]["high_error_rate"]["max_value"] == 1

    def test_exported_line_with_odd_tags_does_not_stop_the_replay(self) -> None:
        """An exported line whose `tags` is not a list is not fatal."""
        report = replay([exported_line(0, {}, tags=5, status="error"), logger_line(1, level="error")])
        assert report["events"] + report["malformed"]["count"] == 2

    def test_exported_tags_given_as_one_string(self) -> None:
        """A single tag string is one tag, never split into characters."""
        record = exported_record({"type": "log", "attributes": {"tags": "env:prod"}})
        assert record.tags in (["env:prod"], [])

    def test_an_undated_first_line_does_not_start_the_clock_at_1970(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A first line without a date does not make the evaluator walk every minute since the epoch."""
        evaluations = 0
        evaluate = MonitorEvaluator.evaluate

        def counted(self: MonitorEvaluator, at_minute: int) -> Any:
            nonlocal evaluations
            evaluations += 1
            if evaluations > 100_000:
                raise AssertionError("more than 100000 evaluations for a two-line file")
            return evaluate(self, at_minute)

        monkeypatch.setattr(MonitorEvaluator, "evaluate", counted)
        report = replay([b'{"message": "hello"}\n', logger_line(0, level="error")])
        assert report["events"] == 2


class TestExportedLogs:
    def test_exported_fields_become_the_record(self) -> None:
        """Reserved fields, tags and attributes of an exported log are taken as Datadog holds them."""
        record = exported_record(
            {
                "type": "log",
                "attributes": {
                    "attributes": {"event_type": "api_request", "http": {"status_code": 503}},
                    "message": "API request",
                    "status": "Error",
                    "service": "payment-service",
                    "host": "node-1",
                    "source": "python",
                    "trace_id": "123",
                    "timestamp": "2026-01-05T00:00:10.000Z",
                    "tags": ["Env:Prod", "service:payment-service"],
                },
            }
        )
        assert record.attributes == {"event_type": "api_request", "http": {"status_code": 503}}
        assert (record.message, record.status, record.service, record.host, record.source, record.trace_id) == (
            "API request",
            "error",
            "payment-service",
            "node-1",
            "python",
            "123",
        )
        assert record.tags == ["env:prod", "service:payment-service"]
        assert record.timestamp == 1_767_571_210

    def test_missing_fields_have_defaults(self) -> None:
        """An exported log with only a date is an info log without attributes."""
        record = exported_record({"type": "log", "attributes": {"attributes": "oops"}})
        assert (record.attributes, record.status, record.message, record.tags) == ({}, "info", "", [])

    def test_exported_logs_feed_monitors(self) -> None:
        """Exported failed completions count towards payment_failures like logger lines do."""
        failed = {"event_type": "payment_completion", "payment_status": "failed"}
        lines = [exported_line(n * 0.2, failed, status="info", service="payment-service") for n in range(260)]
        lines.append(exported_line(400, {"event_type": "api_request"}, status="info"))
        report = replay(lines)
        assert report["events"] == 261
        assert report["monitors"]["payment_failures"]["fired"] is True
        assert report["monitors"]["payment_failures"]["first_alert_at"] == "2026-01-05T00:01:00Z"
        assert report["metrics"]["logs.payment.completions"]["total"] == 260

    def test_exported_logs_skip_the_pipelines(self) -> None:
        """An exported log keeps its processed status; the level attribute is not remapped again."""
        lines = [exported_line(0, {"level": "error", "logger": "payments.api"}, status="info")]
        lines += [exported_line(1, {"level": "info", "logger": "payments.api"}, status="error")]
        assert replay(lines)["monitors"]["high_error_rate"]["max_value"] == 1

    def test_exported_and_logger_lines_mix(self) -> None:
        """One file can hold both kinds of line."""
        lines = [logger_line(0, level="error"), exported_line(1, {}, status="error"), logger_line(2, level="error")]
        report = replay(lines)
        assert (report["events"], report["monitors"]["high_error_rate"]["max_value"]) == (3, 3)

    def test_a_log_of_type_other_than_log_is_a_logger_line(self) -> None:
        """Only `{"type": "log", "attributes": {...}}` is an export; other objects go through intake."""
        log = {
            "type": "audit",
            "attributes": {"status": "error"},
            "level": "error",
            "timestamp": "2026-01-05T00:00:00Z",
        }
        line = orjson.dumps(log) + b"\n"
        assert replay([line])["monitors"]["high_error_rate"]["max_value"] == 1


class TestReportShape:
    def test_documented_keys(self) -> None:
        """The report has events, monitors, indexes and metrics in the documented shape."""
        report = replay([logger_line(0, level="error", event_type="security_incident")])
        assert {"events", "monitors", "indexes", "metrics"} <= report.keys()
        assert set(report["monitors"]) == set(RULES.monitors)
        for result in report["monitors"].values():
            assert set(result) == {"fired", "first_alert_at", "max_value", "alerts"}
            for alert in result["alerts"]:
                assert set(alert) == {"group", "from", "to"}
        assert report["monitors"]["security_incidents"]["alerts"] == [
            {"group": {}, "from": "2026-01-05T00:01:00Z", "to": "2026-01-05T00:02:00Z"}
        ]
        assert set(report["indexes"]) == set(RULES.indexes)
        for counts in report["indexes"].values():
            assert set(counts) == {"matched", "indexed", "excluded"}
        assert set(report["metrics"]) == set(RULES.metrics)
        orjson.dumps(report)  # serialisable as JSON
