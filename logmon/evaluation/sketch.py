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

RELATIVE_ACCURACY = 0.01
"""Every quantile is within 1 % of the true value at its rank."""
_SCALE = 1074
"""2**-1074 is the smallest positive float, so every finite float times 2**1074 is an integer."""


class ExactSum:
    """A sum of floats kept without rounding error, as an integer count of 2**-1074, so the result does not
    depend on the order values were added, on how partial sums were merged, or on whether equal values
    were added one by one or together. The value is the exact sum correctly rounded (as `math.fsum` gives
    it), and ±inf where that is beyond the largest float."""

    __slots__ = ("_scaled",)

    def __init__(self) -> None:
        self._scaled = 0

    def add(self, value: float, times: int = 1) -> None:
        """Add a finite `value`, `times` times."""
        numerator, denominator = value.as_integer_ratio()  # the denominator is a power of two, at most 2**1074
        self._scaled += (numerator * times) << (_SCALE - denominator.bit_length() + 1)

    def merge(self, other: ExactSum) -> None:
        self._scaled += other._scaled

    @property
    def value(self) -> float:
        try:
            return self._scaled / (1 << _SCALE)  # integer division is correctly rounded
        except OverflowError:
            return math.inf if self._scaled > 0 else -math.inf

    def __getstate__(self) -> int:
        return self._scaled

    def __setstate__(self, state: int) -> None:
        self._scaled = state


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
        self.exact_sum.add(value, times)
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
