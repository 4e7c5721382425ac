"""What `logmon replay` reads: files, gzip, directories, globs, several arguments and standard input."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from replay_testing import logmon, shipped_rules

from logmon.inputs import InputProblem, hour_range, parse_hour, resolve
from logmon.replay import Replay
from logmon.simulate import simulate

MINUTE = b"".join(simulate(1))
"""One minute of steady traffic: 261 lines."""


def replay_json(*arguments: str, stdin: bytes | None = None) -> dict[str, Any]:
    result = logmon("replay", *arguments, "--format", "json", stdin=stdin)
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = orjson.loads(result.stdout)
    return report


class TestLocalSources:
    def test_gzip_file_is_decompressed(self, tmp_path: Path) -> None:
        """A `.gz` file replays like the same file uncompressed."""
        (tmp_path / "a.ndjson").write_bytes(MINUTE)
        (tmp_path / "b.ndjson.gz").write_bytes(gzip.compress(MINUTE))
        plain = replay_json(str(tmp_path / "a.ndjson"))
        packed = replay_json(str(tmp_path / "b.ndjson.gz"))
        plain.pop("input")
        packed.pop("input")
        assert packed == plain

    def test_several_arguments_are_read_in_order(self, tmp_path: Path) -> None:
        """Two files given one after the other replay as their concatenation."""
        lines = list(simulate(2))
        (tmp_path / "1.ndjson").write_bytes(b"".join(lines[:300]))
        (tmp_path / "2.ndjson").write_bytes(b"".join(lines[300:]))
        (tmp_path / "all.ndjson").write_bytes(b"".join(lines))
        split = replay_json(str(tmp_path / "1.ndjson"), str(tmp_path / "2.ndjson"))
        whole = replay_json(str(tmp_path / "all.ndjson"))
        assert (split["input"]["sources"], whole["input"]["sources"]) == (2, 1)
        split.pop("input")
        whole.pop("input")
        assert split == whole

    def test_directory_reads_its_log_files_sorted(self, tmp_path: Path) -> None:
        """A directory contributes every log file under it (plain or gzipped), skipping others and hidden ones."""
        (tmp_path / "sub").mkdir()
        (tmp_path / "a.ndjson").write_bytes(MINUTE)
        (tmp_path / "sub" / "b.jsonl.gz").write_bytes(gzip.compress(MINUTE))
        (tmp_path / "notes.txt").write_text("not logs")
        (tmp_path / ".hidden.ndjson").write_bytes(b"{broken\n")
        report = replay_json(str(tmp_path))
        assert (report["events"], report["malformed"]["count"], report["input"]["sources"]) == (2 * 261, 0, 2)

    def test_glob(self, tmp_path: Path) -> None:
        """A glob names the files it matches, in sorted order."""
        for name in ("x-1.ndjson", "x-2.ndjson", "y.ndjson"):
            (tmp_path / name).write_bytes(MINUTE)
        report = replay_json(str(tmp_path / "x-*.ndjson"))
        assert (report["events"], report["input"]["sources"]) == (2 * 261, 2)

    def test_standard_input_among_files(self, tmp_path: Path) -> None:
        """`-` can stand between files."""
        (tmp_path / "a.ndjson").write_bytes(MINUTE)
        report = replay_json(str(tmp_path / "a.ndjson"), "-", stdin=MINUTE)
        assert (report["events"], report["input"]["location"]) == (2 * 261, "mixed")

    def test_malformed_lines_name_their_source(self, tmp_path: Path) -> None:
        """With several sources, a malformed line's number counts within its own file, and the text says which."""
        (tmp_path / "a.ndjson").write_bytes(MINUTE + b"{broken\n")
        (tmp_path / "b.ndjson").write_bytes(b"{broken\n")
        report = replay_json(str(tmp_path / "a.ndjson"), str(tmp_path / "b.ndjson"))
        assert [(item["source"].rsplit("/", 1)[-1], item["line"]) for item in report["malformed"]["lines"]] == [
            ("a.ndjson", 262),
            ("b.ndjson", 1),
        ]
        text = logmon("replay", str(tmp_path / "a.ndjson"), str(tmp_path / "b.ndjson")).stdout
        assert "a.ndjson:262" in text
        assert "b.ndjson:1" in text

    def test_text_output_says_what_was_read(self, tmp_path: Path) -> None:
        """The text report names the kind of input detected and the number of sources."""
        (tmp_path / "a.ndjson").write_bytes(MINUTE)
        text = logmon("replay", str(tmp_path / "a.ndjson")).stdout
        assert "input: logger output (intake: pipelines run), 1 source (local)" in text


