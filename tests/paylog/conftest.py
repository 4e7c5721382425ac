"""Shared fixtures: every test starts from an unconfigured logger and an empty context."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from paylog_testing import Configure, Sink

import paylog
from paylog import config


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """structlog, paylog and the sampler are reset before and after each test."""
    config.reset()
    yield
    config.reset()


@pytest.fixture
def configure() -> Configure:
    """Configure paylog into a fresh Sink; keyword arguments override the test defaults."""

    def _configure(**overrides: Any) -> Sink:
        sink = Sink()
        arguments: dict[str, Any] = {
            "service": "payment-service",
            "env": "test",
            "version": "1.4.2",
            "cluster": "test-cluster",
            "min_level": "debug",
            "stream": sink.buffer,
            "environ": {},
        }
        arguments.update(overrides)
        paylog.configure(**arguments)
        return sink

    return _configure
