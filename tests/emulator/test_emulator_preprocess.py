"""Datadog's JSON preprocessing, before any pipeline: reserved attributes, status mapping, dates, dotted keys.

The expectations are the table and the status mapping in DESIGN.md ("JSON preprocessing and reserved
attributes"), which follow Datadog's documentation for reserved attributes and the status remapper.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from emulator_testing import shipped_rules
from hypothesis import example, given, settings
from hypothesis import strategies as st

from logmon.emulator import Emulator, map_status, preprocess
from logmon.emulator.preprocess import STATUSES, fold_dotted_keys, parse_date
from logmon.logrecord import MISSING
from paylog.render import render

JAN_5 = datetime(2026, 1, 5, 12, 30, 15, tzinfo=UTC).timestamp()


class TestStatusMapping:
    @pytest.mark.parametrize(
        ("raw", "status"),
        [
            ("emerg", "emergency"),
            ("emergency", "emergency"),
            ("EMERGENCY", "emergency"),
            ("f", "emergency"),
            ("fatal", "emergency"),
            ("failed", "emergency"),
            ("a", "alert"),
            ("alert", "alert"),
            ("Alert", "alert"),
            ("c", "critical"),
            ("crit", "critical"),
            ("CRITICAL", "critical"),
            ("err", "error"),
            ("error", "error"),
            ("ERROR", "error"),
            ("w", "warning"),
            ("warn", "warning"),
            ("WARNING", "warning"),
            ("n", "notice"),
            ("notice", "notice"),
            ("i", "info"),
            ("info", "info"),
            ("INFO", "info"),
            ("information", "info"),
            ("d", "debug"),
            ("debug", "debug"),
            ("t", "debug"),
            ("trace", "debug"),
            ("TRACE", "debug"),
            ("v", "debug"),
            ("verbose", "debug"),
            ("o", "ok"),
            ("ok", "ok"),
            ("OK", "ok"),
            ("s", "ok"),
            ("Success", "ok"),
            ("success", "ok"),
            ("  Error  ", "error"),
        ],
    )
    def test_prefixes_map_case_insensitively(self, raw: str, status: str) -> None:
        """Each documented prefix maps to its status, whatever the case and surrounding blanks."""
        assert map_status(raw) == status

    @pytest.mark.parametrize("raw", ["", "e", "eh", "x", "zzz", "-1", "ünknown", "?"])
    def test_anything_else_is_info(self, raw: str) -> None:
        """A value that starts with none of the prefixes (including a bare `e`) is info."""
        assert map_status(raw) == "info"

    @pytest.mark.parametrize(
        ("severity", "status"),
        [
            (0, "emergency"),
            (1, "alert"),
            (2, "critical"),
            (3, "error"),
            (4, "warning"),
            (5, "notice"),
            (6, "info"),
            (7, "debug"),
        ],
    )
    def test_integers_are_syslog_severities(self, severity: int, status: str) -> None:
        """Integers 0–7 are syslog severities, as numbers and as digit strings."""
        assert map_status(severity) == status
        assert map_status(str(severity)) == status

    @pytest.mark.parametrize("raw", [8, -1, 100, 3.5, True, False, None, [3], {"level": "error"}])
    def test_other_values_are_info(self, raw: Any) -> None:
        """Numbers outside 0–7, fractions, booleans (not 0/1), null and containers are info."""
        assert map_status(raw) == "info"

    @given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12))
    @settings(max_examples=200, deadline=None)
    def test_every_ascii_string_maps_to_a_known_status(self, raw: str) -> None:
        """Any ASCII text maps to one of Datadog's nine statuses, and repeated calls agree (the cache is sound)."""
        first = map_status(raw)
        assert first in STATUSES
        assert map_status(raw) == first

    @pytest.mark.parametrize("raw", ["²", "³", "①"])
    def test_unicode_digits_that_are_not_decimals_are_info(self, raw: str) -> None:
        """A superscript or circled digit is no syslog severity: info, not a crash."""
        assert map_status(raw) == "info"

    @example("²")
    @given(st.text(max_size=12))
    @settings(max_examples=200, deadline=None)
    def test_every_string_maps_to_a_known_status(self, raw: str) -> None:
        """Any Unicode text maps to one of Datadog's nine statuses."""
        assert map_status(raw) in STATUSES


