"""What a configured logger writes, and how configuration is resolved."""

from __future__ import annotations

import io
import re
from typing import Any

import orjson
import pytest
import structlog
from paylog_testing import PINNED, Configure, Sink

import paylog
from paylog import CATALOGUE, DATADOG_RESERVED_KEYS, ConfigError, iter_samples
from paylog.settings import resolve_settings

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
BASE_KEYS = {"timestamp", "level", "message", "logger", "service", "env", "version", "cluster"}


def first_sample(event: str) -> dict[str, Any]:
    return next(iter_samples(CATALOGUE[event]))


class TestEventLines:
    @pytest.mark.parametrize("event", list(CATALOGUE))
    def test_every_event_renders_one_json_line_with_base_fields(self, configure: Configure, event: str) -> None:
        """Each catalogued event writes one JSON object with the base fields, event_type and its fields."""
        sink = configure()
        fields = first_sample(event)
        paylog.get_logger("payments.api").event(event, **fields)
        (raw,) = sink.raw_lines()
        line = orjson.loads(raw)
        assert line.keys() >= BASE_KEYS
        assert TIMESTAMP.fullmatch(line["timestamp"])
        assert line["event_type"] == event
        assert line["message"] == CATALOGUE[event].message
        assert line["level"] == CATALOGUE[event].level_for(fields)
        assert line["logger"] == "payments.api"
        assert (line["service"], line["env"], line["version"], line["cluster"]) == (
            "payment-service",
            "test",
            "1.4.2",
            "test-cluster",
        )
        assert "event" not in line
        assert "schema_violations" not in line
        for name in fields:
            assert name in line

    def test_field_values_pass_through(self, configure: Configure) -> None:
        """Values that need no redaction are written as given, with their JSON types."""
        sink = configure()
        paylog.get_logger("p").event(
            "payment_completion",
            transaction_id="txn_1",
            payment_status="failed",
            amount=12.5,
            currency="EUR",
            fees=0,
            completion_timestamp="2026-11-29T12:00:00Z",
        )
        line = sink.only()
        assert line["payment_status"] == "failed"
        assert line["amount"] == 12.5
        assert line["fees"] == 0
        assert line["currency"] == "EUR"

    def test_reserved_keys_carry_the_loggers_own_values(self, configure: Configure) -> None:
        """level, message, timestamp and service are the logger's; business keys never reach them."""
        sink = configure(clock=lambda: PINNED)
        for event in CATALOGUE:
            for fields in iter_samples(CATALOGUE[event]):
                paylog.get_logger("p").event(event, **fields)
        for line in sink.lines():
            spec = CATALOGUE[line["event_type"]]
            assert line["message"] == spec.message
            assert line["level"] in {spec.default_level, *(r.level for r in spec.level_rules)}
            assert line["timestamp"] == "2026-11-29T12:00:00.123456Z"
            assert line["service"] == "payment-service"
            assert not (line.keys() & DATADOG_RESERVED_KEYS) - {"level", "message", "timestamp", "service"}

    def test_plain_line_with_a_reserved_key_is_renamed_in_production(self, configure: Configure) -> None:
        """In production `status=` moves to status_value and is reported, so Datadog's status stays the level."""
        sink = configure(strict=False)
        paylog.get_logger("p").info("settled", status="failed", host="db-1")
        line = sink.only()
        assert line["level"] == "info"
        assert line["status_value"] == "failed"
        assert line["host_value"] == "db-1"
        assert "status" not in line
        assert "host" not in line
        assert sorted(line["schema_violations"]) == [
            "host: reserved key, moved to host_value",
            "status: reserved key, moved to status_value",
        ]

    def test_plain_line_with_a_reserved_key_raises_in_strict_mode(self, configure: Configure) -> None:
        """Strict mode rejects `status=` on a plain line and says how to fix it."""
        configure(strict=True)
        with pytest.raises(paylog.EventSchemaError, match=r"'status': reserved key .*status_value"):
            paylog.get_logger("p").info("settled", status="failed")

    def test_error_keyword_with_text_becomes_error_message(self, configure: Configure) -> None:
        """`error="..."`, the older style, becomes error_message instead of clashing with error.*."""
        sink = configure(strict=False)
        paylog.get_logger("p").error("db failed", error="deadlock")
        line = sink.only()
        assert line["error_message"] == "deadlock"
        assert "error" not in line


