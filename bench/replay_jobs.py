"""`logmon replay --jobs 2` against `--jobs 1` on the same file: the parallel speed-up (target ≥ 1.7 on 2 cores).

    .venv/bin/python bench/replay_jobs.py [--lines 1000000] [--jobs 2]

It writes the logger output of a simulated service, then runs `logmon replay --format json` on it once with
`--jobs 1` and once with `--jobs N`, each as its own process (startup, rule loading, the process pool and the
merge included), checks that both print the same report, and prints the time ratio. As an anchor in the same
run it times a plain CPU-bound loop on one process and on N: on a machine that other work keeps busy the
anchor shows how much parallelism there was to have. Exit status 1 names a missed target.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.7


def write_traffic(path: Path, lines: int) -> None:
    from logmon.simulate import STEADY, simulate

    with path.open("wb") as stream:
        stream.writelines(simulate(lines // 261 + 1, STEADY, limit=lines))


def replay(path: Path, jobs: int) -> tuple[float, bytes]:
    command = [sys.executable, "-m", "logmon.cli", "replay", str(path), "--format", "json", "--jobs", str(jobs)]
    start = time.perf_counter()
    output = subprocess.run(command, cwd=ROOT, check=True, capture_output=True).stdout
    return time.perf_counter() - start, output


def _spin(rounds: int) -> int:
    total = 0
    for number in range(rounds):
        total += number * number
    return total


def anchor(jobs: int, rounds: int = 10_000_000) -> float:
    """The speed-up of N processes over one on the same pure-Python loop: the machine's parallel headroom."""
    from concurrent.futures import ProcessPoolExecutor

    start = time.perf_counter()
    for _ in range(jobs):
        _spin(rounds)
    alone = time.perf_counter() - start
    start = time.perf_counter()
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(_spin, [rounds] * jobs))
    return alone / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=2)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "traffic.ndjson"
        write_traffic(path, arguments.lines)
        headroom = anchor(arguments.jobs)
        one, one_report = replay(path, 1)
        many, many_report = replay(path, arguments.jobs)
    if one_report != many_report:
        print(f"MISSED: --jobs {arguments.jobs} printed a different report than --jobs 1")
        return 1
    speedup = one / many
    print(
        f"{arguments.lines} lines on {os.cpu_count()} cores: --jobs 1 {one:.1f} s, --jobs {arguments.jobs} "
        f"{many:.1f} s, speed-up {speedup:.2f} (target ≥ {TARGET}); a plain CPU loop on {arguments.jobs} processes: "
        f"{headroom:.2f}, so replay reaches {speedup / headroom:.0%} of what the machine allowed"
    )
    if speedup < TARGET:
        print(f"MISSED: --jobs {arguments.jobs} speed-up {speedup:.2f} < {TARGET}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
