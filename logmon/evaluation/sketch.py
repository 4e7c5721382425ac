"""A distribution kept in constant memory: logarithmic buckets with a bounded relative error.

The same idea as Datadog's own DDSketch, which backs distribution metrics: a value v lands in bucket
ceil(log_gamma(v)), so every quantile comes back within `relative_accuracy` of the true value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Sketch:
    relative_accuracy: float = 0.01
    count: int = 0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    _positive: dict[int, int] = field(default_factory=dict)
    _negative: dict[int, int] = field(default_factory=dict)
    _zeros: int = 0

    def __post_init__(self) -> None:
        self._gamma = (1 + self.relative_accuracy) / (1 - self.relative_accuracy)
        self._log_gamma = math.log(self._gamma)

    def add(self, value: float) -> None:
        if not math.isfinite(value):
            return
        self.count += 1
        self.total += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        if value == 0:
            self._zeros += 1
            return
        buckets = self._positive if value > 0 else self._negative
        key = math.ceil(math.log(abs(value)) / self._log_gamma)
        buckets[key] = buckets.get(key, 0) + 1

    def _value_of(self, key: int) -> float:
        return 2 * self._gamma**key / (self._gamma + 1)

    def quantile(self, q: float) -> float | None:
        """The value at quantile `q` (0–1), within the relative accuracy; None when empty."""
        if self.count == 0:
            return None
        rank = q * (self.count - 1)
        seen = 0
        for key in sorted(self._negative, reverse=True):
            seen += self._negative[key]
            if seen > rank:
                return min(self.maximum, max(self.minimum, -self._value_of(key)))
        seen += self._zeros
        if seen > rank:
            return 0.0
        for key in sorted(self._positive):
            seen += self._positive[key]
            if seen > rank:
                return max(self.minimum, min(self.maximum, self._value_of(key)))
        return self.maximum

    @property
    def average(self) -> float | None:
        return self.total / self.count if self.count else None
