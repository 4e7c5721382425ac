"""`logmon replay --html`: one self-contained page with a chart per monitor, per index, and the cost tables."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from report_testing import SHIPPED_RULES, lines, replayed, shipped_rules

from logmon.evaluation import State
from logmon.report.collect import ChartedEvaluation
from logmon.report.html import Provenance, _monitor_section, render_html, rules_commit
from logmon.report.timeline import GROUPS_SHOWN, GroupSeries, MonitorTimeline

COST: dict[str, Any] = {
    "period": {"from": "2026-01-05T00:00:00Z", "to": "2026-01-05T01:00:00Z", "hours": 1.0},
    "indexes": {
        "main": {
            "ingested_events": 15000,
            "ingested_bytes": 7_500_000,
            "indexed_events": 4200,
            "flex_events": 0,
            "excluded": {"sample-routine": 10800},
            "daily_limit": 50_000_000,
            "daily_limit_reached_at": None,
        },
        "debug": {
            "ingested_events": 4200,
            "ingested_bytes": 1_000_000,
            "indexed_events": 0,
            "flex_events": 4200,
            "excluded": {},
            "daily_limit": None,
            "daily_limit_reached_at": None,
        },
    },
    "unrouted": {"events": 3, "bytes": 900},
    "metrics": {"logs.payment.attempts": {"tag_combinations": 4}},
    "prices": {"ingestion": {"usd": 0.1, "per": "GB"}, "indexing_15_days": {"usd": 1.7, "per": "million events"}},
    "estimate": {
        "ingestion_usd": 0.85,
        "indexing_usd": 7.14,
        "flex_usd": 0.01,
        "custom_metrics_usd": 0.2,
        "total_usd": 8.2,
        "projected_30_days_usd": 5904.0,
    },
}


class Page(HTMLParser):
    """Tags, attributes and text of a page, to query without a browser."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {key: value or "" for key, value in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def ids(self) -> set[str]:
        return {attributes["id"] for _, attributes in self.elements if "id" in attributes}

    def with_class(self, name: str) -> list[dict[str, str]]:
        return [attributes for _, attributes in self.elements if name in attributes.get("class", "").split()]


@pytest.fixture(scope="module")
def page_text() -> str:
    rules = shipped_rules()
    run, report = replayed(rules)
    evaluation = run.evaluation
    assert isinstance(evaluation, ChartedEvaluation)
    return render_html({**report, "cost": COST}, evaluation, rules, Provenance("payments.ndjson", "rules", "abc123"))


class TestSelfContained:
    def test_nothing_is_fetched(self, page_text: str) -> None:
        """No script, no external stylesheet, font or image: the page opens with no network."""
        page = Page(page_text)
        assert not [tag for tag, _ in page.elements if tag in ("script", "link", "img", "iframe", "object")]
        references = [
            value
            for _, attributes in page.elements
            for key, value in attributes.items()
            if key in ("src", "href") and not value.startswith("#")
        ]
        assert references == []
        assert "@import" not in page_text
        assert not re.search(r"url\((?!#)", page_text)

    def test_charts_are_inline_svg_from_the_plotting_library(self, page_text: str) -> None:
        """Every chart is an inline `<svg>` drawn by matplotlib, with no XML prologue in the page."""
        assert "<?xml" not in page_text
        assert page_text.count("<svg") == len(Page(page_text).with_class("chart"))
        assert "matplotlib.axis_1" in page_text

    def test_element_ids_are_unique(self, page_text: str) -> None:
        """No two elements of the page share an id, though every chart comes from the same library."""
        ids = [attributes["id"] for _, attributes in Page(page_text).elements if "id" in attributes]
        assert len(ids) == len(set(ids))


