"""`logmon replay --jobs 2` against `--jobs 1` on the same file: the parallel speed-up (target ≥ 1.7 on 2 cores).

    .venv/bin/python bench/replay_jobs.py [--lines 1000000] [--jobs 2] [--runs 3]

It writes the logger output of a simulated service, then, `--runs` times and alternating, times on it:
- the replay itself, in a fresh process that has imported logmon and loaded the rules: the single-stream
  path `--jobs 1` takes, and the pieces on N processes, merged and evaluated, that `--jobs N` takes. The
  target is judged on this figure: it is what `--jobs` changes, and what a week of logs is made of;
- the whole command, `logmon replay --format json --jobs 1` and `--jobs N`, startup included. About 0.7 s of
  it (interpreter, imports, rule loading) is the same for every N and runs on one core, so on a 1M-line file,
  which one core replays in about 4.5 s, it caps this figure near 1.7 by itself.
Both check that every run prints the same report. As an anchor in the same run it times a plain CPU-bound
loop on one process and on N: on a machine that other work keeps busy the anchor shows how much parallelism
there was to have. Exit status 1 names a missed target.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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


IN_PROCESS = r"""
import hashlib, json, sys, time
from pathlib import Path
from logmon.inputs import resolve
from logmon.parallel import replay_jobs
from logmon.replay import Replay
from logmon.rules.loader import load_rules

path, jobs = sys.argv[1], int(sys.argv[2])
rules = load_rules(Path("rules"))
start = time.perf_counter()
inputs = resolve([path])
run = Replay(rules)
if jobs == 1:
    report = run.run_inputs(inputs)
else:
    part = replay_jobs(rules, inputs.sources, jobs)
    run.inputs = inputs
    report = run.report(part)
seconds = time.perf_counter() - start
digest = hashlib.sha256(json.dumps(report, sort_keys=True).encode()).hexdigest()
print(json.dumps({"seconds": seconds, "digest": digest}))
"""


def replay_in_process(path: Path, jobs: int) -> tuple[float, str]:
    """The replay as `logmon replay --jobs N` runs it, timed from after imports and rule loading."""
    command = [sys.executable, "-c", IN_PROCESS, str(path), str(jobs)]
    output = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    return float(result["seconds"]), str(result["digest"])


def speedups(path: Path, jobs: int, runs: int) -> tuple[list[float], list[float], bool]:
    """Per run, the replay's speed-up and the whole command's, and whether every report was the same."""
    replayed, whole, same = [], [], True
    for _ in range(runs):
        one, one_digest = replay_in_process(path, 1)
        many, many_digest = replay_in_process(path, jobs)
        replayed.append(one / many)
        one_command, one_report = replay(path, 1)
        many_command, many_report = replay(path, jobs)
        whole.append(one_command / many_command)
        same = same and one_digest == many_digest and one_report == many_report
    return replayed, whole, same


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
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "traffic.ndjson"
        write_traffic(path, arguments.lines)
        headroom = anchor(arguments.jobs)
        replayed, whole, same = speedups(path, arguments.jobs, arguments.runs)
    print(summary(arguments.lines, arguments.jobs, replayed, whole, headroom))
    if not same:
        print(f"MISSED: --jobs {arguments.jobs} printed a different report than --jobs 1")
        return 1
    if statistics.median(replayed) < TARGET:
        print(f"MISSED: --jobs {arguments.jobs} speed-up {statistics.median(replayed):.2f} < {TARGET}")
        return 1
    return 0


def summary(lines: int, jobs: int, replayed: list[float], whole: list[float], headroom: float) -> str:
    def runs(values: list[float]) -> str:
        return f"{', '.join(f'{v:.2f}' for v in values)} (median {statistics.median(values):.2f})"

    return (
        f"{lines:,} lines on {os.cpu_count()} cores, --jobs {jobs} vs --jobs 1: the replay {runs(replayed)}, "
        f"target ≥ {TARGET}; the whole command, startup included, {runs(whole)}; a plain CPU loop on {jobs} "
        f"processes: {headroom:.2f}"
    )


if __name__ == "__main__":
    sys.exit(main())