class TestSourceProblems:
    @pytest.mark.parametrize("complete", [0, 1, 4095, 4096, 4097, 9000])
    def test_lines_read_before_a_source_breaks_are_replayed(self, tmp_path: Path, complete: int) -> None:
        """A gzip file cut short is replayed up to the last line it gave, wherever that falls in a chunk, then
        reported as unreadable from there on."""
        lines = list(simulate(40))[:complete]
        whole = gzip.compress(b"".join(lines) + b'{"level": "info", "message": "cut off here, and more after it"}\n')
        path = tmp_path / "cut.ndjson.gz"
        path.write_bytes(whole[: len(whole) - 12])  # the gzip trailer and the last bytes of the stream are gone
        run = Replay(shipped_rules())
        report = run.run_inputs(resolve([str(path)]))
        assert report["events"] == complete
        assert report["malformed"]["count"] == 1
        assert report["malformed"]["lines"][0]["reason"].startswith("unreadable from here on")

    def test_empty_directory(self, tmp_path: Path) -> None:
        """A directory without log files is a usage problem, exit 2."""
        result = logmon("replay", str(tmp_path))
        assert result.exit_code == 2
        assert result.stderr == f"logmon: no log file in {tmp_path}: no log files under it\n"

    def test_glob_matching_nothing(self, tmp_path: Path) -> None:
        """A glob that matches no file says so."""
        result = logmon("replay", str(tmp_path / "*.ndjson"))
        assert result.exit_code == 2
        assert result.stderr == f"logmon: no log file matches {tmp_path / '*.ndjson'}\n"

    def test_no_argument(self) -> None:
        """At least one source is required."""
        assert logmon("replay").exit_code == 2

    def test_s3_url_without_bucket(self) -> None:
        """`s3://` alone names no bucket."""
        with pytest.raises(InputProblem, match="names no bucket"):
            resolve(["s3://"])


class TestHours:
    def test_forms_accepted(self) -> None:
        """A date, a date and hour, or a full ISO time on the hour, all in UTC."""
        assert parse_hour("2026-01-05", "--from").isoformat() == "2026-01-05T00:00:00+00:00"
        assert parse_hour("2026-01-05T13", "--from").isoformat() == "2026-01-05T13:00:00+00:00"
        assert parse_hour("2026-01-05T13:00Z", "--from").isoformat() == "2026-01-05T13:00:00+00:00"
        assert parse_hour("2026-01-05T15:00+02:00", "--from").isoformat() == "2026-01-05T13:00:00+00:00"

    def test_days_cover_the_range(self) -> None:
        """The `dt=` days listed for a range include the day of its last hour, not the day it ends at midnight."""
        selection = hour_range("2026-01-05T22", "2026-01-07")
        assert selection is not None
        assert selection.days() == ["20260105", "20260106"]
        assert selection.selects("20260106", "23")
        assert not selection.selects("20260107", "00")
        assert not selection.selects("20260105", "21")

    @settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
    @given(st.text(max_size=30))
    def test_any_text_is_an_hour_or_a_clear_refusal(self, text: str) -> None:
        """Whatever is written, the parser returns an hour or raises InputProblem, nothing else."""
        refusal = ""
        try:
            moment = parse_hour(text, "--from")
        except InputProblem as problem:
            refusal = str(problem)
        if refusal:
            assert refusal.startswith(f"--from {text!r} is not")
        else:
            assert (moment.minute, moment.second, moment.microsecond) == (0, 0, 0)


class TestSourcesTravel:
    def test_a_source_pickles(self, tmp_path: Path) -> None:
        """Sources are names and numbers, so another process (`--jobs`, a cluster worker) can read them."""
        import pickle

        (tmp_path / "a.ndjson.gz").write_bytes(gzip.compress(MINUTE))
        (source,) = resolve([str(tmp_path / "a.ndjson.gz")]).sources
        copy = pickle.loads(pickle.dumps(source))
        assert copy == source
        assert b"".join(copy.lines()) == MINUTE