class TestExceptions:
    def test_exception_becomes_datadog_error_attributes(self, configure: Configure) -> None:
        """log.exception() writes error.kind, error.message and error.stack as flat dotted keys."""
        sink = configure()
        try:
            raise ConnectionError("card network unreachable")
        except ConnectionError:
            paylog.get_logger("p").exception("charge failed")
        line = sink.only()
        assert line["level"] == "error"
        assert line["error.kind"] == "ConnectionError"
        assert line["error.message"] == "card network unreachable"
        assert line["error.stack"].startswith("Traceback (most recent call last):")
        assert "ConnectionError: card network unreachable" in line["error.stack"]
        assert "exc_info" not in line
        assert "exception" not in line

    def test_event_with_exc_info(self, configure: Configure) -> None:
        """An event can carry an exception; it is not a catalogue field."""
        sink = configure(strict=True)
        error = TimeoutError("gateway timeout")
        paylog.get_logger("p").event(
            "external_service_call",
            service_name="card-network",
            endpoint="/authorize",
            method="POST",
            error_message="timeout",
            exc_info=error,
        )
        line = sink.only()
        assert line["level"] == "error"
        assert line["error.kind"] == "TimeoutError"
        assert line["error_message"] == "timeout"

    def test_error_keyword_with_exception_is_taken_as_exc_info(self, configure: Configure) -> None:
        """`log.error("...", error=exc)`, the older style, logs the exception as error.*."""
        sink = configure()
        paylog.get_logger("p").error("refund failed", error=ValueError("negative amount"))
        line = sink.only()
        assert line["error.kind"] == "ValueError"
        assert "error" not in line

    def test_exception_qualified_kind_and_redacted_message(self, configure: Configure) -> None:
        """Non-builtin exceptions get a qualified kind; card numbers in the message are masked."""

        class DeclinedError(Exception):
            pass

        sink = configure()
        paylog.get_logger("p").error("declined", exc_info=DeclinedError("card 4242 4242 4242 4242 declined"))
        line = sink.only()
        assert line["error.kind"].endswith("DeclinedError")
        assert "." in line["error.kind"]
        assert "4242 4242 4242 4242" not in orjson.dumps(line).decode()
        assert "************4242" in line["error.message"]

    def test_exc_info_true_outside_an_exception_adds_nothing(self, configure: Configure) -> None:
        """exc_info=True with no active exception writes the line without error attributes."""
        sink = configure()
        paylog.get_logger("p").info("no error here", exc_info=True)
        line = sink.only()
        assert "error.kind" not in line
        assert "exc_info" not in line


