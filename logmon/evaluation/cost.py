"""What the log path costs: per index the events and bytes ingested, indexed and excluded, when a daily quota
runs out, each log-based metric's custom metrics, and the price of it all from a stack's price table.

The accumulator only counts, and partial counts merge exactly (`merge`), so a replay split across processes
reports what one process would. Prices are applied once, in `report`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from logmon.emulator import IndexDecision
from logmon.evaluation.metrics import MetricAggregator
from logmon.logrecord import iso
from logmon.rules.loader import RuleSet
from logmon.settings import Prices

BYTES_PER_GB = 10**9
"""Datadog bills ingestion per GB; decimal gigabytes, as usage is billed."""
HOURS_PER_MONTH = 720.0
"""The 30 days a projection covers, and the month custom metrics and Flex storage are priced by."""
MINUTES_PER_DAY = 1440
DISTRIBUTION_AGGREGATIONS = 5
"""count, sum, min, max and avg: a distribution's custom metrics per tag combination."""
PERCENTILE_AGGREGATIONS = 5
"""p50, p75, p90, p95 and p99, stored per queryable tag combination when percentiles are on."""


@dataclass
class IndexUsage:
    ingested_events: int = 0
    """Logs routed to the index (a log goes to the first index whose filter matches)."""
    ingested_bytes: int = 0
    kept_events: int = 0
    """Logs the index kept after its exclusion filters (standard or Flex tier)."""
    excluded: dict[str, int] = field(default_factory=dict)
    """Exclusion filter name → logs it dropped."""
    kept_per_minute: dict[int, int] = field(default_factory=dict)
    """Kept logs per epoch minute, for an index with a daily quota only."""

    def merge(self, other: IndexUsage) -> None:
        self.ingested_events += other.ingested_events
        self.ingested_bytes += other.ingested_bytes
        self.kept_events += other.kept_events
        for name, count in other.excluded.items():
            self.excluded[name] = self.excluded.get(name, 0) + count
        for minute, count in other.kept_per_minute.items():
            self.kept_per_minute[minute] = self.kept_per_minute.get(minute, 0) + count


@dataclass(frozen=True)
class _IndexTerms:
    standard_days: int | None
    """Days in the standard tier; None for a Flex-only index."""
    flex_days: int
    """Days in the Flex tier after the standard tier (0: none)."""
    daily_limit: int | None


