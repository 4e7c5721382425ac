"""`logmon replay --format markdown [--compare BASE]`: Mermaid timelines for a pull-request comment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_testing import MERMAID_JS, PAYMENT_AT_300, SHIPPED_RULES, lines, logmon_output, missing, rules_copy

from logmon.report.markdown import POINTS, Series, mermaid_chart
from logmon.report.timeline import downsample

if TYPE_CHECKING:
    from playwright.sync_api import Browser

BLOCK = re.compile(r"```mermaid\n(.*?)```", re.DOTALL)


def blocks(markdown: str) -> list[str]:
    return BLOCK.findall(markdown)


def series_of(block: str) -> list[list[float]]:
    return [[float(v) for v in match.split(",")] for match in re.findall(r"^\s*line \[(.*)\]$", block, re.MULTILINE)]


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("markdown") / "logs.ndjson"
    path.write_bytes(b"".join(lines()))
    return path


@pytest.fixture(scope="module")
def base_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped rules with payment_failures' critical at 300: the base that the shipped rules change."""
    return rules_copy(tmp_path_factory.mktemp("base") / "rules", PAYMENT_AT_300)


@pytest.fixture(scope="module")
def comparison(log_file: Path, base_rules: Path) -> str:
    return logmon_output(
        ["replay", str(log_file), "--rules", str(SHIPPED_RULES), "--compare", str(base_rules), "--format", "markdown"]
    )


class TestDownsample:
    @given(st.lists(st.one_of(st.none(), st.floats(0, 1e6)), max_size=3000), st.integers(1, 150))
    @settings(max_examples=60, deadline=None)
    def test_at_most_the_points_and_the_peak_kept(self, values: list[float | None], points: int) -> None:
        """A series is cut to at most `points` values and its highest value survives."""
        cut = downsample(values, points)
        assert len(cut) == min(len(values), points)
        present = [value for value in values if value is not None]
        if present:
            assert max(cut) == max(present)

    def test_points_must_be_positive(self) -> None:
        """Zero points is a programming error, not an empty chart."""
        with pytest.raises(ValueError, match="at least 1"):
            downsample([1.0], 0)


class TestMermaidBlock:
    def test_quotes_in_titles_cannot_break_the_block(self) -> None:
        """A double quote in a title becomes a single quote (Mermaid strings cannot escape it)."""
        block = mermaid_chart('say "hi"', [0, 1], "logs", [Series("v", "#000", "black", (1.0, 2.0))])
        assert "title \"say 'hi'\"" in block


class TestMarkdownReport:
    def test_every_monitor_gets_a_chart(self, log_file: Path) -> None:
        """Without `--compare`, each monitor has its Mermaid timeline, capped at 100 points per series."""
        markdown = logmon_output(["replay", str(log_file), "--rules", str(SHIPPED_RULES), "--format", "markdown"])
        found = blocks(markdown)
        assert len(found) == 5
        for block in found:
            assert block.splitlines()[1] == "xychart-beta"
            assert all(0 < len(series) <= POINTS for series in series_of(block))
        assert "#### `payment_failures`" in markdown
        assert "1 alert, " in markdown


