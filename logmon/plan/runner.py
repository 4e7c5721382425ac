"""`logmon plan`: the real Pulumi program of one stack, run offline under mocks, as a sorted document.

The program is started as the engine starts it (`logmon.plan.engine`): from `main`'s directory, with its
configuration in `PULUMI_CONFIG`. Config comes from `Pulumi.<stack>.yaml` as Pulumi would read it.
Encrypted values (`secure:`) are never decrypted: they, and the Datadog keys a deploy needs, enter the
program as placeholders marked secret, so they show as `[secret]` wherever they flow.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from logmon.plan.engine import ProjectUnreadable, engine_environment, read_project, run_program
from logmon.plan.recorder import SECRET_PLACEHOLDER, Organization, RecordedInvoke, RecordedResource, Recording, record

REQUIRED_SECRETS = ("datadog:apiKey", "datadog:appKey")
"""Secrets `pulumi up` needs; the offline plan stands them in with placeholders."""


class PlanUsageError(Exception):
    """An unknown stack or an unreadable project: the command was used wrongly (exit 2)."""


class PlanFailed(Exception):
    """The program refused to run (lint or settings errors): the messages say why (exit 1)."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("\n".join(messages))


@dataclass
class Plan:
    stack: str
    project: str
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    """Things a deploy will need that the offline plan stood in for."""
    invokes: list[RecordedInvoke] = field(default_factory=list)
    """The data sources the program read, with the provider each went through."""
    settings: dict[str, Any] = field(default_factory=dict)
    """The stack's `logmon:settings` as the program received them."""
    warnings: list[str] = field(default_factory=list)
    """What the program logged as warnings (lint findings that do not stop it)."""

    def counts(self) -> Counter[str]:
        return Counter(resource.type for resource in self.resources)


def stack_config(stack: str, project: str, project_dir: Path) -> tuple[dict[str, str], set[str], list[str]]:
    """Fully qualified config values (objects as JSON), the secret keys, and notes on stand-ins."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in project_dir.glob("Pulumi.*.yaml"))
        raise PlanUsageError(f"unknown stack '{stack}': no {path.name}; stacks here: {', '.join(known) or 'none'}")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{path.name}:{mark.line + 1}:{mark.column + 1}" if mark else path.name
        raise PlanUsageError(f"{where}: malformed YAML: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise PlanUsageError(f"cannot read {path.name}: {error}") from None
    if not isinstance(document, dict):
        raise PlanUsageError(f"{path.name}: expected a mapping with a `config:` key")
    raw = document.get("config") or {}
    if not isinstance(raw, dict):
        raise PlanUsageError(f"{path.name}: `config:` is not a mapping")
    config: dict[str, str] = {}
    secrets: set[str] = set()
    notes: list[str] = []
    for key, value in raw.items():
        name = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[name] = SECRET_PLACEHOLDER
            secrets.add(name)
        else:
            config[name] = value if isinstance(value, str) else json.dumps(value)
    for name in REQUIRED_SECRETS:
        if name not in config:
            config[name] = SECRET_PLACEHOLDER
            secrets.add(name)
            notes.append(f"{name} is not in {path.name}; set it with `pulumi config set --secret {name} ...`")
    return config, secrets, notes


def run_plan(stack: str, project_dir: Path = Path(), organization: Organization | None = None) -> Plan:
    """Run the stack's program under mocks, started as the engine starts it; PlanFailed when it refuses to,
    PlanUsageError on bad input. `organization` is what the Datadog organization already holds."""
    try:
        launch = read_project(project_dir)
    except ProjectUnreadable as problem:
        raise PlanUsageError(str(problem)) from None
    if not launch.program.is_file():
        raise PlanUsageError(f"no Pulumi program at {launch.program}")
    config, secrets, notes = stack_config(stack, launch.project, launch.root)
    settings = _settings_hint(config.get(f"{launch.project}:settings"))
    recording = record(
        lambda: run_program(launch, engine_environment(config, frozenset(secrets))),
        project=launch.project,
        stack=stack,
        account_id=str(settings.get("aws_account_id", "000000000000")),
        region=str(settings.get("aws_region", "us-east-1")),
        organization=organization or Organization(),
    )
    if recording.failure is not None:
        raise PlanFailed(_failure_messages(recording))
    warnings = [message for level, message in recording.log if level == "warning"]
    return Plan(
        stack, launch.project, recording.resources, recording.outputs, notes, recording.invokes, settings, warnings
    )


def _settings_hint(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _failure_messages(recording: Recording) -> list[str]:
    messages = recording.errors()
    failure = recording.failure
    text = str(failure) if failure is not None else ""
    if failure is not None and type(failure).__name__ == "RunError":
        return [*messages, text]
    return [*messages, f"the program failed: {type(failure).__name__}: {text}"]


def plan_document(plan: Plan) -> dict[str, Any]:
    """The plan as stable, sorted JSON-ready data: what `--json` writes and `logmon diff` compares."""
    resources = sorted(plan.resources, key=lambda r: (r.type, r.name))
    counts = plan.counts()
    return {
        "project": plan.project,
        "stack": plan.stack,
        "summary": {
            "resources": len(resources),
            "by_type": dict(sorted(counts.items())),
            "protected": sorted(r.key for r in resources if r.protect),
        },
        "resources": [
            {
                "key": r.key,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "provider": r.provider,
                "protect": r.protect,
                "retain_on_delete": r.retain_on_delete,
                "depends_on": r.depends_on,
                "inputs": r.inputs,
            }
            for r in resources
        ],
        "outputs": plan.outputs,
        "notes": plan.notes,
        "warnings": plan.warnings,
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
