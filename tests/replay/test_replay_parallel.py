"""Replay in pieces (`--jobs N`, `--cluster`): the merged report equals the single-process report exactly,
wherever the cuts fall, with malformed lines, undated lines and several files."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from replay_testing import TRAFFIC, logmon, shipped_rules

from logmon import parallel
from logmon.inputs import Inputs, Source, resolve
from logmon.parallel import (
    ClusterUnavailable,
    Piece,
    line_start_at_or_after,
    merged,
    piece_lines,
    pieces,
    replay_cluster,
    replay_jobs,
    replay_piece,
)
from logmon.replay import Replay, ReplayPart
from logmon.rules.loader import RuleSet
from logmon.simulate import simulate

RULES = shipped_rules()


def traffic_file(tmp_path: Path, minutes: int = 25, name: str = "logs.ndjson") -> Path:
    """Simulated traffic with bursts, malformed lines, blank lines and undated lines sprinkled through it."""
    lines = list(simulate(minutes, TRAFFIC))
    odd = [b"{not json\n", b"\n", b"[1, 2]\n", b'{"level": "error", "message": "no date"}\n']
    for position in range(0, len(lines), 997):
        lines.insert(position, odd[position % len(odd)])
    lines.insert(0, b'{"level": "error", "message": "undated before any date"}\n')
    path = tmp_path / name
    path.write_bytes(b"".join(lines) + b'{"level": "error", "message": "last line, no newline"}')
    return path


def inputs(paths: list[Path]) -> Inputs:
    return resolve([str(path) for path in paths])


def sources(paths: list[Path]) -> list[Source]:
    return inputs(paths).sources


def single(rules: RuleSet, paths: list[Path]) -> dict[str, object]:
    return Replay(rules).run_inputs(inputs(paths))


def report(rules: RuleSet, part: ReplayPart, paths: list[Path]) -> dict[str, object]:
    """The report of a merged part, for the same inputs as `single` read."""
    run = Replay(rules)
    run.inputs = inputs(paths)
    return run.report(part)


def cut_at(path: Path, offsets: list[int]) -> list[Piece]:
    """Pieces of one file cut at arbitrary byte offsets, each moved to the next line boundary."""
    cut = pieces(sources([path]), 1)
    size = path.stat().st_size
    bounds = sorted({0, size, *(line_start_at_or_after(str(path), offset, size) for offset in offsets)})
    return [Piece(cut[0].source, start, end) for start, end in itertools.pairwise(bounds)]


class TestPieces:
    def test_pieces_cover_every_line_once(self, tmp_path: Path) -> None:
        """Cut on line boundaries, the pieces' lines are the file's lines, in order."""
        path = traffic_file(tmp_path, minutes=3)
        cut = cut_at(path, [1, 500, 501, 10_000, path.stat().st_size - 3])
        assert b"".join(line for piece in cut for line in piece_lines(piece)) == path.read_bytes()
        assert all(piece.start == 0 or path.read_bytes()[piece.start - 1 : piece.start] == b"\n" for piece in cut)

    @pytest.mark.parametrize("read_size", [1, 3, 64])
    def test_pieces_read_in_blocks_split_lines_as_the_file_does(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_size: int
    ) -> None:
        """Blocks that cut lines anywhere (and lines longer than a block) still give the file's lines."""
        monkeypatch.setattr(parallel, "_READ_SIZE", read_size)
        path = tmp_path / "odd.ndjson"
        path.write_bytes(b'{"a": 1}\n\n{"b": "' + b"x" * 200 + b'"}\r\n{"c": 3}\n{"d": 4}')
        cut = cut_at(path, [5, 9, 30, 215])
        with path.open("rb") as stream:
            expected = list(stream)
        assert [line for piece in cut for line in piece_lines(piece)] == expected

    def test_a_large_file_is_cut_for_the_jobs(self, tmp_path: Path) -> None:
        """A file of several MiB becomes several pieces; a small one stays whole."""
        small = traffic_file(tmp_path, minutes=2, name="small.ndjson")
        assert len(pieces(sources([small]), 4)) == 1
        large = tmp_path / "large.ndjson"
        large.write_bytes(b"".join([small.read_bytes() + b"\n"] * 20))
        assert len(pieces(sources([large]), 2)) > 1


