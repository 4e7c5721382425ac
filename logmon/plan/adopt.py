"""`logmon adopt`: the Pulumi bulk-import file for the Datadog objects a stack takes over.

Every Datadog organization already has the `main` index, and the provider creates an index with a plain
POST, so a first `pulumi up` that registers `main` fails. Importing it first (`pulumi import --file`)
puts it in the stack's state; the next `up` then updates it to the rules' values.

The file is what `pulumi import --file` reads (pulumi/pulumi `pkg/cmd/pulumi/operations/import.go`,
`importFile`/`importSpec`): `resources` with `type`, `name`, `id`, `parent` and `provider`, where `parent`
and `provider` name other entries of the same file. Each adopted resource is written under the component
and with the explicit provider the program registers it with, so its URN is the one the program uses and
the next `up` finds it in the state. The components are declared with `component: true` and the provider
with its non-secret inputs; the provider reads its keys from `DD_API_KEY`/`DD_APP_KEY` during the import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from logmon.plan.recorder import SECRET_PLACEHOLDER, RecordedResource
from logmon.plan.runner import Plan
from logmon.settings import Adopt

ALWAYS_ADOPTED_INDEX = "main"


@dataclass(frozen=True)
class _Kind:
    type: str
    by_name: bool
    """Found by its `name` input (indexes, metrics), else by the logical name `<prefix><slug>`."""
    prefix: str = ""


KINDS: Mapping[str, _Kind] = {
    "indexes": _Kind("datadog:index/logsIndex:LogsIndex", by_name=True),
    "metrics": _Kind("datadog:index/logsMetric:LogsMetric", by_name=True),
    "pipelines": _Kind("datadog:index/logsCustomPipeline:LogsCustomPipeline", by_name=False, prefix="pipeline-"),
    "monitors": _Kind("datadog:index/monitor:Monitor", by_name=False, prefix="monitor-"),
    "archives": _Kind("datadog:index/logsArchive:LogsArchive", by_name=False, prefix="archive-"),
}


class AdoptionInvalid(Exception):
    """An `adopt` entry names nothing the program registers."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def wanted(adopt: Adopt, plan: Plan) -> list[tuple[str, str, str]]:
    """(kind, key, import ID) for everything to adopt: `main` when the rules have it, then the settings'."""
    entries: list[tuple[str, str, str]] = []
    indexes = {str(r.inputs.get("name")) for r in plan.resources if r.type == KINDS["indexes"].type}
    if ALWAYS_ADOPTED_INDEX in indexes:
        entries.append(("indexes", ALWAYS_ADOPTED_INDEX, ALWAYS_ADOPTED_INDEX))
    entries += [("indexes", name, name) for name in adopt.indexes if name != ALWAYS_ADOPTED_INDEX]
    entries += [("metrics", name, name) for name in adopt.metrics]
    entries += [("pipelines", slug, pipeline_id) for slug, pipeline_id in adopt.pipelines.items()]
    entries += [("monitors", slug, str(monitor_id)) for slug, monitor_id in adopt.monitors.items()]
    entries += [("archives", slug, archive_id) for slug, archive_id in adopt.archives.items()]
    return entries


def import_document(plan: Plan, adopt: Adopt) -> dict[str, Any]:
    """The bulk-import file: providers, then components (parents first), then the adopted resources."""
    by_key = {resource.key: resource for resource in plan.resources}
    problems: list[str] = []
    providers: dict[str, dict[str, Any]] = {}
    components: dict[str, dict[str, Any]] = {}
    adopted: list[dict[str, Any]] = []
    for kind, key, import_id in wanted(adopt, plan):
        resource = _find(plan, kind, key)
        if resource is None:
            problems.append(_not_found(plan.stack, kind, key))
            continue
        entry: dict[str, Any] = {"type": resource.type, "name": resource.name, "id": import_id}
        if resource.parent is not None:
            entry["parent"] = _declare_ancestors(resource.parent, by_key, components)
        if resource.provider is not None:
            entry["provider"] = _declare_provider(resource.provider, by_key, providers)
        adopted.append(entry)
    if problems:
        raise AdoptionInvalid(problems)
    return {"resources": [*providers.values(), *components.values(), *adopted]}


def _find(plan: Plan, kind: str, key: str) -> RecordedResource | None:
    spec = KINDS[kind]
    for resource in plan.resources:
        if resource.type != spec.type:
            continue
        if (resource.inputs.get("name") == key) if spec.by_name else (resource.name == spec.prefix + key):
            return resource
    return None


def _not_found(stack: str, kind: str, key: str) -> str:
    what = {"indexes": "index", "metrics": "metric", "pipelines": "pipeline", "monitors": "monitor"}.get(
        kind, "archive"
    )
    return (
        f"Pulumi.{stack}.yaml: `logmon:settings.adopt.{kind}` names {what} '{key}', which the rules of stack "
        f"{stack} do not define; remove it from `adopt` or add the {what} to rules/"
    )


def _declare_ancestors(key: str, by_key: Mapping[str, RecordedResource], components: dict[str, dict[str, Any]]) -> str:
    """Declare the component `key` and its own parents; its name, which children use as `parent`."""
    component = by_key[key]
    if key not in components:
        entry: dict[str, Any] = {"type": component.type, "name": component.name, "component": True}
        if component.parent is not None:
            entry["parent"] = _declare_ancestors(component.parent, by_key, components)
        components[key] = entry
    return component.name


def _declare_provider(key: str, by_key: Mapping[str, RecordedResource], providers: dict[str, dict[str, Any]]) -> str:
    provider = by_key[key]
    if key not in providers:
        inputs = {name: value for name, value in provider.inputs.items() if value != SECRET_PLACEHOLDER}
        providers[key] = {"type": provider.type, "name": provider.name, "inputs": inputs}
    return provider.name
