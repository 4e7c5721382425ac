"""The cost section: what each index ingests, indexes and excludes, daily quotas, custom metrics and prices."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logmon.evaluation.cost import custom_metrics
from logmon.replay import Replay
from logmon.rules.loader import RuleSet, rules_from_text
from logmon.settings import IndexingPrice, Prices

RULES = """
indexes:
  audit:
    filter: "@event_category:security"
    retention_days: 30
  debug:
    filter: "status:debug"
    flex_only: true
    flex_retention_days: 60
  main:
    filter: "service:payment-service"
    retention_days: 7
    flex_retention_days: 37
    daily_limit: 100
    exclusion_filters:
      - name: drop-health
        filter: "@path:/health"
        sample_rate: 1.0
      - name: keep-all
        filter: "@path:/kept"
        sample_rate: 0.0
metrics:
  logs.requests:
    filter: "*"
    compute: count
    group_by: ["@team", "@code"]
  logs.latency:
    filter: "@ms:*"
    compute: distribution
    path: "@ms"
    include_percentiles: true
    group_by: ["@team", "@code"]
  logs.latency_plain:
    filter: "@ms:*"
    compute: distribution
    path: "@ms"
    group_by: ["@team"]
"""
DAY = 1_767_571_200
"""2026-01-05T00:00:00Z."""


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return rules_from_text(RULES)


def line(second: float, **fields: Any) -> bytes:
    log = {"timestamp": int((DAY + second) * 1000), "level": "info", "service": "payment-service", "message": "m"}
    return orjson.dumps({**log, **fields}) + b"\n"


def undated(**fields: Any) -> bytes:
    log = {"level": "info", "service": "payment-service", "message": "m"}
    return orjson.dumps({**log, **fields}) + b"\n"


def cost_of(rules: RuleSet, lines: list[bytes], prices: Prices | None = None) -> dict[str, Any]:
    report: dict[str, Any] = Replay(rules, prices).run(lines)["cost"]
    return report


class TestIndexUsage:
    def test_events_and_bytes_per_index(self, rules: RuleSet) -> None:
        """Each log counts once, for the index it is routed to, with its size without the line ending."""
        main = [line(n, path="/pay") for n in range(5)]
        security = [line(10, event_category="security")]
        debug = [line(11, level="debug", service="other")]
        stray = [line(12, service="other")]
        cost = cost_of(rules, main + security + debug + stray)
        indexes = cost["indexes"]
        assert (indexes["main"]["ingested_events"], indexes["main"]["indexed_events"]) == (5, 5)
        assert indexes["main"]["ingested_bytes"] == sum(len(item) - 1 for item in main)
        assert (indexes["audit"]["ingested_events"], indexes["audit"]["flex_events"]) == (1, 0)
        assert (indexes["debug"]["indexed_events"], indexes["debug"]["flex_events"]) == (0, 1)
        assert cost["unrouted"] == {"ingested_events": 1, "ingested_bytes": len(stray[0]) - 1}

    def test_exclusions_are_counted_per_filter(self, rules: RuleSet) -> None:
        """A filter excluding everything counts each log it drops; one excluding nothing counts none."""
        lines = [line(n, path="/health") for n in range(3)] + [line(5, path="/kept"), line(6, path="/pay")]
        main = cost_of(rules, lines)["indexes"]["main"]
        assert main["excluded"] == {"drop-health": 3, "keep-all": 0}
        assert (main["ingested_events"], main["indexed_events"]) == (5, 2)

    def test_a_standard_index_with_a_flex_tier_counts_both(self, rules: RuleSet) -> None:
        """Logs kept by an index whose total retention exceeds its standard tier are in Flex afterwards too."""
        main = cost_of(rules, [line(0), line(1)])["indexes"]["main"]
        assert (main["indexed_events"], main["flex_events"]) == (2, 2)

    def test_crlf_endings_are_not_bytes_of_the_log(self, rules: RuleSet) -> None:
        """The same log with CRLF or LF ending, or none, has the same size."""
        plain = line(0)
        sizes = {
            cost_of(rules, [variant])["indexes"]["main"]["ingested_bytes"]
            for variant in (plain, plain.replace(b"\n", b"\r\n"), plain.rstrip())
        }
        assert sizes == {len(plain) - 1}


class TestDailyLimit:
    def test_minute_the_quota_is_reached(self, rules: RuleSet) -> None:
        """At one kept log a minute, the 100th (minute 99) reaches a limit of 100; 50 more would be refused."""
        cost = cost_of(rules, [line(60 * n) for n in range(150)])
        main = cost["indexes"]["main"]
        assert main["daily_limit"] == 100
        assert main["daily_limit_reached_at"] == "2026-01-05T01:39:00Z"
        assert (main["daily_limit_days_reached"], main["over_daily_limit"]) == (1, 50)

    def test_first_day_it_is_reached_over_several_days(self, rules: RuleSet) -> None:
        """Each UTC day starts from zero; the report gives the first day's minute and how many days reached it."""
        day1 = [line(60 * n) for n in range(90)]
        day2 = [line(86_400 + 30 * n) for n in range(120)]
        day3 = [line(2 * 86_400 + 60 * n) for n in range(101)]
        main = cost_of(rules, day1 + day2 + day3)["indexes"]["main"]
        assert main["daily_limit_reached_at"] == "2026-01-06T00:49:00Z"
        assert (main["daily_limit_days_reached"], main["over_daily_limit"]) == (2, 21)

    def test_excluded_logs_do_not_use_the_quota(self, rules: RuleSet) -> None:
        """Only kept logs count towards a daily quota."""
        main = cost_of(rules, [line(n, path="/health") for n in range(150)])["indexes"]["main"]
        assert main["daily_limit_reached_at"] is None
        assert main["over_daily_limit"] == 0

    def test_no_limit_no_minute(self, rules: RuleSet) -> None:
        """An index without a daily limit never reaches one."""
        audit = cost_of(rules, [line(n, event_category="security") for n in range(500)])["indexes"]["audit"]
        assert (audit["daily_limit"], audit["daily_limit_reached_at"]) == (None, None)


