"""Replay throughput against its floor, `orjson.loads` over the same file, and peak memory at two sizes.

    .venv/bin/python bench/replay.py [--sizes 100000 1000000]

For each size it writes the logger output of a simulated service, then, each in a fresh process: reads
the file line by line with `orjson.loads` (the floor: no replay can beat decoding), and replays it through
the shipped rules. Throughput is reported as floor time / replay time (target ≥ 0.3) and peak RSS as the
ratio between the sizes (target: flat).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, path = sys.argv[1], Path(sys.argv[2])
if mode == "floor":
    import orjson
    start = time.perf_counter()
    with path.open("rb") as stream:
        for line in stream:
            orjson.loads(line)
    seconds = time.perf_counter() - start
else:
    from logmon.replay import Replay
    from logmon.rules.loader import load_rules
    run = Replay(load_rules(Path("rules")))
    start = time.perf_counter()
    with path.open("rb") as stream:
        report = run.run(stream)
    seconds = time.perf_counter() - start
    assert report["events"] > 0
print(json.dumps({"seconds": seconds, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def child(mode: str, path: Path) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(path)], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def write_lines(path: Path, count: int) -> None:
    from logmon.simulate import STEADY, simulate

    per_minute = sum(t.per_minute for t in STEADY)
    minutes = count // per_minute + 1
    with path.open("wb") as stream:
        stream.writelines(simulate(minutes, limit=count))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    sizes = parser.parse_args().sizes
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for size in sizes:
            path = Path(scratch) / f"logs-{size}.ndjson"
            write_lines(path, size)
            floor = child("floor", path)
            replay = child("replay", path)
            rows.append((size, floor, replay))
            path.unlink()
    print(f"{'lines':>10}  {'orjson.loads':>12}  {'replay':>9}  {'lines/s':>10}  {'floor/replay':>12}  {'peak RSS':>9}")
    for size, floor, replay in rows:
        print(
            f"{size:>10,}  {floor['seconds']:>11.2f}s  {replay['seconds']:>8.2f}s  {size / replay['seconds']:>10,.0f}"
            f"  {floor['seconds'] / replay['seconds']:>12.3f}  {replay['rss_kb'] / 1024:>7.1f}MB"
        )
    if len(rows) > 1:
        print(f"peak RSS, largest / smallest: {rows[-1][2]['rss_kb'] / rows[0][2]['rss_kb']:.2f} (target: flat, ~1)")
    print("target: floor/replay ≥ 0.3")


if __name__ == "__main__":
    main()
