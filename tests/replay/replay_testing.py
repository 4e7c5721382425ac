"""Test support for the replay tests: the shipped rules, the acceptance traffic and the `logmon` command."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner, Result

from logmon.cli import app
from logmon.rules.loader import RuleSet, load_rules
from logmon.simulate import START, STEADY, Traffic, burst

REPOSITORY = Path(__file__).resolve().parents[2]
SHIPPED_RULES = REPOSITORY / "rules"

MINUTES = 40
PAYMENT_BURST = burst("payment_completion", {"payment_status": "failed"}, 200, 10, 2)
LOGIN_BURST = burst("authentication_attempt", {"success": False}, 60, 20, 3)
TRAFFIC: tuple[Traffic, ...] = (*STEADY, PAYMENT_BURST, LOGIN_BURST)
"""A quiet 40 minutes with 200 failed payments a minute at minutes 10–11 and 60 failed logins at 20–22."""


def shipped_rules() -> RuleSet:
    return load_rules(SHIPPED_RULES)


def at_minute(minute: int) -> str:
    """The ISO time `minute` minutes after the simulation starts, as the report writes it."""
    return (START + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")


def logmon(*arguments: str, stdin: bytes | None = None) -> Result:
    """`logmon <arguments>` in-process, with the shipped rules unless `--rules` is given."""
    if "--rules" not in arguments:
        arguments = (*arguments, "--rules", str(SHIPPED_RULES))
    return CliRunner().invoke(app, list(arguments), input=stdin)
