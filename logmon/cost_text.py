"""The replay report's `input` and `cost` sections as text: a line for what was read, tables for what it costs."""

from __future__ import annotations

import io
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

WIDTH = 120
KINDS = {
    "intake": "logger output (intake: pipelines run)",
    "archive": "Datadog archive (already processed: pipelines not run again)",
    "api-export": "Datadog API export (already processed: pipelines not run again)",
    "mixed": "mixed (logger lines through the pipelines, processed logs as they are)",
    "none": "no logs",
}


def render_input(summary: dict[str, Any]) -> str:
    """One line: the kind of log detected, the number of sources and where they were."""
    line = f"input: {KINDS.get(summary['kind'], summary['kind'])}, {summary['sources']} source"
    line += "" if summary["sources"] == 1 else "s"
    if summary["location"] not in ("stream", "mixed"):
        line += f" ({summary['location']}{', archive layout' if summary['archive_layout'] else ''})"
    hours = summary.get("hours")
    if hours:
        line += f", hours {hours['from'] or 'start'} to {hours['to'] or 'end'}"
    return line


def render_cost(cost: dict[str, Any]) -> str:
    """The cost section as tables: per index, per metric, and the estimate with its 30-day projection."""
    period = cost["period"]
    output = io.StringIO()
    console = Console(file=output, width=WIDTH, color_system=None, force_terminal=False, highlight=False)
    span = f"{period['from']} to {period['to']}" if period["from"] else "no dated logs"
    console.print(f"cost: {_duration(period['hours'])} replayed ({span})")
    indexes = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for heading in ("index", "ingested", "bytes", "indexed", "flex", "excluded", "daily limit", "limit reached at"):
        indexes.add_column(heading, justify="left" if heading in ("index", "excluded", "limit reached at") else "right")
    for name, usage in cost["indexes"].items():
        excluded = ", ".join(f"{count} by {filter_name}" for filter_name, count in usage["excluded"].items()) or "-"
        indexes.add_row(
            name,
            f"{usage['ingested_events']:,}",
            _bytes(usage["ingested_bytes"]),
            f"{usage['indexed_events']:,}",
            f"{usage['flex_events']:,}",
            excluded,
            f"{usage['daily_limit']:,}" if usage["daily_limit"] else "-",
            _reached(usage),
        )
    unrouted = cost["unrouted"]
    if unrouted["ingested_events"]:
        indexes.add_row(
            "(no index)",
            f"{unrouted['ingested_events']:,}",
            _bytes(unrouted["ingested_bytes"]),
            "-",
            "-",
            "-",
            "-",
            "-",
        )
    console.print(indexes)
    if cost["metrics"]:
        metrics = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        metrics.add_column("log-based metric")
        metrics.add_column("tag combinations", justify="right")
        metrics.add_column("custom metrics", justify="right")
        for name, usage in cost["metrics"].items():
            metrics.add_row(name, f"{usage['tag_combinations']:,}", f"{usage.get('custom_metrics', 0):,}")
        console.print(metrics)
    estimate = cost["estimate"]
    hours = period["hours"]
    prices = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    prices.add_column("estimate (list prices unless the stack sets its own)")
    prices.add_column("replayed, USD", justify="right")
    prices.add_column("30 days, USD", justify="right")
    scale = 720 / hours if hours else 0.0
    for label, key in (
        ("ingestion", "ingestion_usd"),
        ("standard indexing", "indexing_usd"),
        ("Flex", "flex_usd"),
        ("custom metrics", "custom_metrics_usd"),
    ):
        prices.add_row(label, _usd(estimate[key]), _usd(estimate[key] * scale))
    prices.add_row("total", _usd(estimate["total_usd"]), _usd(estimate["projected_30_days_usd"]), style="bold")
    console.print(prices)
    return output.getvalue()


def _reached(usage: dict[str, Any]) -> str:
    reached = usage["daily_limit_reached_at"]
    if reached is None:
        return "-"
    days = usage.get("daily_limit_days_reached", 1)
    return reached if days <= 1 else f"{reached} (and {days - 1} more day{'s' if days > 2 else ''})"


def _bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{count} B"


def _usd(value: float) -> str:
    return f"{value:,.2f}" if value >= 0.01 or value == 0 else f"{value:.6f}"


def _duration(hours: float) -> str:
    if hours >= 1 or hours == 0:
        return f"{hours:,.6g} hour{'' if hours == 1 else 's'}"
    minutes = round(hours * 60, 2)  # the report's hours carry six decimals: 2 minutes is 0.033333 h
    return f"{minutes:g} minute{'' if minutes == 1 else 's'}"
