"""Replay streams: its peak memory does not grow with the length of the log file.

Each run happens in a fresh interpreter that reports its own peak resident set size, so the numbers
compare like with like. Ten times more lines must cost (almost) no more memory: everything replay keeps
is bounded by the rules (windows, metric tag sets, index counters), not by the input.
"""

from __future__ import annotations

import subprocess
import sys

import orjson
from replay_testing import REPOSITORY, SHIPPED_RULES

CHILD = """
import resource, sys
from pathlib import Path

import orjson

from logmon.replay import Replay
from logmon.rules.loader import load_rules
from logmon.simulate import STEADY, simulate

lines = int(sys.argv[1])
report = Replay(load_rules(Path(sys.argv[2]))).run(simulate(lines // 261 + 1, STEADY, limit=lines))
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sys.stdout.write(orjson.dumps({"events": report["events"], "peak_kib": peak_kib}).decode())
"""


def start(lines: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(lines), str(SHIPPED_RULES)],
        cwd=REPOSITORY,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def result(process: subprocess.Popen[bytes]) -> dict[str, int]:
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr.decode()
    measured: dict[str, int] = orjson.loads(stdout)
    return measured


class TestConstantMemory:
    def test_ten_times_the_lines_needs_no_more_memory(self) -> None:
        """Replaying 200 000 lines peaks within 25 % (and 8 MiB) of the memory that 20 000 lines need."""
        small, large = start(20_000), start(200_000)
        small_run, large_run = result(small), result(large)
        assert (small_run["events"], large_run["events"]) == (20_000, 200_000)
        assert large_run["peak_kib"] < small_run["peak_kib"] * 1.25, (small_run, large_run)
        assert large_run["peak_kib"] - small_run["peak_kib"] < 8 * 1024, (small_run, large_run)