class TestStatusPrecedence:
    @pytest.mark.parametrize(
        ("raw", "status"),
        [
            ({"status": "error", "severity": "warning", "level": "debug", "syslog": {"severity": 0}}, "error"),
            ({"severity": "warning", "level": "debug", "syslog": {"severity": 0}}, "warning"),
            ({"level": "debug", "syslog": {"severity": 0}}, "debug"),
            ({"syslog": {"severity": 0}}, "emergency"),
            ({"syslog.severity": 2}, "critical"),
            ({}, "info"),
        ],
    )
    def test_status_severity_level_then_syslog_severity(self, raw: dict[str, Any], status: str) -> None:
        """`status` wins over `severity`, which wins over `level`, which wins over `syslog.severity`."""
        assert preprocess(raw).status == status

    def test_null_key_falls_through(self) -> None:
        """A JSON null under `status` is absent: the next key in order decides."""
        assert preprocess({"status": None, "level": "error"}).status == "error"

    def test_level_key_is_kept_as_an_attribute(self) -> None:
        """Preprocessing reads the level key; it does not remove it from the attributes."""
        assert preprocess({"level": "error"}).attributes == {"level": "error"}


class TestPaymentStatusDefect:
    def test_business_status_failed_becomes_emergency(self) -> None:
        """A JSON log with `status: "failed"` is read as the log level: "f" makes it EMERGENCY."""
        raw = {"event_type": "payment_completion", "status": "failed", "level": "info"}
        assert preprocess(raw).status == "emergency"

    def test_payment_status_leaves_the_level_alone(self) -> None:
        """`payment_status: "failed"` with `level: info` stays info, and the business value stays searchable."""
        raw = {"event_type": "payment_completion", "payment_status": "failed", "level": "info"}
        result = preprocess(raw)
        assert result.status == "info"
        assert result.attributes["payment_status"] == "failed"

    def test_the_logger_writes_payment_status(self) -> None:
        """The real logger's failed completion reaches Datadog as info with `payment_status: failed`."""
        raw = render(
            "payment_completion",
            {
                "transaction_id": "txn_1",
                "payment_status": "failed",
                "amount": 10.0,
                "currency": "USD",
                "completion_timestamp": "2026-01-05T00:00:00Z",
            },
        )
        assert "status" not in raw
        result = Emulator(shipped_rules()).process(raw)
        assert (result.status, result.attributes["payment_status"]) == ("info", "failed")


class TestHostAndService:
    def test_host_wins_over_hostname(self) -> None:
        """`host` is read before `hostname`."""
        assert preprocess({"host": "web-1", "hostname": "web-2"}).host == "web-1"

    def test_hostname_is_read_when_host_is_absent(self) -> None:
        """`hostname` supplies the host when `host` is missing."""
        assert preprocess({"hostname": "web-2"}).host == "web-2"

    def test_json_host_wins_over_the_agent(self) -> None:
        """The agent's host is the fallback; a host in the JSON replaces it."""
        assert preprocess({}, host="node-a").host == "node-a"
        assert preprocess({"hostname": "pod-b"}, host="node-a").host == "pod-b"

    def test_service_is_read_from_service(self) -> None:
        """`service` becomes the reserved service and stays an attribute."""
        result = preprocess({"service": "payment-service"})
        assert result.service == "payment-service"
        assert result.attributes["service"] == "payment-service"

    def test_agent_tags_are_lower_cased(self) -> None:
        """Tags attached by the agent are stored lower-case, as Datadog stores them."""
        assert preprocess({}, tags=["Env:Prod", "team:Payments"]).tags == ["env:prod", "team:payments"]


class TestMessage:
    def test_message_becomes_the_message(self) -> None:
        """`message` becomes the reserved message and leaves the attributes."""
        result = preprocess({"message": "Payment processing finished", "amount": 3})
        assert result.message == "Payment processing finished"
        assert result.attributes == {"amount": 3}

    def test_non_text_message_is_rendered_as_text(self) -> None:
        """A number under `message` becomes its text."""
        assert preprocess({"message": 42}).message == "42"

    def test_structlog_event_key_is_not_a_message(self) -> None:
        """structlog's default `event` key is an ordinary attribute: the message stays empty."""
        result = preprocess({"event": "User registered"})
        assert result.message == ""
        assert result.attributes == {"event": "User registered"}