class TestComparison:
    def test_only_the_changed_monitor_is_shown_with_both_thresholds(self, comparison: str) -> None:
        """Raising payment_failures' threshold shows that monitor alone, with 250 and 300 on one chart."""
        assert "1 of 5 monitors change" in comparison
        assert "#### `payment_failures`" in comparison
        assert "#### `high_error_rate`" not in comparison
        (block,) = blocks(comparison)
        constants = {series[0] for series in series_of(block) if len(set(series)) == 1}
        assert {250.0, 300.0} <= constants
        assert "critical > 250 (head)" in comparison
        assert "critical > 300 (base)" in comparison
        assert "warning > 125 (both)" in comparison
        assert [series[0] for series in series_of(block) if len(set(series)) == 1].count(125.0) == 1

    def test_verdict_counts_alerts_and_minutes_for_each_version(self, comparison: str) -> None:
        """The verdict line gives each version's alerts and minutes in alert on the same logs."""
        match = re.search(
            r"\*\*base \(> 300, warn > 125\): (?P<base>[^;]+); head \(> 250, warn > 125\): (?P<head>[^*]+)\*\*",
            comparison,
        )
        assert match, comparison
        assert match["base"] == "no alert"
        assert match["head"] == "1 alert, 4 minutes in alert"

    def test_identical_rules_change_nothing(self, log_file: Path) -> None:
        """Comparing the rules with themselves reports no change and draws no chart."""
        markdown = logmon_output(
            [
                "replay",
                str(log_file),
                "--rules",
                str(SHIPPED_RULES),
                "--compare",
                str(SHIPPED_RULES),
                "--format",
                "markdown",
            ]
        )
        assert "No monitor changes" in markdown
        assert blocks(markdown) == []

    def test_json_carries_the_comparison(self, log_file: Path, base_rules: Path) -> None:
        """`--format json` adds a `compare` section with each side's counts."""
        document: dict[str, Any] = orjson.loads(
            logmon_output(
                [
                    "replay",
                    str(log_file),
                    "--rules",
                    str(SHIPPED_RULES),
                    "--compare",
                    str(base_rules),
                    "--format",
                    "json",
                ]
            )
        )
        changed = document["compare"]["changed"]
        assert list(changed) == ["payment_failures"]
        assert changed["payment_failures"]["base"]["critical"] == 300
        assert changed["payment_failures"]["head"]["critical"] == 250
        assert changed["payment_failures"]["head"]["alerts"] == 1

    def test_invalid_base_rules_exit_1(self, log_file: Path, tmp_path: Path, run_logmon: Any) -> None:
        """Base rules that do not load are reported like head rules: findings on stderr, exit 1."""
        broken = rules_copy(tmp_path / "rules", {"monitors.yaml": ("window: 5m", "window: 5 minutes")})
        code, _, stderr = run_logmon(["replay", str(log_file), "--rules", str(SHIPPED_RULES), "--compare", str(broken)])
        assert code == 1
        assert "monitors.yaml:" in stderr


class TestMermaidParses:
    def test_blocks_parse_with_the_official_parser(self, comparison: str, log_file: Path, browser: Browser) -> None:
        """Every block of the comparison and of the plain report parses with Mermaid's own `mermaid.parse`."""
        if not MERMAID_JS.is_file():
            missing("The mermaid npm package", "npm ci --prefix tests/report/mermaid")
        plain = logmon_output(["replay", str(log_file), "--rules", str(SHIPPED_RULES), "--format", "markdown"])
        found = blocks(comparison) + blocks(plain)
        assert len(found) == 6
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.set_content("<!DOCTYPE html><html><body></body></html>")
        page.add_script_tag(path=str(MERMAID_JS))
        results = page.evaluate(
            """async (texts) => {
                const out = [];
                for (const text of texts) {
                    try { const parsed = await mermaid.parse(text); out.push(parsed.diagramType); }
                    catch (error) { out.push('error: ' + error.message); }
                }
                return out;
            }""",
            found,
        )
        assert errors == []
        assert results == ["xychart"] * len(found)

    def test_the_parser_rejects_a_broken_block(self, browser: Browser) -> None:
        """The check can fail: a block with a malformed line series does not parse."""
        if not MERMAID_JS.is_file():
            missing("The mermaid npm package", "npm ci --prefix tests/report/mermaid")
        page = browser.new_page()
        page.set_content("<!DOCTYPE html><html><body></body></html>")
        page.add_script_tag(path=str(MERMAID_JS))
        outcome = page.evaluate(
            """async (text) => { try { await mermaid.parse(text); return 'parsed'; } catch (e) { return 'error'; } }""",
            "xychart-beta\n    line [1, 2,, oops]\n",
        )
        assert outcome == "error"
