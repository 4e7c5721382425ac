"""A distribution kept in constant memory: logarithmic buckets with a bounded relative error.

The same idea as Datadog's own DDSketch, which backs distribution metrics (Masson, Rim and Lee, "DDSketch:
a fast and fully-mergeable quantile sketch with relative-error guarantees", PVLDB 12, 2019): a value v
lands in bucket ceil(log_gamma(|v|)), so every quantile comes back within `relative_accuracy` of the value
at that rank. Log-based distribution metrics and percentile monitor rollups both read quantiles from here.

Sketches merge exactly (bucket counts add), and the sum is kept exactly too, so a sketch built in pieces
and merged equals one built in a single pass, whatever the order: parallel replay relies on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

_LARGEST_SCALED = 2.0**1000
"""Below this, `value` scaled by a power of two up to `times` stays finite."""
RELATIVE_ACCURACY = 0.01
"""Every quantile is within 1 % of the true value at its rank."""


class ExactSum:
    """A sum of floats kept without rounding error (Shewchuk's non-overlapping partials), so the result does
    not depend on the order values were added or on how partial sums were merged."""

    __slots__ = ("_partials",)

    def __init__(self) -> None:
        self._partials: list[float] = []

    def add(self, value: float) -> None:
        partials = self._partials
        kept = 0
        for stored in partials:
            small, large = (value, stored) if abs(value) < abs(stored) else (stored, value)
            high = large + small
            low = small - (high - large)
            if low:
                partials[kept] = low
                kept += 1
            value = high
        partials[kept:] = [value]

    def add_times(self, value: float, times: int) -> None:
        """Add `value` `times` times, exactly: as the sum of `value` scaled by the powers of two in `times`
        (each scaling is exact), so the result equals `times` separate additions."""
        if abs(value) * times > _LARGEST_SCALED:
            for _ in range(times):  # the scaled values would overflow where the separate additions do not
                self.add(value)
            return
        scale = 0
        while times:
            if times & 1:
                self.add(math.ldexp(value, scale))
            times >>= 1
            scale += 1

    def merge(self, other: ExactSum) -> None:
        for partial in other._partials:
            self.add(partial)

    @property
    def value(self) -> float:
        return math.fsum(self._partials)

    def __getstate__(self) -> list[float]:
        return self._partials

    def __setstate__(self, state: list[float]) -> None:
        self._partials = state


@dataclass
class Sketch:
    relative_accuracy: float = RELATIVE_ACCURACY
    count: int = 0
    exact_sum: ExactSum = field(default_factory=ExactSum)
    minimum: float = math.inf
    maximum: float = -math.inf
    _positive: dict[int, int] = field(default_factory=dict)
    _negative: dict[int, int] = field(default_factory=dict)
    _zeros: int = 0

    def __post_init__(self) -> None:
        self._gamma = (1 + self.relative_accuracy) / (1 - self.relative_accuracy)
        self._log_gamma = math.log(self._gamma)

    @property
    def total(self) -> float:
        return self.exact_sum.value

    def add(self, value: float, times: int = 1) -> None:
        """Add `value` (`times` times). Zero is one value, whatever its sign, so neither the minimum nor the
        sum depends on which of `0.0` and `-0.0` came first."""
        if not math.isfinite(value):
            return
        if value == 0:
            value = 0.0
        self.count += times
        if times == 1:
            self.exact_sum.add(value)
        else:
            self.exact_sum.add_times(value, times)
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        if value == 0:
            self._zeros += times
            return
        buckets = self._positive if value > 0 else self._negative
        key = math.ceil(math.log(abs(value)) / self._log_gamma)
        buckets[key] = buckets.get(key, 0) + times

    def merge(self, other: Sketch) -> None:
        """Add every value of `other` (same relative accuracy) to this sketch."""
        self.count += other.count
        self.exact_sum.merge(other.exact_sum)
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        self._zeros += other._zeros
        for source, target in ((other._positive, self._positive), (other._negative, self._negative)):
            for bucket, count in source.items():
                target[bucket] = target.get(bucket, 0) + count

    def _value_of(self, key: int) -> float:
        try:
            return 2 * self._gamma**key / (self._gamma + 1)
        except OverflowError:  # a bucket of values near the largest float: `quantile` clamps to the extremes
            return math.inf

    def quantile(self, q: float) -> float | None:
        """The value at rank floor(q × (count − 1)) of the sorted values, within the relative accuracy;
        None when empty."""
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