class TestDates:
    @pytest.mark.parametrize(
        "value",
        [
            "2026-01-05T12:30:15Z",
            "2026-01-05T12:30:15z",
            "2026-01-05T12:30:15+00:00",
            "2026-01-05T14:30:15+02:00",
            "2026-01-05T07:30:15-05:00",
            "2026-01-05T12:30:15",
            "2026-01-05T12:30:15.000000Z",
        ],
    )
    def test_iso_8601_with_zone_offset_or_naive_utc(self, value: str) -> None:
        """ISO 8601 with `Z`, an offset, or no zone (read as UTC) all give the same instant."""
        assert preprocess({"timestamp": value}).timestamp == pytest.approx(JAN_5)

    def test_epoch_milliseconds(self) -> None:
        """A number is epoch milliseconds."""
        assert preprocess({"timestamp": int(JAN_5 * 1000)}).timestamp == pytest.approx(JAN_5)
        assert preprocess({"timestamp": JAN_5 * 1000 + 250.0}).timestamp == pytest.approx(JAN_5 + 0.25)

    def test_microseconds_are_kept(self) -> None:
        """The logger's microsecond timestamps keep their fraction."""
        assert preprocess({"timestamp": "2026-01-05T12:30:15.123456Z"}).timestamp == pytest.approx(JAN_5 + 0.123456)

    def test_timestamp_wins_over_date(self) -> None:
        """`timestamp` is read before `date`."""
        result = preprocess({"date": "2020-01-01T00:00:00Z", "timestamp": "2026-01-05T12:30:15Z"})
        assert result.timestamp == pytest.approx(JAN_5)

    def test_date_is_read_when_timestamp_is_absent(self) -> None:
        """`date` supplies the date when `timestamp` is missing."""
        assert preprocess({"date": "2026-01-05T12:30:15Z"}).timestamp == pytest.approx(JAN_5)

    @pytest.mark.parametrize("value", ["yesterday", "2026-13-45T00:00:00Z", "", True, [1], {"at": 1}])
    def test_unreadable_dates_leave_no_timestamp(self, value: Any) -> None:
        """A value that is not a date leaves the timestamp unset rather than guessing."""
        assert preprocess({"timestamp": value}).timestamp is None
        assert parse_date(value) is None

    def test_no_date_key_leaves_no_timestamp(self) -> None:
        """Without any date key the timestamp is unset (Datadog would use the intake time)."""
        assert preprocess({"level": "info"}).timestamp is None


class TestTraceId:
    def test_flat_dd_trace_id(self) -> None:
        """The logger's flat `dd.trace_id` key becomes the trace ID."""
        assert preprocess({"dd.trace_id": "6b0c2425"}).trace_id == "6b0c2425"

    def test_nested_dd_trace_id(self) -> None:
        """A nested `dd: {trace_id}` is the same attribute."""
        assert preprocess({"dd": {"trace_id": 12345}}).trace_id == "12345"

    def test_no_trace_id(self) -> None:
        """Without `dd.trace_id` the trace ID is empty."""
        assert preprocess({"trace_id": "abc"}).trace_id == ""


class TestDottedKeys:
    def test_flat_dotted_keys_become_nested_objects(self) -> None:
        """`"error.kind"` and `"error.message"` become one `error` object."""
        result = preprocess({"error.kind": "ValueError", "error.message": "bad"})
        assert result.attributes == {"error": {"kind": "ValueError", "message": "bad"}}

    def test_folding_merges_into_an_existing_object(self) -> None:
        """A flat key joins an existing object when it overwrites nothing."""
        assert fold_dotted_keys({"http": {"method": "GET"}, "http.status_code": 200}) == {
            "http": {"method": "GET", "status_code": 200}
        }

    def test_nested_objects_are_folded_too(self) -> None:
        """Dotted keys inside nested objects fold as well."""
        assert fold_dotted_keys({"a": {"b.c": 1}}) == {"a": {"b": {"c": 1}}}

    def test_a_clash_with_an_existing_value_stays_flat(self) -> None:
        """A dotted key that would overwrite a value already there is left flat."""
        assert fold_dotted_keys({"error": {"kind": "A"}, "error.kind": "B"}) == {
            "error": {"kind": "A"},
            "error.kind": "B",
        }

    def test_a_clash_with_a_scalar_parent_stays_flat(self) -> None:
        """A dotted key under a parent that is a scalar is left flat, the scalar untouched."""
        assert fold_dotted_keys({"error": "boom", "error.kind": "B"}) == {"error": "boom", "error.kind": "B"}

    def test_real_logger_exception_fields_are_folded(self) -> None:
        """The logger's `error.kind`/`error.message`/`error.stack` arrive as one nested `error` object."""
        try:
            raise ConnectionError("reset by peer")
        except ConnectionError as error:
            raw = render("database_operation", {"operation": "select"}, exc_info=error)
        result = preprocess(raw)
        assert result.attributes["error"]["kind"] == "ConnectionError"
        assert result.attributes["error"]["message"] == "reset by peer"
        assert "error.kind" not in result.attributes

    @given(
        st.dictionaries(
            st.lists(st.sampled_from("abc"), min_size=1, max_size=3).map(".".join),
            st.integers(),
            max_size=6,
        )
    )
    @settings(max_examples=100, deadline=None)
    def test_no_value_is_lost(self, flat: dict[str, int]) -> None:
        """Folding never drops a value: each is reachable nested or still under its flat key."""
        folded = fold_dotted_keys(dict(flat))
        for key, value in flat.items():
            node: Any = folded
            for part in key.split("."):
                node = node.get(part, MISSING) if isinstance(node, dict) else MISSING
            assert node == value or folded.get(key) == value
