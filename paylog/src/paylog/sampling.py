"""Consistent sampling: a request's lines are all kept or all dropped.

Policy (from the logging strategy): catalogue events marked always-keep and every line at warning or
above are never sampled; everything else is kept at the configured rate. The decision for a line hashes
its request's correlation ID, or its Datadog trace ID when it has none, with CRC-32 (stable across
processes, so services sampling at the same rate agree on a request, and a lower rate keeps a subset of
what a higher rate keeps). Lines with neither, such as start-up messages and jobs that open no
`correlation_scope()`, are always kept: they are rare and have no request to be consistent with.

The decision is taken before any processor runs and is cached per ID, so a dropped line costs a
context-variable read and a dictionary lookup.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from paylog.catalogue import ALWAYS_KEEP, LEVEL_NUMBERS
from paylog.correlation import CORRELATION_ID
from paylog.tracing import trace_key

ADAPTIVE_RATES: Final = ((0.8, 0.01), (0.6, 0.05))
"""`(load above, rate)`, checked in order; below every threshold the rate is `NORMAL_RATE`."""
NORMAL_RATE: Final = 0.1

_WARNING: Final = LEVEL_NUMBERS["warning"]
_METHOD_LEVELS: Final[Mapping[str, int]] = {
    **LEVEL_NUMBERS,
    "warn": LEVEL_NUMBERS["warning"],
    "exception": LEVEL_NUMBERS["error"],
    "fatal": LEVEL_NUMBERS["critical"],
    "msg": LEVEL_NUMBERS["info"],
}
_CACHE_SIZE: Final = 8192


def adaptive_rate(load: float) -> float:
    """The sample rate for a load figure between 0 and 1 (> 0.8 → 1 %, > 0.6 → 5 %, else 10 %)."""
    for threshold, rate in ADAPTIVE_RATES:
        if load > threshold:
            return rate
    return NORMAL_RATE


def unit_fraction(key: str) -> float:
    """Where `key` falls in [0, 1); a line is kept when this is below the rate."""
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) / 4294967296.0


@dataclass(frozen=True, slots=True)
class SamplingStats:
    rate: float
    dropped: int


class Sampler:
    __slots__ = ("_decisions", "_dropped", "rate")

    def __init__(self, rate: float = 1.0) -> None:
        self.rate = 1.0
        """Read it freely; change it with `set_rate` or `adapt`, which validate and clear the cache."""
        self._dropped = 0
        self._decisions: dict[str, bool] = {}
        self.set_rate(rate)

    @property
    def dropped(self) -> int:
        return self._dropped

    def set_rate(self, rate: float) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"sample rate {rate!r} is outside 0..1")
        self.rate = float(rate)
        self._decisions = {}

    def adapt(self, load: float) -> float:
        """Switch to the adaptive rate for `load`; returns the new rate."""
        self.set_rate(adaptive_rate(load))
        return self.rate

    def keep(self, level_no: int, always_keep: bool = False) -> bool:
        if self.rate >= 1.0 or level_no >= _WARNING or always_keep:
            return True
        key = CORRELATION_ID.get()
        if key is None:
            key = trace_key()
            if key is None:
                return True
        decision = self._decisions.get(key)
        if decision is None:
            decision = unit_fraction(key) < self.rate
            if len(self._decisions) >= _CACHE_SIZE:
                self._decisions = {}
            self._decisions[key] = decision
        if not decision:
            self._dropped += 1
        return decision

    def keep_line(self, method_name: str, event_kw: Mapping[str, Any]) -> bool:
        """`keep` for a plain `log.info(...)` line; one carrying an always-keep `event_type` is kept."""
        if self.rate >= 1.0:
            return True
        event_type = event_kw.get("event_type")
        always = isinstance(event_type, str) and event_type in ALWAYS_KEEP
        return self.keep(_METHOD_LEVELS.get(method_name, _WARNING), always)

    def stats(self) -> SamplingStats:
        return SamplingStats(self.rate, self._dropped)

    def reset(self, rate: float = 1.0) -> None:
        self._dropped = 0
        self.set_rate(rate)


SAMPLER: Final = Sampler()
"""The process-wide sampler that `paylog.configure()` sets up."""


def dropped() -> int:
    """Lines dropped by sampling since the process started (or the last `reset`)."""
    return SAMPLER.dropped


def stats() -> SamplingStats:
    return SAMPLER.stats()


def set_rate(rate: float) -> None:
    SAMPLER.set_rate(rate)


def adapt_to_load(load: float) -> float:
    """Apply the adaptive rate table to the process-wide sampler; call it from a periodic load probe."""
    return SAMPLER.adapt(load)
