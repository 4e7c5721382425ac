"""`logmon test --html FILE`: each failed case's monitors charted, expected states against actual ones."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from report_testing import SHIPPED_RULES, rules_copy
from test_report_html import Page

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CASES = """\
tests:
  pages_too_early:
    description: Expects an alert at 200 failures in five minutes, which the shipped threshold (250) does not give.
    events:
      - event: payment_completion
        fields: {payment_status: failed}
        count: 200
        over: 5m
    expect:
      monitors:
        - {monitor: payment_failures, at: 3m, state: ok}
        - {monitor: payment_failures, at: 5m, state: alert}
  stays_quiet_wrongly:
    description: Says logins stay quiet through a burst that warns.
    events:
      - event: authentication_attempt
        fields: {success: false}
        count: 60
        over: 5m
    expect:
      quiet: [authentication_failures]
  holds:
    events:
      - event: payment_completion
        fields: {payment_status: failed}
        count: 251
        over: 5m
    expect:
      monitors:
        - {monitor: payment_failures, at: 5m, state: alert}
"""


@pytest.fixture(scope="module")
def rules_with_failing_cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rules = rules_copy(tmp_path_factory.mktemp("ruletests") / "rules")
    (rules / "tests").mkdir()
    (rules / "tests" / "charts.yaml").write_text(CASES, encoding="utf-8")
    shutil.copy(SHIPPED_RULES.parent / "Pulumi.prod.yaml", rules.parent / "Pulumi.prod.yaml")
    return rules


@pytest.fixture(scope="module")
def page(rules_with_failing_cases: Path, tmp_path_factory: pytest.TempPathFactory, run_logmon: Any) -> Path:
    out = tmp_path_factory.mktemp("html") / "rule-tests.html"
    code, stdout, _ = run_logmon(["test", "--rules", str(rules_with_failing_cases), "--html", str(out)])
    assert code == 1, stdout
    assert "1 passed, 2 failed" in stdout
    return out


class TestRuleTestPage:
    def test_each_failed_case_has_its_monitors_charted(self, page: Path) -> None:
        """A failed case gets one chart per monitor it checks, with the actual state line and each expectation."""
        parsed = Page(page.read_text(encoding="utf-8"))
        ids = parsed.ids()
        assert {"case-charts-pages_too_early-0", "case-charts-pages_too_early-0-actual"} <= ids
        assert {"case-charts-pages_too_early-0-expected-0", "case-charts-pages_too_early-0-expected-1"} <= ids
        assert "case-charts-pages_too_early-0-critical" in ids
        assert "case-charts-stays_quiet_wrongly-0-actual" in ids
        assert [c["data-monitor"] for c in parsed.with_class("case-chart")] == [
            "payment_failures",
            "authentication_failures",
        ]

    def test_passed_cases_are_listed_without_charts(self, page: Path) -> None:
        """A passing case is named among the passed ones and drawn nowhere."""
        text = page.read_text(encoding="utf-8")
        assert "charts/holds" in text
        assert "case-charts-holds" not in text

    def test_failures_are_written_as_in_the_text_report(self, page: Path) -> None:
        """Each failure's location and message appear under its case."""
        text = " ".join(" ".join(Page(page.read_text(encoding="utf-8")).text).split())
        assert "payment_failures at 5m: expected alert, got warn" in text
        assert "authentication_failures should stay ok, but was warn" in text

    def test_opens_in_the_browser(self, page: Path, browser: Browser) -> None:
        """The page loads with no console error or request, and its charts have a size."""
        tab = browser.new_page()
        errors: list[str] = []
        requests: list[str] = []
        tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        tab.on("request", lambda request: requests.append(request.url))
        tab.goto(page.as_uri(), wait_until="load")
        assert errors == []
        assert requests == [page.as_uri()]
        box: Any = tab.locator("figure.case-chart svg").first.bounding_box()
        assert box["height"] > 80
        tab.close()

    def test_without_failures_the_page_says_so(self, tmp_path: Path, run_logmon: Any) -> None:
        """When every case passes, the page has the summary and no failed case."""
        out = tmp_path / "ok.html"
        code, _, _ = run_logmon(["test", "--run", "^payments/fires_just", "--html", str(out)])
        assert code == 0
        text = out.read_text(encoding="utf-8")
        assert "1 passed, 0 failed" in text
        assert "case-chart" not in text
