"""Replay throughput against its floor, `orjson.loads` over the same file, and peak memory at two sizes.

    .venv/bin/python bench/replay.py [--sizes 100000 1000000] [--runs 3]

For each size it writes the logger output of a simulated service, then, each in a fresh process and
`--runs` times in alternation: reads the file line by line with `orjson.loads` (the floor: no replay can
beat decoding), and replays it through the shipped rules. Throughput is reported as floor time / replay
time per run (target: median ≥ 0.3), peak RSS as the ratio between the sizes (target: flat, ≤ 1.25), and
the smallest file is also replayed once on the plain path to show that the report is the same. The
machine is shared, so single timings are noisy: the ratios of each run are printed with their median.
Exits non-zero naming every missed target. The `--jobs` speed-up is `bench/replay_jobs.py`'s to measure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR_TARGET = 0.3
MEMORY_TARGET = 1.25

CHILD = r"""
import hashlib, json, resource, sys, time
from pathlib import Path
mode, path = sys.argv[1], Path(sys.argv[2])
digest = ""
if mode == "floor":
    import orjson
    start = time.process_time()
    with path.open("rb") as stream:
        for line in stream:
            orjson.loads(line)
    seconds = time.process_time() - start
else:
    from logmon.replay import Replay
    from logmon.rules.loader import load_rules
    run = Replay(load_rules(Path("rules")), fast=mode == "replay")
    start = time.process_time()
    with path.open("rb") as stream:
        report = run.run(stream)
    seconds = time.process_time() - start
    assert report["events"] > 0
    digest = hashlib.sha256(json.dumps(report, sort_keys=True).encode()).hexdigest()
print(json.dumps({"seconds": seconds, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "digest": digest}))
"""


def child(mode: str, path: Path) -> dict[str, object]:
    output = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path)], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return result


def seconds(result: dict[str, object]) -> float:
    value = result["seconds"]
    assert isinstance(value, float)
    return value


def rss_mb(result: dict[str, object]) -> float:
    value = result["rss_kb"]
    assert isinstance(value, int)
    return value / 1024


def write_lines(path: Path, count: int) -> None:
    from logmon.simulate import STEADY, simulate

    per_minute = sum(t.per_minute for t in STEADY)
    minutes = count // per_minute + 1
    with path.open("wb") as stream:
        stream.writelines(simulate(minutes, limit=count))


Pair = tuple[dict[str, object], dict[str, object]]
"""A floor run and a replay run of the same file."""


def measure(sizes: list[int], runs: int) -> tuple[list[tuple[int, list[Pair]]], bool]:
    """Floor/replay pairs per size, and whether the smallest size's report equals the plain path's."""
    rows: list[tuple[int, list[Pair]]] = []
    same_report = True
    with tempfile.TemporaryDirectory() as scratch:
        for position, size in enumerate(sizes):
            path = Path(scratch) / f"logs-{size}.ndjson"
            write_lines(path, size)
            pairs = [(child("floor", path), child("replay", path)) for _ in range(runs)]
            rows.append((size, pairs))
            if position == 0:
                plain = child("plain", path)
                same_report = all(replay["digest"] == plain["digest"] for _, replay in pairs)
            path.unlink()
    return rows, same_report


def throughput(rows: list[tuple[int, list[Pair]]]) -> list[str]:
    header = ("lines", "run", "orjson.loads", "replay", "lines/s", "floor/replay", "peak RSS")
    print("{:>10}  {:>3}  {:>12}  {:>9}  {:>10}  {:>12}  {:>9}".format(*header))
    missed = []
    for size, pairs in rows:
        ratios = []
        for number, (floor, replay) in enumerate(pairs, start=1):
            ratio = seconds(floor) / seconds(replay)
            ratios.append(ratio)
            print(
                f"{size:>10,}  {number:>3}  {seconds(floor):>11.2f}s  {seconds(replay):>8.2f}s"
                f"  {size / seconds(replay):>10,.0f}  {ratio:>12.3f}  {rss_mb(replay):>7.1f}MB"
            )
        median = statistics.median(ratios)
        print(f"{size:>10,}  median floor/replay {median:.3f} (target ≥ {FLOOR_TARGET})")
        if median < FLOOR_TARGET:
            missed.append(f"floor/replay {median:.3f} < {FLOOR_TARGET} at {size:,} lines")
    return missed


def memory(rows: list[tuple[int, list[Pair]]]) -> list[str]:
    if len(rows) < 2:
        return []
    (first, smallest_pairs), (last, largest_pairs) = rows[0], rows[-1]
    smallest = statistics.median(rss_mb(replay) for _, replay in smallest_pairs)
    largest = statistics.median(rss_mb(replay) for _, replay in largest_pairs)
    growth = largest / smallest
    print(
        f"peak RSS {smallest:.1f}MB at {first:,} lines, {largest:.1f}MB at {last:,} lines: "
        f"ratio {growth:.2f} (target ≤ {MEMORY_TARGET}, flat)"
    )
    return [f"peak RSS grows {growth:.2f}× from {first:,} to {last:,} lines"] if growth > MEMORY_TARGET else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3, help="floor/replay pairs per size (default 3)")
    arguments = parser.parse_args()
    sizes: list[int] = arguments.sizes
    rows, same_report = measure(sizes, arguments.runs)
    missed = throughput(rows)
    print(f"report identical to the plain path at {sizes[0]:,} lines: {'yes' if same_report else 'NO'}")
    if not same_report:
        missed.append("the fast path's report differs from the plain path's")
    missed += memory(rows)
    if missed:
        print("missed: " + "; ".join(missed))
        sys.exit(1)
    print("all targets met")


if __name__ == "__main__":
    main()