class TestMonitors:
    def test_one_chart_per_monitor_with_thresholds_and_intervals(self, page_text: str) -> None:
        """Each ungrouped monitor has one chart with its value line and critical threshold, plus warning when set."""
        page = Page(page_text)
        ids = page.ids()
        rules = shipped_rules()
        for slug, monitor in rules.monitors.items():
            chart = f"monitor-{slug}-0"
            assert {chart, f"{chart}-value", f"{chart}-critical"} <= ids, slug
            assert (f"{chart}-warning" in ids) == (monitor.threshold.warning is not None), slug
        assert len(page.with_class("monitor-chart")) == len(rules.monitors)

    def test_alert_and_warn_intervals_are_shaded(self, page_text: str) -> None:
        """The payment outage is an alert interval; the login burst a warn interval and no alert."""
        ids = Page(page_text).ids()
        assert "monitor-payment_failures-0-alert-0" in ids
        assert "monitor-authentication_failures-0-warn-0" in ids
        assert "monitor-authentication_failures-0-alert-0" not in ids
        assert "monitor-fraud_blocks-0-alert-0" not in ids

    def test_summary_counts_alerts_and_minutes(self, page_text: str) -> None:
        """A monitor's summary says how many alerts and minutes in alert it had."""
        text = " ".join(" ".join(Page(page_text).text).split())
        assert re.search(r"critical > 250, warning > 125 \(logs in 5m\): 1 alert, \d+ minutes in alert", text)
        assert "never alerted" in text

    def test_busiest_groups_are_shown_and_the_rest_counted(self) -> None:
        """A grouped monitor shows its busiest groups first, up to the cap, and says how many are hidden."""
        minutes = (100, 101)
        groups = tuple(
            GroupSeries({"@currency": f"C{n:02d}"}, (float(n), float(n)), (State.OK, State.OK))
            for n in range(GROUPS_SHOWN + 3)
        )
        ordered = tuple(sorted(groups, key=lambda g: -g.total))
        timeline = MonitorTimeline("by_currency", "By currency", ">", 100, None, 5, "count", minutes, ordered)
        section = _monitor_section(timeline)
        assert [chart["group"] for chart in section["charts"]][:2] == [
            f"@currency: C{GROUPS_SHOWN + 2:02d}",
            f"@currency: C{GROUPS_SHOWN + 1:02d}",
        ]
        assert len(section["charts"]) == GROUPS_SHOWN
        assert section["hidden"] == 3


class TestIndexesAndCost:
    def test_index_charts(self, page_text: str) -> None:
        """Each index that took logs has an hourly chart; `main` shows its daily limit and what sampling dropped."""
        ids = Page(page_text).ids()
        assert {
            "index-main",
            "index-main-indexed-0",
            "index-main-daily-limit",
            "index-main-excluded-sample-routine-0",
        } <= ids
        assert {"index-debug", "index-debug-flex-0"} <= ids
        assert "index-debug-daily-limit" not in ids
        assert "index-debug-indexed-0" not in ids

    def test_cost_tables(self, page_text: str) -> None:
        """The report's cost section becomes tables: per index, metrics, and the estimate."""
        page = Page(page_text)
        assert {"cost", "cost-indexes", "cost-metrics", "cost-estimate"} <= page.ids()
        text = " ".join(page.text)
        assert "sample-routine: 10,800" in text
        assert "5,904" in text

    def test_no_cost_section_without_cost(self) -> None:
        """A report without `cost` (one written before replay priced the log path) renders without the section."""
        rules = shipped_rules()
        run, report = replayed(rules, lines()[:500])
        assert isinstance(run.evaluation, ChartedEvaluation)
        report.pop("cost")
        text = render_html(report, run.evaluation, rules, Provenance("-", "rules", "x"))
        assert 'id="cost"' not in text


class TestHeader:
    def test_header_names_input_range_commit_and_malformed(self) -> None:
        """The header says what was replayed, over which time, with which rules commit, and what was malformed."""
        rules = shipped_rules()
        data = lines()[:300]
        run, report = replayed(rules, [*data[:10], b"{nope\n", *data[10:]])
        assert isinstance(run.evaluation, ChartedEvaluation)
        text = render_html(report, run.evaluation, rules, Provenance("day.ndjson", "rules", "0123abcd"))
        flat = " ".join(" ".join(Page(text).text).split())
        assert "day.ndjson" in flat
        assert "2026-01-05T00:00:00Z →" in flat
        assert "0123abcd" in flat
        assert "malformed lines 1 (lines 11)" in flat

    def test_rules_commit(self, tmp_path: Path) -> None:
        """The rules' commit is read from git; outside a checkout it says so."""
        assert re.fullmatch(r"[0-9a-f]{12}( \+ local changes)?", rules_commit(SHIPPED_RULES))
        assert rules_commit(tmp_path).startswith("unknown")


class TestCommand:
    def test_html_option_writes_the_page(self, tmp_path: Path, run_logmon: Any) -> None:
        """`logmon replay FILE --html OUT` writes the page and still prints the text report."""
        source = tmp_path / "logs.ndjson"
        source.write_bytes(b"".join(lines()))
        out = tmp_path / "report" / "replay.html"
        code, stdout, stderr = run_logmon(["replay", str(source), "--rules", str(SHIPPED_RULES), "--html", str(out)])
        assert code == 0, stderr
        assert "payment_failures: FIRED" in stdout
        assert 'id="monitor-payment_failures-0"' in out.read_text(encoding="utf-8")

    def test_same_logs_same_page(self, tmp_path: Path, run_logmon: Any) -> None:
        """The page is deterministic: two runs write the same bytes."""
        source = tmp_path / "logs.ndjson"
        source.write_bytes(b"".join(lines()[:2000]))
        pages = []
        for name in ("a.html", "b.html"):
            code, _, stderr = run_logmon(
                ["replay", str(source), "--rules", str(SHIPPED_RULES), "--html", str(tmp_path / name)]
            )
            assert code == 0, stderr
            pages.append((tmp_path / name).read_bytes())
        assert pages[0] == pages[1]
