"""Log-based metrics as Datadog computes them: from every ingested log matching the filter, whatever the
indexes keep, tagged by the group-by paths."""

from __future__ import annotations

from typing import Any

from logmon.evaluation.facets import FacetReader, facet_reader, group_value, number
from logmon.evaluation.sketch import Sketch
from logmon.logrecord import LogRecord
from logmon.rules.model import Metric

PERCENTILES = {"p50": 0.50, "p75": 0.75, "p90": 0.90, "p95": 0.95, "p99": 0.99}


class MetricAggregator:
    def __init__(self, name: str, metric: Metric) -> None:
        self.name = name
        self.metric = metric
        self.tags = [group.tag for group in metric.group_bys()]
        self._readers: list[FacetReader] = [facet_reader(group.path) for group in metric.group_bys()]
        self._path: FacetReader | None = facet_reader(metric.path) if metric.path else None
        self.counts: dict[tuple[str, ...], int] = {}
        self.sketches: dict[tuple[str, ...], Sketch] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "metric": self.metric, "counts": self.counts, "sketches": self.sketches}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["name"], state["metric"])  # type: ignore[misc]  # readers are closures: rebuilt
        self.counts = state["counts"]
        self.sketches = state["sketches"]

    def add(self, record: LogRecord) -> None:
        self.add_to(self.group_of(record), record)

    def group_of(self, record: LogRecord) -> tuple[str, ...]:
        """The tag values the record is counted under."""
        return tuple(group_value(read(record)) for read in self._readers)

    @property
    def measured(self) -> bool:
        """A distribution of a measure, rather than a count of logs."""
        return self._path is not None

    def add_to(self, key: tuple[str, ...], record: LogRecord, times: int = 1) -> None:
        """`add` for a record whose group (`group_of`) is already known, `times` times."""
        if self._path is None:
            self.counts[key] = self.counts.get(key, 0) + times
            return
        value = number(self._path(record))
        if value is None:
            return
        sketch = self.sketches.get(key)
        if sketch is None:
            sketch = self.sketches[key] = Sketch()
        sketch.add(value, times)

    def value(self, tags: dict[str, str] | None = None) -> dict[str, Any] | int:
        """The count (or distribution summary) over the groups whose tags include `tags`."""
        wanted = tags or {}
        if self._path is None:
            return sum(n for key, n in self.counts.items() if self._selected(key, wanted))
        merged = Sketch()
        for key, sketch in self.sketches.items():
            if self._selected(key, wanted):
                merged.merge(sketch)
        return _summary(merged, self.metric.include_percentiles)

    def merge(self, other: MetricAggregator) -> None:
        """Add what `other` (the same metric, fed other logs) counted."""
        for key, count in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + count
        for key, sketch in other.sketches.items():
            mine = self.sketches.get(key)
            if mine is None:
                mine = self.sketches[key] = Sketch()
            mine.merge(sketch)

    def _selected(self, key: tuple[str, ...], wanted: dict[str, str]) -> bool:
        named = dict(zip(self.tags, key, strict=True))
        return all(named.get(tag) == value for tag, value in wanted.items())

    def report(self) -> dict[str, Any]:
        if self._path is None:
            return {
                "type": "count",
                "total": sum(self.counts.values()),
                "groups": [
                    {"tags": dict(zip(self.tags, key, strict=True)), "value": count}
                    for key, count in sorted(self.counts.items())
                ],
            }
        return {
            "type": "distribution",
            **_summary(self._merged(), self.metric.include_percentiles),
            "groups": [
                {"tags": dict(zip(self.tags, key, strict=True)), **_summary(sketch, self.metric.include_percentiles)}
                for key, sketch in sorted(self.sketches.items())
            ],
        }

    def _merged(self) -> Sketch:
        merged = Sketch()
        for sketch in self.sketches.values():
            merged.merge(sketch)
        return merged


def _summary(sketch: Sketch, percentiles: bool) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "count": sketch.count,
        "sum": sketch.total,
        "min": sketch.minimum if sketch.count else None,
        "max": sketch.maximum if sketch.count else None,
        "avg": sketch.average,
    }
    if percentiles:
        summary.update({name: sketch.quantile(q) for name, q in PERCENTILES.items()})
    return summary
