"""render(): the rule checker sees exactly what a configured service writes."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import structlog
from paylog_testing import PINNED, Configure

import paylog
from paylog import CATALOGUE, EventSchemaError, iter_samples, render
from paylog.correlation import correlation_scope

CASES = [(name, fields) for name, spec in CATALOGUE.items() for fields in iter_samples(spec)]


def render_like(event: str | None, fields: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """render() with the same identity the `configure` fixture gives the logger."""
    return render(
        event,
        fields,
        timestamp=PINNED,
        service="payment-service",
        env="test",
        version="1.4.2",
        cluster="test-cluster",
        logger_name="payments.api",
        **kw,
    )


class TestSameAsConfiguredLogger:
    @pytest.mark.parametrize(("event", "fields"), CASES, ids=[f"{e}-{i}" for i, (e, _) in enumerate(CASES)])
    def test_every_sample_renders_identically(self, configure: Configure, event: str, fields: dict[str, Any]) -> None:
        """For every catalogue sample, render() equals the configured logger's line, byte for byte."""
        sink = configure(clock=lambda: PINNED, strict=True)
        with correlation_scope("req-1"):
            paylog.get_logger("payments.api").event(event, **fields)
        (raw,) = sink.raw_lines()
        rendered = render_like(event, fields, correlation_id="req-1")
        assert rendered == sink.only()
        assert orjson.dumps(rendered) == raw

    def test_plain_line_renders_identically(self, configure: Configure) -> None:
        """A plain line with odd values renders as the logger writes it."""
        sink = configure(clock=lambda: PINNED)
        fields = {"card": "4242 4242 4242 4242", "password": "x", "nested": {"email": "jane@example.com"}}
        paylog.get_logger("payments.api").warning("retrying charge", **fields)
        assert render_like(None, fields, message="retrying charge", level="warning") == sink.only()

    def test_exception_renders_identically(self, configure: Configure) -> None:
        """A line with an exception renders the same error.* attributes."""
        sink = configure(clock=lambda: PINNED)
        error = ValueError("bad amount")
        paylog.get_logger("payments.api").error("refund failed", exc_info=error)
        assert render_like(None, {}, message="refund failed", level="error", exc_info=error) == sink.only()


class TestRenderBehaviour:
    def test_pinned_timestamp_and_identity(self) -> None:
        """The timestamp and identity fields come from the arguments."""
        line = render(
            "api_request",
            {"method": "GET", "endpoint": "/", "status_code": 503, "response_time_ms": 1},
            timestamp=PINNED,
            service="checkout",
        )
        assert line["timestamp"] == "2026-11-29T12:00:00.123456Z"
        assert (line["service"], line["level"], line["message"]) == ("checkout", "error", "API request")

    def test_strict_by_default(self) -> None:
        """render() raises on a catalogue violation unless strict=False."""
        with pytest.raises(EventSchemaError):
            render("payment_completion", {"payment_status": "done"})
        line = render("payment_completion", {"payment_status": "done"}, strict=False)
        assert "payment_status: 'done' is not allowed" in " ".join(line["schema_violations"])

    def test_plain_line_needs_message_and_level(self) -> None:
        """Without an event type, message= and level= are required."""
        with pytest.raises(ValueError, match="a plain line needs message= and level="):
            render(None, {"x": 1}, message="hi")
        assert render(None, None, message="hi", level="debug")["level"] == "debug"

    def test_event_rejects_message_and_level(self) -> None:
        """A catalogued event takes message and level from the catalogue."""
        with pytest.raises(ValueError, match="takes its message and level from the catalogue"):
            render("fraud_detection", {"user_id": "u", "risk_score": 0.1, "action": "allow"}, level="error")

    def test_does_not_touch_global_configuration(self, configure: Configure) -> None:
        """render() leaves a service's configuration, context and sampling alone."""
        sink = configure(service="payment-service", sample_rate=0.0)
        before = structlog.get_config()
        with structlog.contextvars.bound_contextvars(user_id="bound"):
            line = render(None, None, message="x", level="info", service="render-svc")
        assert "user_id" not in line
        assert line["service"] == "render-svc"
        assert structlog.get_config() == before
        paylog.get_logger("p").warning("still configured")
        assert sink.only()["service"] == "payment-service"

    def test_ignores_ambient_trace_and_correlation(self, configure: Configure) -> None:
        """A render inside a request or span depends only on its arguments."""
        with correlation_scope("ambient"):
            line = render(None, None, message="x", level="info")
        assert "correlation_id" not in line
        assert render(None, None, message="x", level="info", correlation_id="given")["correlation_id"] == "given"