class TestEquality:
    @given(st.lists(st.integers(0, 2_000_000), max_size=6))
    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    def test_any_cut_gives_the_single_process_report(
        self, tmp_path_factory: pytest.TempPathFactory, cuts: list[int]
    ) -> None:
        """Malformed line numbers, undated lines at a piece start, sums, sketches: equal wherever the cuts fall."""
        path = traffic_file(tmp_path_factory.mktemp("cut"), minutes=12)
        expected = single(RULES, [path])
        parts = [replay_piece(RULES, piece) for piece in cut_at(path, cuts)]
        assert report(RULES, merged(parts), [path]) == expected

    def test_an_undated_line_at_a_piece_start_takes_the_previous_pieces_date(self, tmp_path: Path) -> None:
        """An error line without a date, first in its piece, counts in the minute of the dated line before it."""
        dated = orjson.dumps({"timestamp": "2026-01-05T00:03:30Z", "level": "error", "message": "a"}) + b"\n"
        undated = b'{"level": "error", "message": "b"}\n' * 600
        path = tmp_path / "undated.ndjson"
        path.write_bytes(dated + undated)
        expected = single(RULES, [path])
        assert expected["monitors"]["high_error_rate"]["max_value"] == 601
        parts = [replay_piece(RULES, piece) for piece in cut_at(path, [len(dated), len(dated) + 3600])]
        assert report(RULES, merged(parts), [path]) == expected

    def test_jobs_on_processes_and_several_files(self, tmp_path: Path) -> None:
        """`replay_jobs` over two files on two processes equals one process reading them one after the other."""
        first, second = traffic_file(tmp_path, 8, "a.ndjson"), traffic_file(tmp_path, 30, "b.ndjson")
        expected = single(RULES, [first, second])
        assert report(RULES, replay_jobs(RULES, sources([first, second]), 2), [first, second]) == expected

    def test_the_cli_with_jobs_prints_the_same_report(self, tmp_path: Path) -> None:
        """`logmon replay --jobs 2 --format json` prints what one process prints."""
        path = traffic_file(tmp_path, minutes=20)
        one = logmon("replay", str(path), "--format", "json")
        two = logmon("replay", str(path), "--format", "json", "--jobs", "2")
        assert one.exit_code == two.exit_code == 0, two.output
        assert orjson.loads(one.stdout) == orjson.loads(two.stdout)

    def test_standard_input_cannot_be_cut(self) -> None:
        """`--jobs 2` on standard input is refused with exit status 2."""
        result = logmon("replay", "-", "--jobs", "2", stdin=b"")
        assert result.exit_code == 2
        assert "give a file" in result.stderr


class TestCluster:
    def test_a_local_dask_cluster_gives_the_single_process_report(self, tmp_path: Path) -> None:
        """The pieces run as tasks on a Dask LocalCluster; the merged report equals one process's."""
        distributed = pytest.importorskip("distributed")
        path = traffic_file(tmp_path, minutes=15)
        expected = single(RULES, [path])
        with (
            distributed.LocalCluster(
                n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            part = replay_cluster(RULES, sources([path]), cluster.scheduler_address, client=client)
        assert report(RULES, part, [path]) == expected

    def test_without_the_extra_the_error_says_what_to_install(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without Dask installed, --cluster names the extra to install."""
        monkeypatch.setitem(sys.modules, "distributed", None)
        with pytest.raises(ClusterUnavailable, match=r"logmon\[cluster\]"):
            replay_cluster(RULES, sources([traffic_file(tmp_path, minutes=1)]), "tcp://127.0.0.1:9")

    def test_an_unreachable_scheduler_is_a_clear_error(self, tmp_path: Path) -> None:
        """A scheduler nobody listens at: exit status 2 and a message naming the address, no traceback."""
        pytest.importorskip("distributed")
        path = traffic_file(tmp_path, minutes=1)
        result = logmon("replay", str(path), "--cluster", "tcp://127.0.0.1:9")
        assert result.exit_code == 2
        assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr
