"""Replay in pieces: on N local processes (`--jobs N`) or on a Dask cluster (`--cluster ADDRESS`).

The input is cut into pieces: whole files, and large files into byte ranges that start and end on line
boundaries. Each piece is replayed on its own into a `ReplayPart` (counters and per-minute buckets), the
parts are merged in input order, and the merged part is evaluated once, by the same code that replays a
single stream. So the report equals the single-process report exactly:

- line numbers (malformed lines) continue from piece to piece, since every part counts its lines;
- a line without a date takes the date of the last dated line before it, even when that line is in an
  earlier piece: a part keeps such lines' monitor buckets aside until the merge says which minute they
  belong to (`MonitorBuckets.undated`), so where the cuts fall never matters;
- sums are exact and sketches merge exactly, so distribution metrics and measure rollups do not depend on
  how the input was cut.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from logmon.inputs import STANDARD_INPUT, Source, describe
from logmon.replay import Replay, ReplayPart
from logmon.rules.loader import RuleSet

MIN_PIECE_BYTES = 1 << 20
"""Smaller files are not cut: a piece costs a task and a merge."""
PIECES_PER_JOB = 4
"""More pieces than processes, so a process slowed by a busy machine does not hold up the others."""
_READ_SIZE = 1 << 16


class ClusterUnavailable(RuntimeError):
    """The Dask extra is missing or the scheduler cannot be reached; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Piece:
    """One source of the input, or bytes [start, end) of a plain local file, both on line boundaries."""

    source: Source
    start: int = 0
    end: int | None = None
    """None: the whole source (gzip files, S3 objects)."""


def line_start_at_or_after(path: str, offset: int, size: int) -> int:
    """The first line boundary at or after `offset`: 0, or the position right after a newline."""
    if offset <= 0:
        return 0
    with open(path, "rb") as stream:
        stream.seek(offset - 1)
        position = offset - 1
        while position < size:
            block = stream.read(_READ_SIZE)
            if not block:
                break
            newline = block.find(b"\n")
            if newline >= 0:
                return position + newline + 1
            position += len(block)
    return size


def pieces(sources: Sequence[Source], jobs: int) -> list[Piece]:
    """The input cut for `jobs` workers, in input order: compressed files and S3 objects whole, large plain
    files in byte ranges."""
    cuttable = [s.size or 0 for s in sources if _cuttable(s)]
    target = max(MIN_PIECE_BYTES, -(-sum(cuttable) // max(1, jobs * PIECES_PER_JOB)))
    cut: list[Piece] = []
    for source in sources:
        if not _cuttable(source):
            cut.append(Piece(source))
            continue
        path, size = source.location, source.size or 0
        count = max(1, -(-size // target))
        bounds = sorted({0, size, *(line_start_at_or_after(path, size * n // count, size) for n in range(1, count))})
        cut.extend(Piece(source, start, end) for start, end in itertools.pairwise(bounds))
        if size == 0:
            cut.append(Piece(source, 0, 0))
    return cut


def _cuttable(source: Source) -> bool:
    return not source.compressed and not source.location.startswith("s3://") and source.location != STANDARD_INPUT


def piece_lines(piece: Piece) -> Iterator[bytes]:
    """The lines of a piece, exactly as reading the whole source yields them."""
    if piece.end is None:
        yield from piece.source.lines()
        return
    with open(piece.source.location, "rb") as stream:
        stream.seek(piece.start)
        remaining = piece.end - piece.start
        partial = b""
        while remaining > 0:
            block = stream.read(min(_READ_SIZE * 16, remaining))
            if not block:
                break
            remaining -= len(block)
            # Split a block at a time (BytesIO splits on b"\n" only, as iterating the file does), carrying
            # the line the block cut over to the next one; the piece itself ends on a line boundary.
            lines = io.BytesIO(partial + block).readlines()
            partial = lines.pop() if remaining > 0 and not lines[-1].endswith(b"\n") else b""
            yield from lines
        if partial:
            yield partial


def replay_piece(rules: RuleSet, piece: Piece, charts: bool = False) -> ReplayPart:
    """One piece through intake, routing, metrics, monitor buckets and cost counters (no evaluation);
    with `charts`, each index's events per hour too."""
    replay = Replay(rules, count_hours=charts)
    if piece.end is None:
        return replay.accumulate_source(piece.source)
    return replay.accumulate(piece_lines(piece), source=describe(piece.source.location))


def merged(parts: Sequence[ReplayPart]) -> ReplayPart:
    first, *rest = parts
    for part in rest:
        first.merge(part)
    return first


_WORKER_RULES: RuleSet | None = None
_WORKER_CHARTS = False


def _start_worker(rules: RuleSet, charts: bool) -> None:
    global _WORKER_RULES, _WORKER_CHARTS
    _WORKER_RULES, _WORKER_CHARTS = rules, charts


def _replay_in_worker(piece: Piece) -> ReplayPart:
    assert _WORKER_RULES is not None
    return replay_piece(_WORKER_RULES, piece, _WORKER_CHARTS)


def replay_jobs(
    rules: RuleSet,
    sources: Sequence[Source],
    jobs: int,
    progress: Callable[[int], None] | None = None,
    charts: bool = False,
) -> ReplayPart:
    """Replay the files on `jobs` processes and merge the parts in input order."""
    cut = pieces(sources, jobs)
    if jobs <= 1 or len(cut) == 1:
        parts = []
        for piece in cut:
            parts.append(replay_piece(rules, piece, charts))
            if progress is not None:
                progress(_piece_size(piece))
        return merged(parts)
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(cut)), initializer=_start_worker, initargs=(rules, charts)
    ) as pool:
        parts = []
        for piece, part in zip(cut, pool.map(_replay_in_worker, cut), strict=True):
            parts.append(part)
            if progress is not None:
                progress(_piece_size(piece))
    return merged(parts)


def replay_cluster(
    rules: RuleSet, sources: Sequence[Source], address: str, client: Any = None, charts: bool = False
) -> ReplayPart:
    """Replay the files' pieces as tasks on the Dask scheduler at `address` and merge the parts."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterUnavailable(
            "--cluster needs Dask's distributed scheduler client; install it with pip install 'logmon[cluster]'"
        ) from None
    own = client is None
    if own:
        try:
            client = Client(address, timeout="10s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as error:
            raise ClusterUnavailable(
                f"cannot reach the Dask scheduler at {address} ({error}); check the address (tcp://host:8786) and "
                "that the scheduler is running and reachable from here"
            ) from None
    try:
        workers = client.scheduler_info().get("workers", {})
        threads = max(1, sum(int(worker.get("nthreads", 1)) for worker in workers.values()))
        cut = pieces(sources, threads)
        shared = client.scatter(rules, broadcast=True)
        futures = client.map(replay_piece, [shared] * len(cut), cut, [charts] * len(cut), pure=False)
        return merged(client.gather(futures))
    finally:
        if own:
            client.close()


def _piece_size(piece: Piece) -> int:
    return (piece.source.size or 0) if piece.end is None else piece.end - piece.start
