"""Replay straight from a Datadog archive: the S3 layout (moto's in-process S3) and a local copy of it."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from copy import deepcopy
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import orjson
import pytest
from archive_testing import archive_lines, archive_objects, upload, write_local
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws
from replay_testing import MINUTES, TRAFFIC, logmon, shipped_rules

from logmon import inputs
from logmon.replay import Replay
from logmon.rules.loader import RuleSet
from logmon.simulate import START, simulate

BUCKET = "acme-payments-log-archive-prod"
RULES = shipped_rules()
PREFIX = "datadog/logs/"


@pytest.fixture
def rules() -> RuleSet:
    """The shipped rules, loaded once for the module (RULES)."""
    return RULES


@pytest.fixture(scope="module")
def raw_lines() -> list[bytes]:
    """The acceptance traffic as the logger writes it: 40 minutes, two bursts."""
    return list(simulate(MINUTES, TRAFFIC))


@pytest.fixture(scope="module")
def objects(raw_lines: list[bytes]) -> dict[str, bytes]:
    return archive_objects(RULES, raw_lines, PREFIX)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's S3, reached through the same credential chain as a real run (here: the environment)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    inputs._s3_client.cache_clear()
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")
    inputs._s3_client.cache_clear()


def replay_json(*arguments: str) -> dict[str, Any]:
    result = logmon("replay", *arguments, "--format", "json")
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = orjson.loads(result.stdout)
    return report


def without_bytes(cost: dict[str, Any]) -> dict[str, Any]:
    """The cost section without what depends on the size of a line as stored (raw line or archived JSON)."""
    cost = deepcopy(cost)
    for usage in [*cost["indexes"].values(), cost["unrouted"]]:
        usage.pop("ingested_bytes")
    for key in ("ingestion_usd", "total_usd", "projected_30_days_usd"):
        cost["estimate"].pop(key)
    return cost


class TestArchiveEquality:
    def test_s3_archive_equals_the_raw_logs_through_the_pipelines(
        self, s3: Any, tmp_path: Path, raw_lines: list[bytes], objects: dict[str, bytes]
    ) -> None:
        """Monitors, indexes, metrics and counts from the S3 archive equal the logger's lines through the pipelines."""
        upload(s3, BUCKET, objects)
        raw = tmp_path / "raw.ndjson"
        raw.write_bytes(b"".join(raw_lines))
        from_logger = replay_json(str(raw))
        from_archive = replay_json(f"s3://{BUCKET}/{PREFIX}")
        assert from_logger["input"]["kind"] == "intake"
        assert from_archive["input"]["kind"] == "archive"
        for key in ("events", "malformed", "monitors", "indexes", "unrouted", "metrics"):
            assert from_archive[key] == from_logger[key], key
        assert without_bytes(from_archive["cost"]) == without_bytes(from_logger["cost"])
        assert sum(r["fired"] for r in from_archive["monitors"].values()) == 2

    def test_s3_archive_equals_its_processed_logs_as_one_local_ndjson_file(
        self, s3: Any, tmp_path: Path, rules: RuleSet, raw_lines: list[bytes], objects: dict[str, bytes]
    ) -> None:
        """The archive's objects in S3 and the same processed logs in one plain local file give the same report."""
        upload(s3, BUCKET, objects)
        local = tmp_path / "processed.ndjson"
        local.write_bytes(b"".join(line for _, line in archive_lines(rules, raw_lines)))
        from_file = replay_json(str(local))
        from_s3 = replay_json(f"s3://{BUCKET}/{PREFIX}")
        assert from_s3["input"]["sources"] == len(objects) > 1
        assert (from_file["input"]["kind"], from_file["input"]["sources"]) == ("archive", 1)
        from_file.pop("input")
        from_s3.pop("input")
        assert from_s3 == from_file

    def test_local_copy_of_the_archive_equals_s3(self, s3: Any, tmp_path: Path, objects: dict[str, bytes]) -> None:
        """A directory synced from the archive (`aws s3 sync`) replays like the bucket itself."""
        upload(s3, BUCKET, objects)
        write_local(objects, tmp_path)
        local = replay_json(str(tmp_path / PREFIX))
        remote = replay_json(f"s3://{BUCKET}/{PREFIX}")
        assert local["input"]["location"] == "local"
        assert remote["input"]["location"] == "s3"
        assert local["input"]["archive_layout"]
        assert remote["input"]["archive_layout"]
        for report in (local, remote):
            report.pop("input")
        assert local == remote

    def test_pipelines_are_not_run_twice(self, rules: RuleSet) -> None:
        """An archived log keeps its processed status: its `level` attribute is not remapped again."""
        line = orjson.dumps(
            {
                "_id": "AAAAAZ1",
                "date": "2026-01-05T00:00:01.000Z",
                "status": "info",
                "service": "payment-service",
                "message": "m",
                "attributes": {"level": "error", "logger": "payments.api", "event_type": "api_request"},
                "tags": ["env:prod"],
            }
        )
        report = Replay(rules).run([line + b"\n"])
        assert report["monitors"]["high_error_rate"]["max_value"] == 0
        assert report["input"]["events"] == {"intake": 0, "archive": 1, "api-export": 0}