class TestLevelsAndFormat:
    def test_min_level_filters_plain_lines_and_events(self, configure: Configure) -> None:
        """Below min_level nothing is written, neither for log.debug nor for a debug-level event."""
        sink = configure(min_level="info")
        log = paylog.get_logger("p")
        log.debug("hidden")
        log.event("cache_operation", operation="get", key="k", hit=True)
        log.info("shown")
        assert [line["message"] for line in sink.lines()] == ["shown"]

    def test_console_format(self, configure: Configure) -> None:
        """log_format='console' uses structlog's ConsoleRenderer: readable, not JSON."""
        stream = io.StringIO()
        configure(log_format="console", stream=stream)
        paylog.get_logger("p").event("api_request", method="GET", endpoint="/x", status_code=200, response_time_ms=1)
        text = stream.getvalue()
        assert "API request" in text
        assert "status_code=200" in text
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(text)

    def test_console_traceback_hides_local_variables(self, configure: Configure) -> None:
        """The console format shows the traceback but not local variables, which may hold secrets."""
        stream = io.StringIO()
        configure(log_format="console", stream=stream)
        api_secret = "".join(["hun", "ter", "2000"])  # built at run time: the source lines are shown
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            paylog.get_logger("p").exception("failed", attempt=len(api_secret))
        text = stream.getvalue()
        assert "RuntimeError: boom" in text
        assert "hunter2000" not in text

    def test_text_stream_receives_json(self, configure: Configure) -> None:
        """A text stream without a binary buffer (StringIO) still gets one JSON line per call."""
        stream = io.StringIO()
        configure(stream=stream)
        paylog.get_logger("p").info("hello")
        assert orjson.loads(stream.getvalue())["message"] == "hello"

    def test_get_logger_defaults_to_caller_module(self, configure: Configure) -> None:
        """get_logger() without a name is named after the calling module."""
        sink = configure()
        paylog.get_logger().info("hi")
        assert sink.only()["logger"] == __name__

    def test_bind_adds_context_to_every_line(self, configure: Configure) -> None:
        """log.bind(user_id=..., session_id=...) replaces the old per-user logger wrapper."""
        sink = configure()
        log = paylog.get_logger("p").bind(user_id="usr_1", session_id="sess_9")
        log.info("Processing payment", amount=10)
        log.info("Payment completed successfully")
        assert [(line["user_id"], line["session_id"]) for line in sink.lines()] == [("usr_1", "sess_9")] * 2

    def test_bound_contextvars_add_context(self, configure: Configure) -> None:
        """structlog's bound_contextvars reach every line logged inside the block."""
        sink = configure()
        with structlog.contextvars.bound_contextvars(user_id="usr_2"):
            paylog.get_logger("p").info("inside")
        paylog.get_logger("p").info("outside")
        inside, outside = sink.lines()
        assert inside["user_id"] == "usr_2"
        assert "user_id" not in outside