class CostAccumulator:
    """Counts what the bill depends on, one log at a time; `merge` joins another process's counts."""

    def __init__(self, rules: RuleSet) -> None:
        self.indexes: dict[str, IndexUsage] = {}
        self._terms: dict[str, _IndexTerms] = {}
        for name, index in rules.indexes.items():
            self.indexes[name] = IndexUsage(
                excluded={exclusion.name: 0 for exclusion in index.exclusion_filters if exclusion.enabled}
            )
            standard, total = rules.index_retention(name)
            flex_days = max((total or 0) - (standard or 0), 0)
            self._terms[name] = _IndexTerms(standard, flex_days, index.daily_limit)
        self._limited = frozenset(name for name, terms in self._terms.items() if terms.daily_limit)
        self.unrouted_events = 0
        self.unrouted_bytes = 0
        self.undated_kept: dict[str, int] = {}
        """Per index with a daily quota, kept logs whose minute is not known yet (no dated log before them in
        this part): a merge with the part before places them in its last dated minute, as monitors do."""

    def add(self, decision: IndexDecision, kept: bool, minute: int | None, size: int) -> None:
        """One ingested log: where it was routed, whether its index kept it, the minute it counts in (the
        accumulator's: an undated log takes the previous dated log's) and its size in bytes."""
        self.add_many(decision, {minute: 1} if kept else {}, 0 if kept else 1, size)

    def add_many(self, decision: IndexDecision, kept: Mapping[int | None, int], dropped: int, size: int) -> None:
        """Logs routed alike: how many their index kept in each minute, how many it dropped, their bytes."""
        kept_events = sum(kept.values())
        name = decision.index
        if name is None:
            self.unrouted_events += kept_events + dropped
            self.unrouted_bytes += size
            return
        usage = self.indexes[name]
        usage.ingested_events += kept_events + dropped
        usage.ingested_bytes += size
        if dropped and decision.exclusion is not None:
            usage.excluded[decision.exclusion] = usage.excluded.get(decision.exclusion, 0) + dropped
        usage.kept_events += kept_events
        if name in self._limited:
            per_minute = usage.kept_per_minute
            for minute, count in kept.items():
                if minute is None:
                    self.undated_kept[name] = self.undated_kept.get(name, 0) + count
                else:
                    per_minute[minute] = per_minute.get(minute, 0) + count

    def merge(self, other: CostAccumulator, undated_minute: int | None) -> None:
        """Add the counts of the part that follows (the same rules); its undated kept logs take
        `undated_minute`, this part's last dated minute, or stay undated when there is none."""
        for name, usage in other.indexes.items():
            self.indexes[name].merge(usage)
        self.unrouted_events += other.unrouted_events
        self.unrouted_bytes += other.unrouted_bytes
        for name, count in other.undated_kept.items():
            if undated_minute is None:
                self.undated_kept[name] = self.undated_kept.get(name, 0) + count
            else:
                per_minute = self.indexes[name].kept_per_minute
                per_minute[undated_minute] = per_minute.get(undated_minute, 0) + count

    def report(
        self,
        metrics: Mapping[str, MetricAggregator],
        prices: Prices,
        period: tuple[float, float] | None = None,
    ) -> dict[str, Any]:
        """The `cost` section of the replay report. `period` is the replayed span in epoch seconds: the hours
        `--from`/`--to` selected, or the minutes from the first dated log to the last (`Tally.data_period`);
        None when no log had a date."""
        start, end = period if period is not None else (None, None)
        hours = (end - start) / 3600 if start is not None and end is not None else 0.0
        indexes: dict[str, Any] = {}
        indexing_usd = flex_usd = 0.0
        flex_reached = False
        price_table = _price_table(prices)
        for name, usage in self.indexes.items():
            terms = self._terms[name]
            quota = _quota(usage.kept_per_minute, terms.daily_limit)
            billed = usage.kept_events - quota.over
            standard = billed if terms.standard_days is not None else 0
            flex_events = usage.kept_events if terms.flex_days else 0
            tier = prices.indexing_tier(terms.standard_days) if terms.standard_days is not None else None
            if tier is not None:
                indexing_usd += standard / 1e6 * tier.usd
            if terms.flex_days and billed:
                flex_reached = True
                flex_usd += billed / 1e6 * prices.flex_storage_per_million_per_month * terms.flex_days / 30
            indexes[name] = {
                "ingested_events": usage.ingested_events,
                "ingested_bytes": usage.ingested_bytes,
                "indexed_events": usage.kept_events if terms.standard_days is not None else 0,
                "flex_events": flex_events,
                "excluded": dict(usage.excluded),
                "daily_limit": terms.daily_limit,
                "daily_limit_reached_at": iso(quota.first_reached_minute * 60)
                if quota.first_reached_minute is not None
                else None,
                "daily_limit_days_reached": quota.days_reached,
                "over_daily_limit": quota.over,
                "indexing_price": f"indexing_{tier.retention_days}_days" if tier is not None else None,
            }
        if flex_reached:
            flex_usd += prices.flex_compute_per_month * hours / HOURS_PER_MONTH
        ingested_bytes = self.unrouted_bytes + sum(usage.ingested_bytes for usage in self.indexes.values())
        ingestion_usd = ingested_bytes / BYTES_PER_GB * prices.ingestion_per_gb
        metric_counts = {name: custom_metrics(aggregator) for name, aggregator in metrics.items()}
        monthly_metrics = sum(count for _, count in metric_counts.values())
        custom_metrics_usd = monthly_metrics / 100 * prices.custom_metrics_per_100 * hours / HOURS_PER_MONTH
        total = ingestion_usd + indexing_usd + flex_usd + custom_metrics_usd
        return {
            "period": {"from": iso(start), "to": iso(end), "hours": round(hours, 6)},
            "indexes": indexes,
            "unrouted": {"ingested_events": self.unrouted_events, "ingested_bytes": self.unrouted_bytes},
            "metrics": {
                name: {"tag_combinations": combos, "custom_metrics": count}
                for name, (combos, count) in metric_counts.items()
            },
            "prices": price_table,
            "estimate": {
                "ingestion_usd": _usd(ingestion_usd),
                "indexing_usd": _usd(indexing_usd),
                "flex_usd": _usd(flex_usd),
                "custom_metrics_usd": _usd(custom_metrics_usd),
                "total_usd": _usd(total),
                "projected_30_days_usd": _usd(total * HOURS_PER_MONTH / hours) if hours > 0 else 0.0,
            },
        }


