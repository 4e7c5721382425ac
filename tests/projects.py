"""The repository as a Pulumi project, for tests: its root, its stacks, cached plans and editable copies."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

from logmon.plan.runner import Plan, run_plan

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("dev", "staging", "prod")


@cache
def planned(stack: str) -> Plan:
    """The stack's offline plan of the repository as it is (computed once per test session)."""
    return run_plan(stack, ROOT)


def copy_project(destination: Path) -> Path:
    """A copy of the project files a plan reads (stack files, rules, the program) to edit in a test."""
    destination.mkdir(parents=True, exist_ok=True)
    for path in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(path, destination / path.name)
    shutil.copytree(ROOT / "rules", destination / "rules")
    shutil.copytree(ROOT / "infra", destination / "infra", ignore=shutil.ignore_patterns("__pycache__"))
    return destination
