"""`logmon replay --stack S`: the rules as that stack deploys them, priced with the stack's price table."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest
from replay_testing import REPOSITORY, logmon

from logmon.simulate import simulate


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the rules and the stack files."""
    for path in REPOSITORY.glob("Pulumi*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    shutil.copytree(REPOSITORY / "rules", tmp_path / "rules")
    (tmp_path / "logs.ndjson").write_bytes(b"".join(simulate(2)))
    return tmp_path


def replay(project: Path, *arguments: str) -> Any:
    return logmon("replay", str(project / "logs.ndjson"), "--rules", str(project / "rules"), *arguments)


def add_prices(project: Path, prices: str) -> Path:
    stack_file = project / "Pulumi.prod.yaml"
    text = stack_file.read_text()
    marker = "    agent:\n"
    assert marker in text
    stack_file.write_text(text.replace(marker, prices + marker, 1))
    return stack_file


class TestReplayStack:
    def test_the_stacks_overrides_apply(self, project: Path) -> None:
        """prod's daily limit override (80 million) is the limit the cost section checks, not the rules' 50."""
        plain = orjson.loads(replay(project, "--format", "json").stdout)
        prod = orjson.loads(replay(project, "--stack", "prod", "--format", "json").stdout)
        assert plain["cost"]["indexes"]["main"]["daily_limit"] == 50_000_000
        assert prod["cost"]["indexes"]["main"]["daily_limit"] == 80_000_000

    def test_the_stacks_prices_apply(self, project: Path) -> None:
        """A stack's price table replaces the list prices in the estimate and in the report's table."""
        add_prices(
            project,
            "    prices:\n      ingestion_per_gb: 0.05\n      indexing_per_million: [{retention_days: 7, usd: 1.0}]\n",
        )
        listed = orjson.loads(replay(project, "--format", "json").stdout)["cost"]
        own = orjson.loads(replay(project, "--stack", "prod", "--format", "json").stdout)["cost"]
        assert own["prices"]["ingestion"]["usd"] == 0.05
        assert set(own["prices"]) == {"ingestion", "indexing_7_days", "flex_storage", "flex_compute", "custom_metrics"}
        assert own["estimate"]["ingestion_usd"] < listed["estimate"]["ingestion_usd"]
        assert own["estimate"]["indexing_usd"] < listed["estimate"]["indexing_usd"]

    @pytest.mark.parametrize(
        ("prices", "field"),
        [
            ("    prices:\n      ingestion_per_gb: -1\n", "ingestion_per_gb"),
            ("    prices:\n      ingestion_per_gb: cheap\n", "ingestion_per_gb"),
            ("    prices:\n      per_log: 1\n", "per_log"),
            (
                "    prices:\n      indexing_per_million: [{retention_days: 7, usd: 1}, {retention_days: 7, usd: 2}]\n",
                "indexing_per_million",
            ),
        ],
    )
    def test_a_bad_price_is_reported_at_its_line(self, project: Path, prices: str, field: str) -> None:
        """A negative, non-numeric, unknown or repeated price fails with the stack file's line, exit 1."""
        stack_file = add_prices(project, prices)
        result = replay(project, "--stack", "prod")
        assert result.exit_code == 1
        line = next(n for n, text in enumerate(stack_file.read_text().splitlines(), 1) if field in text)
        assert re.search(rf"Pulumi\.prod\.yaml:{line}:\d+: error ", result.stderr), result.stderr
        assert result.stdout == ""

    def test_an_unknown_stack(self, project: Path) -> None:
        """A stack without a stack file is a usage problem naming the stacks there are."""
        result = replay(project, "--stack", "qa")
        assert result.exit_code == 2
        assert "unknown stack 'qa'" in result.stderr
        assert "dev, prod, staging" in result.stderr

    def test_the_text_report_has_the_cost_tables(self, project: Path) -> None:
        """The text report shows per-index usage and the estimate with its 30-day projection."""
        text = replay(project, "--stack", "prod").stdout
        assert "cost: 2 minutes replayed (2026-01-05T00:00:00Z to 2026-01-05T00:02:00Z)" in text
        for heading in ("index", "ingested", "limit reached at", "log-based metric", "custom metrics", "30 days, USD"):
            assert heading in text
        assert re.search(r"^\s*main\s+[\d,]+\s+[\d.,]+ kB", text, re.MULTILINE), text
        assert re.search(r"^\s*total\s+[\d.]+\s+[\d,.]+\s*$", text, re.MULTILINE), text
