"""The HTML report in a real headless chromium: it loads with no error and no request, and shows what it says."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from report_testing import SHIPPED_RULES, lines, shipped_rules
from test_report_html import COST

from logmon.report.collect import ChartedEvaluation
from logmon.report.html import Provenance, render_html

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def written_report(directory: Path) -> Path:
    from report_testing import replayed

    rules = shipped_rules()
    run, report = replayed(rules)
    assert isinstance(run.evaluation, ChartedEvaluation)
    path = directory / "replay.html"
    page = render_html(
        {**report, "cost": COST}, run.evaluation, rules, Provenance("payments.ndjson", str(SHIPPED_RULES), "abc")
    )
    path.write_text(page, encoding="utf-8")
    return path


class TestReportInBrowser:
    def test_opens_cleanly_and_shows_every_chart(self, browser: Browser, tmp_path: Path) -> None:
        """No console error and no network request; one chart per monitor with thresholds and alert intervals,
        index charts and the cost table are rendered with a size; a screenshot is kept for manual checks."""
        report = written_report(tmp_path)
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        console_errors: list[str] = []
        requests: list[str] = []
        page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: console_errors.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(report.as_uri(), wait_until="load")

        assert console_errors == []
        assert requests == [report.as_uri()]  # the page itself, nothing else

        monitors = shipped_rules().monitors
        sections = page.locator("section.monitor")
        assert sections.count() == len(monitors)
        for slug in monitors:
            section = page.locator(f"section.monitor[data-monitor='{slug}']")
            charts = section.locator("figure.monitor-chart")
            assert charts.count() == 1, slug
            chart = charts.first
            assert chart.locator("svg").bounding_box() is not None
            assert chart.locator("svg").bounding_box()["height"] > 100  # type: ignore[index]
            assert chart.locator(f"[id='monitor-{slug}-0-critical']").count() == 1, slug
            assert chart.locator(f"[id='monitor-{slug}-0-value']").count() == 1, slug
        outage = page.locator("[id^='monitor-payment_failures-0-alert-']")
        assert outage.count() == 1
        assert outage.first.bounding_box()["width"] > 5  # type: ignore[index]
        assert page.locator("[id^='monitor-authentication_failures-0-warn-']").count() == 1

        assert page.locator("figure.index-chart").count() >= 2
        assert page.locator("[id='index-main-daily-limit']").count() == 1
        table = page.locator("table#cost-indexes")
        assert table.is_visible()
        assert table.locator("tbody tr").count() == len(COST["indexes"]) + 1  # and the unrouted row
        assert "5,904" in page.locator("table#cost-estimate").inner_text()

        page.screenshot(path=str(tmp_path / "replay.png"), full_page=True)
        assert (tmp_path / "replay.png").stat().st_size > 10_000
        page.close()

    def test_the_command_output_opens_too(self, browser: Browser, tmp_path: Path, run_logmon: object) -> None:
        """The file `logmon replay --html` writes loads without errors (no cost section yet is fine)."""
        source = tmp_path / "logs.ndjson"
        source.write_bytes(b"".join(lines()[:3000]))
        out = tmp_path / "out.html"
        code, _, stderr = run_logmon(["replay", str(source), "--rules", str(SHIPPED_RULES), "--html", str(out)])  # type: ignore[operator]
        assert code == 0, stderr
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(out.as_uri(), wait_until="load")
        assert errors == []
        assert page.locator("figure.monitor-chart").count() == len(shipped_rules().monitors)
        page.close()