class TestCustomMetrics:
    def test_counts_and_distributions(self, rules: RuleSet) -> None:
        """A count is one custom metric per tag combination; a distribution five, plus five per queryable
        combination with percentiles (Datadog's own example: three combinations of two tags → eight)."""
        lines = [line(0, team="x", code=1, ms=5), line(1, team="x", code=2, ms=5), line(2, team="y", code=1, ms=5)]
        metrics = cost_of(rules, lines)["metrics"]
        assert metrics["logs.requests"] == {"tag_combinations": 3, "custom_metrics": 3}
        assert metrics["logs.latency"] == {"tag_combinations": 3, "custom_metrics": 5 * 3 + 5 * 8}
        assert metrics["logs.latency_plain"] == {"tag_combinations": 2, "custom_metrics": 5 * 2}

    def test_no_values_no_metrics(self, rules: RuleSet) -> None:
        """A metric that saw nothing costs nothing."""
        replay = Replay(rules)
        replay.run([])
        assert custom_metrics(replay.evaluation.metrics["logs.latency"]) == (0, 0)


class TestEstimate:
    UNIT = Prices(
        ingestion_per_gb=1e9,
        indexing_per_million=[IndexingPrice(retention_days=7, usd=1e6), IndexingPrice(retention_days=30, usd=2e6)],
        flex_storage_per_million_per_month=1e6,
        flex_compute_per_month=0.0,
        custom_metrics_per_100=100.0,
    )
    """A dollar a byte, a dollar an event indexed for 7 days (two for 30), a dollar an event a month in Flex,
    a dollar a custom metric a month: every figure can be checked by hand."""

    def test_every_line_of_the_estimate(self, rules: RuleSet) -> None:
        """An hour of logs priced with unit prices: each part of the estimate, the total and the projection."""
        lines = [line(0, team="x", code=1), line(3599, event_category="security"), line(60, level="debug", service="o")]
        cost = cost_of(rules, lines, self.UNIT)
        assert cost["period"] == {"from": "2026-01-05T00:00:00Z", "to": "2026-01-05T01:00:00Z", "hours": 1}
        estimate = cost["estimate"]
        assert estimate["ingestion_usd"] == sum(len(item) - 1 for item in lines)
        assert estimate["indexing_usd"] == 1 + 2  # main at the 7-day price, audit at the 30-day price
        # main keeps its log 30 more days in Flex (37 - 7), debug 60 days: 1 + 2 months.
        assert estimate["flex_usd"] == pytest.approx(1 + 2)
        # logs.requests: two combinations (team x code 1, and N/A for the logs without either) for one hour.
        assert estimate["custom_metrics_usd"] == pytest.approx(2 / 720, abs=1e-4)
        parts = ("ingestion_usd", "indexing_usd", "flex_usd", "custom_metrics_usd")
        assert estimate["total_usd"] == pytest.approx(sum(estimate[key] for key in parts), abs=1e-3)
        assert estimate["projected_30_days_usd"] == pytest.approx(estimate["total_usd"] * 720, rel=1e-4)

    def test_logs_over_the_quota_are_not_billed_for_indexing(self, rules: RuleSet) -> None:
        """Past the daily limit Datadog indexes nothing more, so 150 logs against a limit of 100 bill 100."""
        cost = cost_of(rules, [line(60 * n) for n in range(150)], self.UNIT)
        assert cost["estimate"]["indexing_usd"] == 100

    def test_price_table_is_in_the_report(self, rules: RuleSet) -> None:
        """The report lists the prices it used, each with its unit, and which tier each index paid."""
        cost = cost_of(rules, [line(0)])
        assert cost["prices"]["ingestion"] == {"usd": 0.10, "per": "GB ingested"}
        assert cost["prices"]["indexing_7_days"]["usd"] == 1.27
        assert cost["indexes"]["main"]["indexing_price"] == "indexing_7_days"
        assert cost["indexes"]["audit"]["indexing_price"] == "indexing_30_days"
        assert cost["indexes"]["debug"]["indexing_price"] is None

    def test_no_dated_logs(self, rules: RuleSet) -> None:
        """Without a dated log there is no period and nothing to project."""
        cost = cost_of(rules, [])
        assert cost["period"] == {"from": None, "to": None, "hours": 0.0}
        assert cost["estimate"]["projected_30_days_usd"] == 0.0

    @pytest.mark.parametrize(("retention", "tier"), [(None, 3), (3, 3), (7, 7), (10, 15), (30, 30), (60, 30)])
    def test_indexing_tier(self, retention: int | None, tier: int) -> None:
        """An index pays the shortest listed retention that covers its own, the longest when none does."""
        assert Prices().indexing_tier(retention).retention_days == tier


class TestMerge:
    @settings(max_examples=25, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.one_of(st.none(), st.integers(0, 3 * 86_400)),
                st.sampled_from([{}, {"path": "/health"}, {"event_category": "security"}, {"service": "o"}]),
            ),
            max_size=60,
        ),
        st.integers(0, 60),
    )
    def test_merged_halves_equal_one_pass(self, logs: list[tuple[int | None, dict[str, Any]]], cut: int) -> None:
        """Two parts of the input replayed apart and merged cost what one pass over all of it does, undated logs
        (which count towards the quota of the previous dated log's minute) included."""
        rules = rules_from_text(RULES)
        lines = [undated(**fields) if second is None else line(second, **fields) for second, fields in logs]
        whole, first, second = Replay(rules), Replay(rules), Replay(rules)
        first.accumulate(lines[:cut])
        first.part.merge(second.accumulate(lines[cut:]))
        assert first.report(first.part)["cost"] == whole.run(lines)["cost"]