def hours_of_traffic(rules: RuleSet, hours: int) -> dict[str, bytes]:
    """Three minutes of steady traffic at the start of each of `hours` hours, archived by hour."""
    lines: list[bytes] = []
    for hour in range(hours):
        lines += simulate(3, start=START + timedelta(hours=hour))
    return archive_objects(rules, lines, PREFIX)


class TestHourSelection:
    def test_from_and_to_select_whole_hours(self, s3: Any, rules: RuleSet) -> None:
        """`--from`/`--to` read the hours in [from, to) only, and the cost is for exactly those hours."""
        upload(s3, BUCKET, hours_of_traffic(rules, 30))
        report = replay_json(f"s3://{BUCKET}/{PREFIX}", "--from", "2026-01-05T22", "--to", "2026-01-06T02")
        assert report["events"] == 4 * 3 * 261
        assert report["input"]["hours"] == {"from": "2026-01-05T22:00:00Z", "to": "2026-01-06T02:00:00Z"}
        assert report["cost"]["period"] == {"from": "2026-01-05T22:00:00Z", "to": "2026-01-06T02:00:00Z", "hours": 4}

    def test_text_report_names_the_archive_and_its_hours(self, s3: Any, rules: RuleSet) -> None:
        """The text report says it read a Datadog archive, without running the pipelines, and which hours."""
        upload(s3, BUCKET, hours_of_traffic(rules, 3))
        result = logmon("replay", f"s3://{BUCKET}/{PREFIX}", "--from", "2026-01-05T01", "--to", "2026-01-05T03")
        assert result.exit_code == 0, result.output
        assert (
            "input: Datadog archive (already processed: pipelines not run again), 2 sources (s3, archive layout), "
            "hours 2026-01-05T01:00:00Z to 2026-01-05T03:00:00Z"
        ) in result.stdout
        assert "cost: 2 hours replayed (2026-01-05T01:00:00Z to 2026-01-05T03:00:00Z)" in result.stdout

    def test_only_the_selected_days_are_listed(self, s3: Any, rules: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
        """With both ends given, only the `dt=` folders of those days are listed, never the whole archive."""
        upload(s3, BUCKET, hours_of_traffic(rules, 30))
        listed: list[str] = []
        real = inputs._listed

        def spy(bucket: str, prefix: str) -> Iterator[inputs.Source]:
            listed.append(prefix)
            return real(bucket, prefix)

        monkeypatch.setattr(inputs, "_listed", spy)
        replay_json(f"s3://{BUCKET}/{PREFIX}", "--from", "2026-01-06T01", "--to", "2026-01-06T03")
        assert listed == [f"{PREFIX}dt=20260106/"]

    def test_local_archive_hours(self, tmp_path: Path, rules: RuleSet) -> None:
        """A local copy of the archive honours `--from`/`--to` the same way."""
        write_local(hours_of_traffic(rules, 5), tmp_path)
        report = replay_json(str(tmp_path), "--from", "2026-01-05T01", "--to", "2026-01-05T03")
        assert report["events"] == 2 * 3 * 261

    def test_open_ended_selection(self, s3: Any, rules: RuleSet) -> None:
        """Only `--from`: every hour from then on."""
        upload(s3, BUCKET, hours_of_traffic(rules, 5))
        report = replay_json(f"s3://{BUCKET}/{PREFIX}", "--from", "2026-01-05T03")
        assert report["events"] == 2 * 3 * 261
        assert report["cost"]["period"]["from"] == "2026-01-05T03:00:00Z"


class TestArchiveProblems:
    def test_missing_bucket_is_a_usage_problem(self, s3: Any) -> None:
        """A bucket that does not exist: one line naming it, exit 2, no traceback."""
        result = logmon("replay", "s3://no-such-bucket/logs/")
        assert result.exit_code == 2
        assert result.stderr.startswith("logmon: cannot list s3://no-such-bucket/logs/: NoSuchBucket")
        assert "Traceback" not in result.output

    def test_empty_selection_says_so(self, s3: Any, rules: RuleSet) -> None:
        """Hours with no archive objects: exit 2 and say what was looked for."""
        upload(s3, BUCKET, hours_of_traffic(rules, 2))
        result = logmon("replay", f"s3://{BUCKET}/{PREFIX}", "--from", "2027-01-01", "--to", "2027-01-02")
        assert result.exit_code == 2
        assert "no archive objects" in result.stderr

    def test_truncated_object_is_reported_and_the_rest_replayed(self, s3: Any, rules: RuleSet) -> None:
        """A corrupt object counts as a malformed source; the objects after it are still replayed."""
        objects = hours_of_traffic(rules, 2)
        first, second = sorted(objects)
        objects[first] = objects[first][: len(objects[first]) // 2]
        upload(s3, BUCKET, objects)
        report = replay_json(f"s3://{BUCKET}/{PREFIX}")
        assert report["malformed"]["count"] >= 1
        assert any(item["reason"].startswith("unreadable") for item in report["malformed"]["lines"])
        assert report["malformed"]["lines"][-1]["source"] == f"s3://{BUCKET}/{first}"
        assert report["events"] >= 3 * 261
        assert gzip.decompress(objects[second])

    def test_an_object_gone_since_the_listing(self, s3: Any, rules: RuleSet) -> None:
        """An object deleted between listing and reading stops the replay with its name, not a traceback."""
        objects = hours_of_traffic(rules, 2)
        upload(s3, BUCKET, objects)
        listed = inputs.resolve([f"s3://{BUCKET}/{PREFIX}"])
        s3.delete_object(Bucket=BUCKET, Key=sorted(objects)[1])
        with pytest.raises(inputs.InputProblem, match=f"cannot read s3://{BUCKET}/{sorted(objects)[1]}: NoSuchKey"):
            Replay(rules).run_inputs(listed)

    def test_a_download_that_breaks_off(self, s3: Any, rules: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
        """A connection lost inside an object makes that object unreadable; the replay reports it and goes on."""
        from botocore.exceptions import ResponseStreamingError
        from botocore.response import StreamingBody

        upload(s3, BUCKET, hours_of_traffic(rules, 2))

        def broken(self: StreamingBody, amt: int | None = None) -> bytes:
            raise ResponseStreamingError(error="connection reset")

        monkeypatch.setattr(StreamingBody, "read", broken)
        report = replay_json(f"s3://{BUCKET}/{PREFIX}")
        reasons = [item["reason"] for item in report["malformed"]["lines"]]
        assert len(reasons) == 2
        assert all("the download broke off" in reason for reason in reasons)

    def test_from_to_need_an_archive(self, tmp_path: Path) -> None:
        """`--from` on a plain log file is refused: it selects archive hours."""
        path = tmp_path / "logs.ndjson"
        path.write_bytes(b"".join(simulate(1)))
        result = logmon("replay", str(path), "--from", "2026-01-05")
        assert result.exit_code == 2
        assert "select hours of a Datadog archive" in result.stderr

    @pytest.mark.parametrize(
        ("start", "end", "message"),
        [
            ("yesterday", None, "is not a date or hour"),
            ("2026-01-05T13:30", None, "is not on the hour"),
            ("2026-01-06", "2026-01-05", "is not before --to"),
        ],
    )
    def test_bad_hours_are_refused(self, tmp_path: Path, start: str, end: str | None, message: str) -> None:
        """Dates that are not whole UTC hours, or an empty range, exit 2 with what to write instead."""
        arguments = ["replay", str(tmp_path), "--from", start] + (["--to", end] if end else [])
        result = logmon(*arguments)
        assert result.exit_code == 2
        assert message in result.stderr


class TestStreaming:
    def test_objects_are_read_in_bounded_chunks(
        self, s3: Any, objects: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An S3 object is read a buffer at a time as it downloads, never fetched whole into memory."""
        from botocore.response import StreamingBody

        monkeypatch.setattr(inputs, "READ_BUFFER", 4096)
        reads: list[int | None] = []
        read = StreamingBody.read

        def spy(self: StreamingBody, amt: int | None = None) -> bytes:
            reads.append(amt)
            return read(self, amt)

        monkeypatch.setattr(StreamingBody, "read", spy)
        upload(s3, BUCKET, objects)
        report = replay_json(f"s3://{BUCKET}/{PREFIX}")
        assert report["events"] > 0
        assert len(reads) > len(objects)
        assert all(amount is not None and amount <= 4096 for amount in reads)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)


REPLAY = Replay(RULES)
"""One replay for every generated log: building one per example would cost more than the test."""


class TestOddArchivedLogs:
    @settings(max_examples=50, deadline=None)
    @given(
        st.fixed_dictionaries(
            {"_id": JSON_VALUES, "date": JSON_VALUES, "attributes": st.dictionaries(st.text(max_size=6), JSON_VALUES)},
            optional=dict.fromkeys(("host", "source", "service", "status", "message", "tags"), JSON_VALUES),
        )
    )
    def test_any_archived_shape_is_replayed_or_counted(self, log: dict[str, Any]) -> None:
        """Whatever an archived log's fields hold, it is replayed as an archived log or counted as malformed."""
        before = (REPLAY.part.tally.events, REPLAY.malformed.count, REPLAY.part.kinds.intake)
        REPLAY.feed_line(orjson.dumps(log) + b"\n")
        events, malformed, intake = REPLAY.part.tally.events, REPLAY.malformed.count, REPLAY.part.kinds.intake
        assert (events - before[0]) + (malformed - before[1]) == 1
        assert intake == before[2]
