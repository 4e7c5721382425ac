"""Test support shared by the paylog tests (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson

T = TypeVar("T")

PINNED = datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC)


class Sink:
    """An in-memory stream a configured logger writes to, read back as parsed JSON lines."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def raw_lines(self) -> list[bytes]:
        return self.buffer.getvalue().splitlines()

    def lines(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.raw_lines()]

    def only(self) -> dict[str, Any]:
        lines = self.lines()
        assert len(lines) == 1, lines
        return lines[0]

    def clear(self) -> None:
        self.buffer.seek(0)
        self.buffer.truncate()


Configure = Callable[..., Sink]
"""The `configure` fixture: keyword overrides in, the Sink the logger writes to out."""


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a private event loop.

    Unlike asyncio.run(), this leaves the thread's current-loop setting alone, which code elsewhere in
    the suite (Pulumi's runtime) relies on.
    """
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()
