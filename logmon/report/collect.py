"""What the charts need beyond the replay report: monitor timelines and each index's events per hour.

`ChartedEvaluation` is the engine's `Evaluation` with timelines kept, evaluated over a replay's (merged)
part, with the part's per-hour index counts (`logmon.evaluation.hours`) and the time range the logs cover.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from logmon.evaluation import Evaluation
from logmon.evaluation.hours import FLEX, HOUR, INDEXED, HourlyIndexes, IndexHours
from logmon.rules.loader import RuleSet

if TYPE_CHECKING:
    from logmon.replay import ReplayPart

__all__ = ["FLEX", "HOUR", "INDEXED", "ChartedEvaluation", "IndexHours"]


class ChartedEvaluation(Evaluation):
    index_hours: dict[str, IndexHours]
    first_timestamp: float | None
    last_timestamp: float | None

    @classmethod
    def of(cls, rules: RuleSet, part: ReplayPart) -> ChartedEvaluation:
        """Evaluate a replay's part with timelines, beside its hourly index counts."""
        evaluation = cls(rules, keep_timeline=True, tally=part.tally)
        evaluation.finish()
        hours = part.hours if part.hours is not None else HourlyIndexes(rules)
        evaluation.index_hours = hours.indexes
        evaluation.first_timestamp, evaluation.last_timestamp = hours.first_timestamp, hours.last_timestamp
        return evaluation