@dataclass(frozen=True)
class _Quota:
    first_reached_minute: int | None = None
    days_reached: int = 0
    over: int = 0
    """Kept logs past the quota: Datadog would not index (nor bill) them."""


def _quota(kept_per_minute: Mapping[int, int], limit: int | None) -> _Quota:
    """When each UTC day's kept logs reach the index's daily quota (Datadog's default reset is 00:00 UTC)."""
    if not limit or not kept_per_minute:
        return _Quota()
    first: int | None = None
    days_reached = over = 0
    day: int | None = None
    running = 0
    for minute in sorted(kept_per_minute):
        if minute // MINUTES_PER_DAY != day:
            day, running = minute // MINUTES_PER_DAY, 0
        before = running
        running += kept_per_minute[minute]
        if before < limit <= running:
            days_reached += 1
            first = minute if first is None else first
        if running > limit:
            over += running - max(before, limit)
    return _Quota(first, days_reached, over)


def custom_metrics(aggregator: MetricAggregator) -> tuple[int, int]:
    """(distinct tag combinations, custom metrics billed for them) for one log-based metric.

    A count is one custom metric per combination; a distribution five (count, sum, min, max, avg), plus with
    percentiles five per queryable combination: every subset of tags of a combination seen, `*` included.
    """
    keys = list(aggregator.counts) if aggregator.metric.compute == "count" else list(aggregator.sketches)
    if aggregator.metric.compute == "count":
        return len(keys), len(keys)
    billed = DISTRIBUTION_AGGREGATIONS * len(keys)
    if aggregator.metric.include_percentiles and keys:
        width = len(aggregator.tags)
        queryable = {
            tuple(key[i] if i in kept else None for i in range(width))
            for key in keys
            for size in range(width + 1)
            for kept in map(frozenset, combinations(range(width), size))
        }
        billed += PERCENTILE_AGGREGATIONS * len(queryable)
    return len(keys), billed


def _price_table(prices: Prices) -> dict[str, dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {"ingestion": {"usd": prices.ingestion_per_gb, "per": "GB ingested"}}
    for tier in sorted(prices.indexing_per_million, key=lambda tier: tier.retention_days):
        table[f"indexing_{tier.retention_days}_days"] = {
            "usd": tier.usd,
            "per": f"million events indexed, {tier.retention_days}-day retention",
        }
    table["flex_storage"] = {"usd": prices.flex_storage_per_million_per_month, "per": "million events a month in Flex"}
    table["flex_compute"] = {"usd": prices.flex_compute_per_month, "per": "month"}
    table["custom_metrics"] = {"usd": prices.custom_metrics_per_100, "per": "100 custom metrics a month"}
    return table


def _usd(value: float) -> float:
    """Dollars to a billionth: small replays keep their figures, and float noise goes."""
    return round(value, 9)
