"""Each index's events per UTC hour, and the time range the logs cover: what the reports' index charts draw.

Kept only when charts are asked for (`Replay(charts=True)`); like every other part of a replay it merges with
the hours of the piece of input that follows, so `--jobs` and `--cluster` draw the same charts.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from logmon.emulator import IndexDecision
from logmon.rules.loader import RuleSet

HOUR = 3600
INDEXED = "indexed"
FLEX = "flex"


@dataclass
class IndexHours:
    """One index's events per hour; keys are `indexed`, `flex` and `excluded:<filter>`."""

    name: str
    daily_limit: int | None
    filters: tuple[str, ...]
    hours: dict[int, Counter[str]] = field(default_factory=dict)
    """Epoch hour → counts."""

    def add(self, hour: int, decision: IndexDecision, kept: bool, flex_only: bool) -> None:
        counts = self.hours.get(hour)
        if counts is None:
            counts = self.hours[hour] = Counter()
        if kept:
            counts[FLEX if flex_only else INDEXED] += 1
        else:
            counts[f"excluded:{decision.exclusion or '?'}"] += 1

    def merge(self, later: IndexHours) -> None:
        for hour, counts in later.hours.items():
            self.hours.setdefault(hour, Counter()).update(counts)


class HourlyIndexes:
    """Every index's hours, and the first and last dates seen. A log without a date takes the last one's."""

    def __init__(self, rules: RuleSet) -> None:
        self.indexes = {
            name: IndexHours(name, index.daily_limit, tuple(f.name for f in index.exclusion_filters))
            for name, index in rules.indexes.items()
        }
        self._flex_only = frozenset(name for name, index in rules.indexes.items() if index.flex_only)
        self.first_timestamp: float | None = None
        self.last_timestamp: float | None = None
        self._latest: float | None = None
        """The date of the last dated log in input order."""

    def add(self, timestamp: float | None, decision: IndexDecision, kept: bool) -> None:
        """One ingested log: its date, where it was routed and whether its index kept it."""
        if timestamp is not None and math.isfinite(timestamp):
            self._latest = timestamp
            self._cover(timestamp)
        else:
            timestamp = self._latest
        index = decision.index
        if index is not None and timestamp is not None:
            self.indexes[index].add(math.floor(timestamp / HOUR), decision, kept, index in self._flex_only)

    def merge(self, later: HourlyIndexes) -> None:
        for name, hours in later.indexes.items():
            self.indexes[name].merge(hours)
        for timestamp in (later.first_timestamp, later.last_timestamp):
            if timestamp is not None:
                self._cover(timestamp)
        if later._latest is not None:
            self._latest = later._latest

    def _cover(self, timestamp: float) -> None:
        """Widen the time range the logs cover to include `timestamp`."""
        if self.first_timestamp is None or timestamp < self.first_timestamp:
            self.first_timestamp = timestamp
        if self.last_timestamp is None or timestamp > self.last_timestamp:
            self.last_timestamp = timestamp
