"""Test support for the reports: a short replay with incidents, the rules edited, and a headless browser.

The browser is Debian's `chromium` driven by Playwright with the system executable (no browser download);
the Mermaid parser is the npm package pinned in tests/report/mermaid (`npm ci --prefix tests/report/mermaid`).
`.ci/run` installs both; elsewhere a test that needs a missing one is skipped with the command to run,
except under CI (`CI` set), where it fails.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from logmon.cli import app
from logmon.replay import Replay
from logmon.report.collect import ChartedEvaluation
from logmon.rules.loader import RuleSet, load_rules
from logmon.simulate import START, Traffic, burst, simulate

REPOSITORY = Path(__file__).resolve().parents[2]
SHIPPED_RULES = REPOSITORY / "rules"
MERMAID_JS = REPOSITORY / "tests" / "report" / "mermaid" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"

MINUTES = 45
QUIET: tuple[Traffic, ...] = (
    Traffic("api_request", {"status_code": 200}, 10),
    Traffic("api_request", {"status_code": 503}, 1),
    Traffic("payment_completion", {"payment_status": "completed"}, 5),
    Traffic("payment_completion", {"payment_status": "failed"}, 1),
    Traffic("fraud_detection", {"action": "allow"}, 2),
    Traffic("authentication_attempt", {"success": True}, 5),
    Traffic("authentication_attempt", {"success": False}, 3),
    Traffic("cache_operation", {}, 4),
)
"""A thin steady stream touching every index: quick to replay and to draw."""
PAYMENT_OUTAGE = burst("payment_completion", {"payment_status": "failed"}, 55, 10, 8)
"""56 failed payments a minute (with the steady one) at minutes 10–17: 280 in the four 5-minute windows that
lie inside it (evaluations at minutes 15–18), over a critical of 250 and under one of 300."""
LOGIN_WARNING = burst("authentication_attempt", {"success": False}, 12, 30, 10)
"""15 failed logins a minute with the steady 3: over the warning (50 in 5m), under the critical (100)."""
TRAFFIC: tuple[Traffic, ...] = (*QUIET, PAYMENT_OUTAGE, LOGIN_WARNING)


PAYMENT_AT_300 = {"monitors.yaml": ("critical: 50\n      warning: 25", "critical: 60\n      warning: 25")}
"""An edit of the shipped rules: payment_failures pages at 300 failures in 5 minutes instead of 250."""


def lines() -> list[bytes]:
    return list(simulate(MINUTES, TRAFFIC, START))


def replayed(rules: RuleSet, data: list[bytes] | None = None) -> tuple[Replay, dict[str, Any]]:
    run = Replay(rules, charts=ChartedEvaluation.of)
    report = run.run(data if data is not None else lines())
    return run, report


def rules_copy(destination: Path, replacements: dict[str, tuple[str, str]] | None = None) -> Path:
    """The shipped rules copied to `destination`, with `{file: (old, new)}` text replaced (each must occur)."""
    shutil.copytree(SHIPPED_RULES, destination, ignore=shutil.ignore_patterns("tests"))
    for name, (old, new) in (replacements or {}).items():
        path = destination / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return destination


def shipped_rules() -> RuleSet:
    return load_rules(SHIPPED_RULES)


def missing(what: str, how: str) -> None:
    """Skip (or under CI fail) a test that needs a tool this machine lacks."""
    message = f"{what} is not installed here; {how} (.ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        missing("Debian's chromium", "apt-get install -y chromium")
    assert found is not None
    return found


def logmon_output(arguments: list[str]) -> str:
    """What `logmon <arguments>` prints; it must succeed."""
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    return result.stdout
