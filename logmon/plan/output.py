"""What `logmon plan` shows and writes: a table by provider and type, and native artefacts per resource."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from logmon.plan.runner import Plan

PROVIDER_TITLES = {
    "datadog": "Datadog",
    "aws": "AWS",
    "kubernetes": "Kubernetes",
    "logmon": "components",
    "pulumi": "providers",
}


def _rows(plan: Plan) -> dict[str, list[tuple[str, int, int]]]:
    counts: Counter[str] = Counter()
    protected: Counter[str] = Counter()
    for resource in plan.resources:
        counts[resource.type] += 1
        protected[resource.type] += resource.protect
    groups: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for type_ in sorted(counts):
        package = type_.split(":", 1)[0]
        groups[package].append((type_, counts[type_], protected[type_]))
    return groups


def print_table(plan: Plan, stream: TextIO) -> None:
    """A table on a terminal; aligned plain text otherwise (logs, CI, pipes)."""
    console = Console(file=stream)
    groups = _rows(plan)
    total = len(plan.resources)
    protected_total = sum(r.protect for r in plan.resources)
    title = f"logmon plan — stack {plan.stack}: {total} resources, {protected_total} protected"
    if console.is_terminal:
        table = Table(title=title, show_lines=False)
        table.add_column("provider")
        table.add_column("type")
        table.add_column("count", justify="right")
        table.add_column("protected", justify="right")
        for package, rows in groups.items():
            for index, (type_, count, protected) in enumerate(rows):
                table.add_row(
                    PROVIDER_TITLES.get(package, package) if index == 0 else "",
                    type_,
                    str(count),
                    str(protected) if protected else "",
                )
        console.print(table)
    else:
        width = max((len(type_) for rows in groups.values() for type_, _, _ in rows), default=10)
        lines = [title, ""]
        for package, rows in groups.items():
            lines.append(f"{PROVIDER_TITLES.get(package, package)}:")
            for type_, count, protected in rows:
                suffix = f"  ({protected} protected)" if protected else ""
                lines.append(f"  {type_.ljust(width)}  {count:>4}{suffix}")
        stream.write("\n".join(lines) + "\n")
    for note in plan.notes:
        stream.write(f"note: {note}\n")
    if plan.warnings:
        count = len(plan.warnings)
        stream.write(f"{count} lint warning{'' if count == 1 else 's'} (the plan goes ahead):\n")
        for warning in plan.warnings:
            stream.write(f"  {warning}\n")


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name) + ".json"


def _write_json(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_artefacts(plan: Plan, directory: Path) -> list[Path]:
    """Datadog API documents, Kubernetes YAML and AWS policies/lifecycle, one file each, under `directory`."""
    # Imported here: the API models and botocore's service data cost a second that a plain plan never needs.
    from logmon.plan import aws, datadog, kubernetes

    written: list[Path] = []
    for folder, name, document, _model in datadog.documents(plan.resources):
        written.append(_write_json(directory / "datadog" / folder / _file_name(name), document))
    for name, request in aws.logs_archive_requests(plan.resources).items():
        written.append(_write_json(directory / "datadog" / "archives" / _file_name(name), request))
    manifests = kubernetes.manifests(plan.resources)
    if manifests:
        path = directory / "kubernetes" / "agent.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(kubernetes.to_yaml(manifests), encoding="utf-8")
        written.append(path)
    if any(r.type == "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration" for r in plan.resources):
        written.append(_write_json(directory / "aws" / "lifecycle.json", aws.lifecycle_configuration(plan.resources)))
        written.append(_write_json(directory / "aws" / "bucket-policy.json", aws.bucket_policy(plan.resources)))
        for name, policy in aws.iam_policies(plan.resources).items():
            written.append(_write_json(directory / "aws" / "iam" / _file_name(name), policy))
    return written