class TestConfiguration:
    def test_configure_is_idempotent(self, configure: Configure) -> None:
        """Configuring twice with the same settings keeps the same structlog configuration."""
        stream = io.BytesIO()
        first = paylog.configure(service="s", env="test", stream=stream, environ={})
        wrapper = structlog.get_config()["wrapper_class"]
        second = paylog.configure(service="s", env="test", stream=stream, environ={})
        assert first == second
        assert structlog.get_config()["wrapper_class"] is wrapper

    def test_reconfigure_with_other_settings_replaces(self, configure: Configure) -> None:
        """Different settings replace the configuration; new loggers use them."""
        configure(service="one")
        sink = configure(service="two")
        paylog.get_logger("p").info("x")
        assert sink.only()["service"] == "two"

    def test_logger_made_before_configure_uses_it(self) -> None:
        """A module-level logger created at import time logs with the configuration made later."""
        log = paylog.get_logger("early")
        sink = Sink()
        paylog.configure(service="configured-later", env="test", stream=sink.buffer, environ={})
        log.info("hello")
        assert sink.only()["service"] == "configured-later"

    def test_get_logger_configures_from_the_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without configure(), get_logger() configures from DD_* variables."""
        monkeypatch.setenv("DD_SERVICE", "ledger")
        monkeypatch.setenv("DD_ENV", "staging")
        paylog.get_logger("p")
        settings = paylog.current_settings()
        assert settings is not None
        assert (settings.service, settings.env, settings.strict) == ("ledger", "staging", False)

    def test_datadog_variables_win_over_older_ones(self) -> None:
        """DD_SERVICE/DD_ENV/DD_VERSION/DD_CLUSTER_NAME come first, then ENVIRONMENT/APP_VERSION/CLUSTER_NAME."""
        environ = {
            "DD_SERVICE": "payments",
            "DD_ENV": "prod",
            "ENVIRONMENT": "production",
            "DD_VERSION": "2.0.0",
            "APP_VERSION": "1.0.0",
            "DD_CLUSTER_NAME": "eu-1",
            "CLUSTER_NAME": "legacy",
        }
        settings = resolve_settings(environ=environ)
        assert (settings.service, settings.env, settings.version, settings.cluster) == (
            "payments",
            "prod",
            "2.0.0",
            "eu-1",
        )

    def test_older_variables_are_the_fallback(self) -> None:
        """Without DD_* variables the older ENVIRONMENT, APP_VERSION and CLUSTER_NAME apply."""
        settings = resolve_settings(
            environ={"ENVIRONMENT": "dev", "APP_VERSION": "1.0.0", "CLUSTER_NAME": "paypal-clone"}
        )
        assert (settings.env, settings.version, settings.cluster, settings.service) == (
            "dev",
            "1.0.0",
            "paypal-clone",
            "unknown",
        )

    def test_arguments_win_over_environment(self) -> None:
        """Explicit arguments override every variable."""
        settings = resolve_settings(service="explicit", env="prod", environ={"DD_SERVICE": "env", "DD_ENV": "dev"})
        assert (settings.service, settings.env) == ("explicit", "prod")

    @pytest.mark.parametrize(
        ("env", "strict"),
        [("dev", True), ("test", True), ("local", True), ("CI", True), ("staging", False), ("prod", False)],
    )
    def test_mode_follows_env(self, env: str, strict: bool) -> None:
        """dev, test, local and ci are strict; every other env is production mode."""
        assert resolve_settings(env=env, environ={}).strict is strict

    def test_mode_argument_wins(self) -> None:
        """strict= overrides the env rule both ways."""
        assert resolve_settings(env="prod", strict=True, environ={}).strict is True
        assert resolve_settings(env="dev", strict=False, environ={}).strict is False

    def test_no_env_is_strict(self) -> None:
        """With no env set at all (a local run) the logger is strict; the env tag stays `unknown`."""
        settings = resolve_settings(environ={})
        assert settings.env == "unknown"
        assert settings.strict is True

    def test_unrecognised_env_is_production(self) -> None:
        """An env that is set but not a development one (qa, perf, ...) is production mode."""
        assert resolve_settings(environ={"DD_ENV": "qa"}).strict is False
        assert resolve_settings(environ={"ENVIRONMENT": "prod"}).strict is False

    def test_log_format_variable(self) -> None:
        """LOG_FORMAT=console selects the console renderer; any other value means JSON."""
        assert resolve_settings(environ={"LOG_FORMAT": "console"}).log_format == "console"
        assert resolve_settings(environ={"LOG_FORMAT": "text"}).log_format == "json"

    def test_other_variables(self) -> None:
        """LOG_LEVEL, LOG_SAMPLE_RATE, LOG_EMAIL_REDACTION and LOG_ANONYMIZE_IP are read."""
        settings = resolve_settings(
            environ={
                "LOG_LEVEL": "WARN",
                "LOG_SAMPLE_RATE": "0.25",
                "LOG_EMAIL_REDACTION": "hash",
                "LOG_ANONYMIZE_IP": "true",
            }
        )
        assert (settings.min_level, settings.sample_rate, settings.email_redaction, settings.anonymize_ip) == (
            "warning",
            0.25,
            "hash",
            True,
        )

    @pytest.mark.parametrize(
        ("arguments", "message"),
        [
            ({"environ": {"LOG_SAMPLE_RATE": "often"}}, r"LOG_SAMPLE_RATE='often' is not a number"),
            ({"sample_rate": 1.5}, r"sample_rate=1.5 is outside 0..1"),
            ({"min_level": "loud"}, r"min_level='loud' is not a level"),
            ({"email_redaction": "drop"}, r"email_redaction='drop' is unknown; use 'mask' or 'hash'"),
            ({"log_format": "xml"}, r"log format 'xml' is unknown"),
            ({"environ": {"LOG_ANONYMIZE_IP": "maybe"}}, r"LOG_ANONYMIZE_IP='maybe' is not a boolean"),
            ({"max_string_length": 10}, r"max_string_length=10 is too small"),
        ],
    )
    def test_bad_settings_are_clear_errors(self, arguments: dict[str, Any], message: str) -> None:
        """Invalid settings raise ConfigError naming the setting, the value and the fix."""
        arguments.setdefault("environ", {})
        with pytest.raises(ConfigError, match=message):
            resolve_settings(**arguments)
