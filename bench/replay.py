"""Replay throughput against its floor, `orjson.loads` over the same lines, the `--jobs` speed-up, and peak
memory at two sizes.

    .venv/bin/python bench/replay.py [--sizes 100000 1000000] [--runs 3] [--jobs 2]

For each size it writes the logger output of a simulated service. Each run is a fresh process that replays
the file through the shipped rules block by block (20,000 lines), and times each block twice, back to back
and in alternating order: once decoded with `orjson.loads` line by line (the floor: no replay can beat
decoding) and once replayed; the report's evaluation counts as replay time. Timing both on the same block
within milliseconds of each other keeps the ratio steady on a shared machine whose speed drifts from one
second to the next. Throughput is floor time / replay time (target: median ≥ 0.3), peak RSS the ratio
between the sizes (target: flat, ≤ 1.25), and the smallest file is also replayed on the plain path to show
that the report is the same. At the largest size, `logmon replay --jobs N` is timed against `--jobs 1`
(`bench/replay_jobs.py`, target ≥ 1.7). Exits non-zero naming every missed target.
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
JOBS_TARGET = 1.7

CHILD = r"""
import hashlib, itertools, json, resource, sys, time
from pathlib import Path
import orjson
from logmon.replay import Replay
from logmon.rules.loader import load_rules

mode, path, block = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
run = Replay(load_rules(Path("rules")), fast=mode == "replay")
floor = replay = 0.0
with path.open("rb") as stream:
    starts, position = [], 0
    for number, line in enumerate(stream):
        if number % block == 0:
            starts.append(position)
        position += len(line)
    for index, start in enumerate(starts):
        timings = {}
        for step in ("floor", "replay") if index % 2 == 0 else ("replay", "floor"):
            stream.seek(start)
            lines = itertools.islice(stream, block)
            began = time.process_time()
            if step == "floor":
                for line in lines:
                    orjson.loads(line)
            else:
                run.accumulate(lines)
            timings[step] = time.process_time() - began
        floor += timings["floor"]
        replay += timings["replay"]
began = time.process_time()
report = run.report()
replay += time.process_time() - began
assert report["events"] > 0
digest = hashlib.sha256(json.dumps(report, sort_keys=True).encode()).hexdigest()
print(json.dumps({"floor": floor, "replay": replay, "digest": digest,
                  "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""
BLOCK_LINES = 20_000


def child(mode: str, path: Path) -> dict[str, object]:
    output = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path), str(BLOCK_LINES)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    return result


def seconds(result: dict[str, object], key: str) -> float:
    value = result[key]
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


Runs = list[dict[str, object]]
"""Each run's floor and replay seconds, report digest and peak RSS."""


def measure(
    sizes: list[int], runs: int, jobs: int
) -> tuple[list[tuple[int, Runs]], bool, tuple[list[float], list[float]], float]:
    """Runs per size; whether the smallest size's report equals the plain path's; at the largest size, the
    `--jobs` speed-ups of each run (the replay's, the whole command's) and the machine's parallel headroom
    (`replay_jobs.anchor`, `replay_jobs.speedups`)."""
    from replay_jobs import anchor
    from replay_jobs import speedups as parallel_speedups

    rows: list[tuple[int, Runs]] = []
    same_report = True
    speedups: tuple[list[float], list[float]] = ([], [])
    headroom = 0.0
    with tempfile.TemporaryDirectory() as scratch:
        for position, size in enumerate(sizes):
            path = Path(scratch) / f"logs-{size}.ndjson"
            write_lines(path, size)
            results = [child("replay", path) for _ in range(runs)]
            rows.append((size, results))
            if position == 0:
                plain = child("plain", path)
                same_report = all(result["digest"] == plain["digest"] for result in results)
            if position == len(sizes) - 1 and jobs > 1:
                headroom = anchor(jobs)
                replayed, whole, same = parallel_speedups(path, jobs, runs)
                same_report = same_report and same
                speedups = (replayed, whole)
            path.unlink()
    return rows, same_report, speedups, headroom


def throughput(rows: list[tuple[int, Runs]]) -> list[str]:
    header = ("lines", "run", "orjson.loads", "replay", "lines/s", "floor/replay", "peak RSS")
    print("{:>10}  {:>3}  {:>12}  {:>9}  {:>10}  {:>12}  {:>9}".format(*header))
    missed = []
    for size, results in rows:
        ratios = []
        for number, result in enumerate(results, start=1):
            floor, replay = seconds(result, "floor"), seconds(result, "replay")
            ratios.append(floor / replay)
            print(
                f"{size:>10,}  {number:>3}  {floor:>11.2f}s  {replay:>8.2f}s"
                f"  {size / replay:>10,.0f}  {floor / replay:>12.3f}  {rss_mb(result):>7.1f}MB"
            )
        median = statistics.median(ratios)
        print(f"{size:>10,}  median floor/replay {median:.3f} (target ≥ {FLOOR_TARGET})")
        if median < FLOOR_TARGET:
            missed.append(f"floor/replay {median:.3f} < {FLOOR_TARGET} at {size:,} lines")
    return missed


def memory(rows: list[tuple[int, Runs]]) -> list[str]:
    if len(rows) < 2:
        return []
    (first, smallest_runs), (last, largest_runs) = rows[0], rows[-1]
    smallest = statistics.median(rss_mb(result) for result in smallest_runs)
    largest = statistics.median(rss_mb(result) for result in largest_runs)
    growth = largest / smallest
    print(
        f"peak RSS {smallest:.1f}MB at {first:,} lines, {largest:.1f}MB at {last:,} lines: "
        f"ratio {growth:.2f} (target ≤ {MEMORY_TARGET}, flat)"
    )
    return [f"peak RSS grows {growth:.2f}× from {first:,} to {last:,} lines"] if growth > MEMORY_TARGET else []


def parallel(size: int, jobs: int, speedups: tuple[list[float], list[float]], headroom: float) -> list[str]:
    from replay_jobs import summary

    replayed, whole = speedups
    if not replayed:
        return []
    print(summary(size, jobs, replayed, whole, headroom))
    median = statistics.median(replayed)
    return [f"--jobs {jobs} speed-up {median:.2f} < {JOBS_TARGET}"] if median < JOBS_TARGET else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3, help="runs per size (default 3)")
    parser.add_argument("--jobs", type=int, default=2, help="processes for the --jobs speed-up (1: skip it)")
    arguments = parser.parse_args()
    sizes: list[int] = arguments.sizes
    rows, same_report, speedups, headroom = measure(sizes, arguments.runs, arguments.jobs)
    missed = throughput(rows)
    print(f"report identical to the plain path (and to --jobs {arguments.jobs}): {'yes' if same_report else 'NO'}")
    if not same_report:
        missed.append("a report differs from the plain path's or from --jobs 1's")
    missed += memory(rows)
    missed += parallel(sizes[-1], arguments.jobs, speedups, headroom)
    if missed:
        print("missed: " + "; ".join(missed))
        sys.exit(1)
    print("all targets met")


if __name__ == "__main__":
    main()
