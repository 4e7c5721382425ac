"""Datadog trace correlation, with ddtrace loaded and without it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from paylog_testing import Configure

import paylog
from paylog.tracing import add_trace_ids, trace_ids

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tracer(monkeypatch: pytest.MonkeyPatch) -> Any:
    """ddtrace's global tracer, kept from sending spans to an agent that does not exist here."""
    ddtrace = pytest.importorskip("ddtrace")
    monkeypatch.setattr(ddtrace.tracer, "enabled", False)
    return ddtrace.tracer


class TestWithDdtrace:
    def test_line_inside_a_span_carries_trace_ids(self, configure: Configure, tracer: Any) -> None:
        """Inside tracer.trace(), dd.trace_id and dd.span_id are written exactly as ddtrace formats them."""
        sink = configure()
        with tracer.trace("charge") as span:
            expected = tracer.get_log_correlation_context(span)
            paylog.get_logger("p").info("inside")
        line = sink.only()
        assert line["dd.trace_id"] == expected["dd.trace_id"]
        assert line["dd.span_id"] == expected["dd.span_id"] == str(span.span_id)

    def test_nested_span_uses_the_innermost(self, configure: Configure, tracer: Any) -> None:
        """A child span's ID is logged, under the same trace."""
        sink = configure()
        with tracer.trace("outer") as outer, tracer.trace("inner") as inner:
            paylog.get_logger("p").info("nested")
        line = sink.only()
        assert line["dd.span_id"] == str(inner.span_id)
        assert line["dd.trace_id"] == tracer.get_log_correlation_context(outer)["dd.trace_id"]

    def test_line_outside_a_span_has_no_trace_ids(self, configure: Configure, tracer: Any) -> None:
        """Outside any span nothing trace-related is written."""
        sink = configure()
        paylog.get_logger("p").info("outside")
        line = sink.only()
        assert "dd.trace_id" not in line
        assert "dd.span_id" not in line

    def test_processor_directly(self, tracer: Any) -> None:
        """The processor adds both keys inside a span and none outside."""
        assert add_trace_ids(None, "info", {}) == {}
        with tracer.trace("op"):
            assert set(add_trace_ids(None, "info", {})) == {"dd.trace_id", "dd.span_id"}


class TestWithoutDdtrace:
    def test_blocked_import_is_harmless(self, configure: Configure, monkeypatch: pytest.MonkeyPatch) -> None:
        """With ddtrace unimportable (sys.modules entry None), lines are written without trace IDs."""
        monkeypatch.setitem(sys.modules, "ddtrace", None)
        sink = configure()
        paylog.get_logger("p").info("no tracer")
        assert trace_ids() is None
        assert "dd.trace_id" not in sink.only()

    def test_fresh_process_without_ddtrace(self) -> None:
        """In a process where importing ddtrace fails, paylog configures, logs and renders normally."""
        script = """
import builtins, io, sys
real_import = builtins.__import__
def blocked(name, *args, **kwargs):
    if name == "ddtrace" or name.startswith("ddtrace."):
        raise ImportError("ddtrace is not installed")
    return real_import(name, *args, **kwargs)
builtins.__import__ = blocked
import paylog
sink = io.BytesIO()
paylog.configure(service="s", env="test", stream=sink, environ={})
paylog.get_logger("p").event("api_request", method="GET", endpoint="/", status_code=200, response_time_ms=1)
assert "ddtrace" not in sys.modules
sys.stdout.write(sink.getvalue().decode())
"""
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        line = orjson.loads(result.stdout)
        assert line["event_type"] == "api_request"
        assert "dd.trace_id" not in line


class TestImports:
    def test_importing_paylog_loads_no_pulumi_logmon_or_ddtrace(self) -> None:
        """`import paylog` pulls in neither Pulumi nor the rule engine, and leaves ddtrace unloaded."""
        script = "import sys, paylog\npaylog.get_logger('p')\nprint(sorted({m.split('.')[0] for m in sys.modules}))\n"
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
        )
        top_level = set(orjson.loads(result.stdout.replace("'", '"')))
        assert "paylog" in top_level
        assert "structlog" in top_level
        assert not {name for name in top_level if name.startswith("pulumi")}
        assert "logmon" not in top_level
        assert "ddtrace" not in top_level
