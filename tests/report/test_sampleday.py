"""The generated sample day (samples/day.ndjson.gz): reproducible, small, shaped like a day, with incidents."""

from __future__ import annotations

import gzip
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
from report_testing import PAYMENT_AT_300, REPOSITORY, replayed, rules_copy, shipped_rules

from logmon.report.collect import ChartedEvaluation
from logmon.report.timeline import monitor_timeline
from logmon.rules.loader import load_rules
from logmon.sampleday import DAY, INCIDENTS, SEED, Incident, daily_shape, day_lines, incident_shape, main

SAMPLE = REPOSITORY / "samples" / "day.ndjson.gz"
TIMESTAMP = re.compile(rb'"timestamp":"\d{4}-\d\d-\d\dT(\d\d):\d\d')
EVENT_TYPE = re.compile(rb'"event_type":"(\w+)"')


@dataclass
class Census:
    """What one pass over the shipped sample finds, up to 14:45."""

    per_hour: Counter[int] = field(default_factory=Counter)
    completions: Counter[tuple[int, str]] = field(default_factory=Counter)
    """(hour, payment_status) → lines."""
    events: Counter[str] = field(default_factory=Counter)
    outage: list[bytes] = field(default_factory=list)
    """The payment completions from 13:55 to 14:45, around the payment provider degradation."""
    first: list[bytes] = field(default_factory=list)


@pytest.fixture(scope="module")
def census() -> Census:
    found = Census()
    with gzip.open(SAMPLE, "rb") as lines:
        for line in lines:
            if len(found.first) < 2000:
                found.first.append(line)
            clock = TIMESTAMP.search(line)
            event = EVENT_TYPE.search(line)
            assert clock is not None, line
            assert event is not None, line
            if clock[0][-5:] >= b"14:45":
                break  # what the tests look at lies before
            hour = int(clock[1])
            found.per_hour[hour] += 1
            found.events[event[1].decode()] += 1
            if event[1] == b"payment_completion":
                status = orjson.loads(line)["payment_status"]
                found.completions[hour, status] += 1
                if b"13:55" <= clock[0][-5:] < b"14:45":
                    found.outage.append(line)
    return found


class TestReproducible:
    def test_the_shipped_file_is_what_the_command_writes(self, census: Census) -> None:
        """The sample's first lines are exactly what the generator writes with its fixed seed (minutes are drawn
        in order, so the first minutes of a shorter run are the first minutes of the day)."""
        expected = list(itertools.islice(day_lines(minutes=15), len(census.first)))
        assert census.first[: len(expected)] == expected

    def test_same_seed_same_bytes(self, tmp_path: Path) -> None:
        """Two runs with the seed write identical files (no time or name in the gzip header)."""
        first, second = tmp_path / "a.ndjson.gz", tmp_path / "b.ndjson.gz"
        for path in (first, second):
            from logmon.sampleday import write_sample

            write_sample(path, day_lines(minutes=5))
        assert first.read_bytes() == second.read_bytes()
        assert gzip.decompress(first.read_bytes()) == b"".join(day_lines(minutes=5))

    def test_another_seed_other_traffic(self) -> None:
        """The seed drives the counts: another seed gives another stream."""
        assert list(day_lines(minutes=3)) != list(day_lines(seed=SEED + 1, minutes=3))

    def test_command_line(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """`python -m logmon.sampleday --out FILE --day DATE` writes that day and says how much."""
        from unittest import mock

        out = tmp_path / "day.ndjson.gz"
        with mock.patch("logmon.sampleday.day_lines", lambda day, seed: day_lines(day, seed, minutes=2)):
            main(["--out", str(out), "--day", "2026-02-01"])
        assert "wrote" in capsys.readouterr().out
        first = orjson.loads(gzip.decompress(out.read_bytes()).splitlines()[0])
        assert first["timestamp"].startswith("2026-02-01T00:00")


class TestShape:
    def test_small_enough_for_ci(self) -> None:
        """The compressed day stays a few megabytes."""
        assert 1_000_000 < SAMPLE.stat().st_size < 5_000_000

    def test_daily_curve(self, census: Census) -> None:
        """Nights are quieter than lunchtime; the weekend is quieter than a weekday."""
        assert census.per_hour[3] < 0.5 * census.per_hour[12]
        assert set(census.per_hour) == set(range(15))
        assert daily_shape(12 * 60, 6) < daily_shape(12 * 60, DAY.weekday())

    def test_healthy_failure_rate(self, census: Census) -> None:
        """Outside the incident, 1–6 % of payment completions fail, as a healthy provider's do."""
        failed = sum(count for (hour, status), count in census.completions.items() if status == "failed" and hour < 13)
        total = sum(count for (hour, _), count in census.completions.items() if hour < 13)
        assert 0.01 < failed / total < 0.06

    def test_logger_sampling(self, census: Census) -> None:
        """Routine debug and info lines are sampled as the logger samples them; always-keep events are not."""
        assert census.events["cache_operation"] < 0.2 * census.events["payment_completion"] * 300 / 57
        assert census.events["authentication_attempt"] > census.events["api_request"] / 10

    def test_incident_ramps(self) -> None:
        """An incident ramps up and down around its full height; a one-minute incident is at full height."""
        incident = Incident("x", "10:00", 10, ())
        heights = [incident_shape(incident, 600 + minute) for minute in range(-1, 11)]
        assert heights[0] == heights[-1] == 0.0
        assert heights[1] < heights[3] == 1.0
        assert incident_shape(Incident("y", "10:00", 1, ()), 600) == 1.0
        assert {incident.name for incident in INCIDENTS} >= {"payment provider degradation", "bad deploy"}


class TestIncidentsAgainstTheRules:
    def test_payment_degradation_pages_at_250_not_at_300(self, census: Census, tmp_path: Path) -> None:
        """The provider degradation crosses the shipped 250-in-5-minutes threshold, and would not cross 300:
        the question a reviewer of that threshold change wants answered."""
        shipped = shipped_rules()
        run, _ = replayed(shipped, census.outage)
        assert isinstance(run.evaluation, ChartedEvaluation)
        head = monitor_timeline(run.evaluation.monitors["payment_failures"], "payment_failures")
        assert head.alerts() >= 1
        assert max(value for value in head.highest() if value is not None) < 300
        raised = load_rules(rules_copy(tmp_path / "rules", PAYMENT_AT_300))
        base_run, _ = replayed(raised, census.outage)
        assert isinstance(base_run.evaluation, ChartedEvaluation)
        assert monitor_timeline(base_run.evaluation.monitors["payment_failures"], "payment_failures").alerts() == 0
