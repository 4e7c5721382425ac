"""The shipped `paylog` pipeline on what the real logger writes: the attributes queries see afterwards."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from emulator_testing import shipped_rules

from logmon.emulator import Emulator
from logmon.logrecord import LogRecord
from paylog.catalogue import CATALOGUE, iter_samples
from paylog.render import render

AT = datetime(2026, 1, 5, 9, 15, 30, 250000, tzinfo=UTC)


@pytest.fixture(scope="module")
def emulator() -> Emulator:
    return Emulator(shipped_rules())


def through(emulator: Emulator, event: str, fields: dict[str, Any], **options: Any) -> LogRecord:
    raw = render(event, fields, timestamp=AT, service="payment-service", env="prod", **options)
    return emulator.process(raw)


API_REQUEST = {
    "method": "POST",
    "endpoint": "/v1/payments",
    "status_code": 503,
    "response_time_ms": 12.5,
    "ip_address": "203.0.113.9",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
    "user_id": "usr_8f14e45f",
}


class TestStandardAttributes:
    def test_client_ip(self, emulator: Emulator) -> None:
        """`ip_address` becomes `network.client.ip`."""
        log = through(emulator, "api_request", API_REQUEST)
        assert log.attributes["network"]["client"]["ip"] == "203.0.113.9"
        assert "ip_address" not in log.attributes

    def test_user_agent(self, emulator: Emulator) -> None:
        """`user_agent` becomes `http.useragent`."""
        log = through(emulator, "api_request", API_REQUEST)
        assert log.attributes["http"]["useragent"] == "Mozilla/5.0 (X11; Linux x86_64)"
        assert "user_agent" not in log.attributes

    def test_user_id(self, emulator: Emulator) -> None:
        """`user_id` becomes `usr.id`."""
        log = through(emulator, "api_request", API_REQUEST)
        assert log.attributes["usr"] == {"id": "usr_8f14e45f"}
        assert "user_id" not in log.attributes

    def test_status_code_is_an_integer(self, emulator: Emulator) -> None:
        """`status_code` becomes the integer `http.status_code`, beside `http.method` and the path."""
        http = through(emulator, "api_request", API_REQUEST).attributes["http"]
        assert http["status_code"] == 503
        assert type(http["status_code"]) is int
        assert (http["method"], http["url_details"]["path"]) == ("POST", "/v1/payments")

    def test_duration_in_nanoseconds(self, emulator: Emulator) -> None:
        """`duration` is `response_time_ms` in nanoseconds; the milliseconds stay for metrics."""
        log = through(emulator, "api_request", API_REQUEST)
        assert log.attributes["duration"] == pytest.approx(12_500_000)
        assert log.attributes["response_time_ms"] == 12.5

    def test_no_duration_without_response_time(self, emulator: Emulator) -> None:
        """A line without `response_time_ms` gets no `duration`."""
        log = through(emulator, "cache_operation", {"operation": "get", "key": "session:1"})
        assert "duration" not in log.attributes

    def test_logger_name(self, emulator: Emulator) -> None:
        """The logger's `logger` string becomes `logger.name`."""
        log = through(emulator, "api_request", API_REQUEST, logger_name="payments.api")
        assert log.attributes["logger"] == {"name": "payments.api"}

    def test_masked_email(self, emulator: Emulator) -> None:
        """The logger's masked `email` becomes `usr.email`."""
        log = through(
            emulator,
            "authentication_attempt",
            {"success": True, "ip_address": "203.0.113.9", "email": "jane@example.com"},
        )
        assert log.attributes["usr"]["email"] != "jane@example.com"
        assert log.attributes["usr"]["email"].endswith("@example.com")
        assert "email" not in log.attributes

    def test_reserved_attributes(self, emulator: Emulator) -> None:
        """Message, service, date and agent tags come from the logger's fields."""
        log = through(emulator, "api_request", API_REQUEST)
        assert log.message == "API request"
        assert log.service == "payment-service"
        assert log.timestamp == pytest.approx(AT.timestamp())
        assert {"env:prod", "service:payment-service"} <= set(log.tags)


class TestEventCategory:
    @pytest.mark.parametrize("event", list(CATALOGUE))
    def test_every_catalogued_event_gets_its_category(self, emulator: Emulator, event: str) -> None:
        """Every event's category in the catalogue is the `event_category` the pipeline assigns."""
        spec = CATALOGUE[event]
        for sample in iter_samples(spec):
            log = emulator.process(render(event, sample))
            assert log.attributes["event_category"] == spec.category.value

    def test_plain_lines_get_no_category(self, emulator: Emulator) -> None:
        """A line without an event type matches no category."""
        log = emulator.process(render(None, {}, message="started", level="info"))
        assert "event_category" not in log.attributes


class TestStatusFromLevel:
    @pytest.mark.parametrize(
        ("event", "fields", "status"),
        [
            ("api_request", {**API_REQUEST, "status_code": 200}, "info"),
            ("api_request", API_REQUEST, "error"),
            ("fraud_detection", {"user_id": "u", "risk_score": 0.9, "action": "block"}, "error"),
            ("fraud_detection", {"user_id": "u", "risk_score": 0.5, "action": "review"}, "warning"),
            ("authentication_attempt", {"success": False, "ip_address": "203.0.113.9"}, "warning"),
            ("cache_operation", {"operation": "get", "key": "k"}, "debug"),
            ("security_incident", {"incident_id": "i", "incident_type": "t", "incident_severity": "low"}, "critical"),
        ],
    )
    def test_status_follows_the_logger_level(
        self, emulator: Emulator, event: str, fields: dict[str, Any], status: str
    ) -> None:
        """The logger's level decides the Datadog status."""
        assert through(emulator, event, fields).status == status

    def test_every_sample_status_equals_its_level(self, emulator: Emulator) -> None:
        """For every catalogue sample, the status is the level the logger wrote."""
        for event, spec in CATALOGUE.items():
            for sample in iter_samples(spec):
                raw = render(event, sample)
                assert emulator.process(dict(raw)).status == raw["level"], (event, sample)
