"""`logmon plan --stack prod` against the bare import of the four Pulumi SDKs, in the same run.

Each command runs in a fresh interpreter (imports dominate, and a warm process would hide them), a few
times; the medians of their CPU time (user + system) are compared as a ratio, so that waiting for a core
on a shared machine does not count. Wall times are printed beside them. A second project with 1,000
monitors gives the cost of each additional resource.

    .venv/bin/python bench/plan.py [--repeats N]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ANCHOR = [sys.executable, "-c", "import pulumi, pulumi_datadog, pulumi_aws, pulumi_kubernetes"]
MAX_RATIO = 1.3
"""The prod plan may take this multiple of the bare SDK import."""
MAX_MS_PER_RESOURCE = 5.0
SEARCHES = (
    "@event_type:payment_completion @payment_status:failed @currency:{currency}",
    "@event_type:api_request @http.status_code:>=500 service:svc-{n}",
    "@event_type:authentication_attempt @success:false @usr.id:user-{n}",
    "@event_type:fraud_detection @action:block @risk_score:>{n}",
    "status:error service:svc-{n}",
)


def timed(command: list[str], repeats: int, cwd: Path = ROOT) -> tuple[float, float]:
    """Median (CPU seconds, wall seconds) of the command. The CPU time (user + system of the child) is what
    the command costs; on a shared machine the wall time adds however long it waited for a core."""
    cpu, wall = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(cpu), statistics.median(wall)


def resources(plan_file: Path) -> int:
    return int(json.loads(plan_file.read_text())["summary"]["resources"])


def project_with_monitors(directory: Path, count: int) -> Path:
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, directory / path.name)
    shutil.copytree(ROOT / "rules", directory / "rules")
    shutil.copytree(ROOT / "infra", directory / "infra", ignore=shutil.ignore_patterns("__pycache__"))
    monitors = yaml.safe_load((ROOT / "rules" / "monitors.yaml").read_text())["monitors"]
    for n in range(count - len(monitors)):
        search = SEARCHES[n % len(SEARCHES)].format(n=n, currency=("USD", "EUR", "GBP")[n % 3])
        monitors[f"generated_{n:04d}"] = {
            "name": f"[logs] generated {n}",
            "search": search,
            "window": "5m",
            "threshold": {"critical": 10 + n % 50, "warning": 5 + n % 5},
            "priority": 1 + n % 5,
            "notify": {"critical": ["@slack-bench"]},
            "message": "generated for the plan benchmark",
        }
    (directory / "rules" / "monitors.yaml").write_text(yaml.safe_dump({"monitors": monitors}, sort_keys=False))
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    plan = [sys.executable, "-m", "logmon.cli", "plan", "--stack", "prod"]
    with tempfile.TemporaryDirectory() as scratch:
        scratch_dir = Path(scratch)
        anchor, anchor_wall = timed(ANCHOR, repeats)
        shipped, shipped_wall = timed([*plan, "--json", str(scratch_dir / "prod.json")], repeats)
        (scratch_dir / "large").mkdir()
        large_project = project_with_monitors(scratch_dir / "large", 1000)
        large, large_wall = timed(
            [*plan, "--project", str(large_project), "--json", str(scratch_dir / "large.json")], repeats
        )
        small_count, large_count = resources(scratch_dir / "prod.json"), resources(scratch_dir / "large.json")
    per_resource = (large - shipped) / (large_count - small_count)
    print(f"median of {repeats} runs; CPU seconds (user + system), wall seconds beside them")
    print(f"import of the four Pulumi SDKs (anchor): {anchor:6.2f} s CPU ({anchor_wall:6.2f} s wall)")
    ratio = shipped / anchor
    print(
        f"logmon plan --stack prod ({small_count} resources): {shipped:6.2f} s CPU ({shipped_wall:6.2f} s wall), "
        f"ratio {ratio:.2f} (≤ {MAX_RATIO}; wall ratio {shipped_wall / anchor_wall:.2f})"
    )
    print(
        f"logmon plan, 1,000 monitors ({large_count} resources): {large:6.2f} s CPU ({large_wall:6.2f} s wall), "
        f"ratio {large / anchor:.2f}"
    )
    wall_per_resource = (large_wall - shipped_wall) / (large_count - small_count)
    print(
        f"cost of one more resource: {per_resource * 1000:.2f} ms CPU ({wall_per_resource * 1000:.2f} ms wall; "
        f"{per_resource / anchor * 1000:.3f}‰ of the anchor) (target ≤ {MAX_MS_PER_RESOURCE:.0f} ms)"
    )
    misses = []
    if ratio > MAX_RATIO:
        misses.append(f"prod plan / SDK import = {ratio:.2f} (target ≤ {MAX_RATIO})")
    if per_resource * 1000 > MAX_MS_PER_RESOURCE:
        misses.append(f"{per_resource * 1000:.2f} ms per additional resource (target ≤ {MAX_MS_PER_RESOURCE:.0f} ms)")
    for miss in misses:
        print(f"bench/plan.py MISSED: {miss}", file=sys.stderr)
    sys.exit(1 if misses else 0)


if __name__ == "__main__":
    main()
