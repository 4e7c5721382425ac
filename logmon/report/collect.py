"""What the charts need beyond the replay report: monitor timelines and each index's events per hour.

`ChartedEvaluation` is the engine's `Evaluation` with timelines kept; it also counts, per index and per
UTC hour, the logs indexed, kept in Flex only, and dropped by each exclusion filter, and the time range
the logs cover.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from logmon.evaluation import Evaluation, Ingested
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

    def add(self, hour: int, ingested: Ingested, flex_only: bool) -> None:
        counts = self.hours.get(hour)
        if counts is None:
            counts = self.hours[hour] = Counter()
        if ingested.indexed:
            counts[FLEX if flex_only else INDEXED] += 1
        else:
            counts[f"excluded:{ingested.decision.exclusion or '?'}"] += 1


class ChartedEvaluation(Evaluation):
    def __init__(self, rules: RuleSet) -> None:
        super().__init__(rules, keep_timeline=True)
        self.index_hours = {
            name: IndexHours(name, index.daily_limit, tuple(f.name for f in index.exclusion_filters))
            for name, index in rules.indexes.items()
        }
        self._flex_only = {name for name, index in rules.indexes.items() if index.flex_only}
        self.first_timestamp: float | None = None
        self.last_timestamp: float | None = None

    def feed(self, ingested: Ingested) -> None:
        timestamp = ingested.record.timestamp
        if timestamp is not None and math.isfinite(timestamp):
            if self.first_timestamp is None or timestamp < self.first_timestamp:
                self.first_timestamp = timestamp
            if self.last_timestamp is None or timestamp > self.last_timestamp:
                self.last_timestamp = timestamp
        else:
            timestamp = self.last_timestamp
        index = ingested.decision.index
        if index is not None and timestamp is not None:
            self.index_hours[index].add(math.floor(timestamp / HOUR), ingested, index in self._flex_only)
        super().feed(ingested)
