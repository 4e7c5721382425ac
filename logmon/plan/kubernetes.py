"""The recorded Kubernetes resources as plain manifests: reviewable YAML, checked against official schemas.

A plan shows what `pulumi up` would send to the cluster. Here the inputs of every recorded `kubernetes:*`
resource become the manifest `kubectl apply` would take, in the order it could apply them, and
`kubernetes-validate` checks each one in strict mode (unknown fields are errors, so a misspelt field fails
here instead of being silently dropped by the API server).

Secret values never appear: the recorder already replaced them with its placeholder. A Secret whose whole
`data`/`stringData` is secret (the Kubernetes SDK marks both as secret) shows the keys that the planned
workloads reference, each with the placeholder as its value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import kubernetes_validate
import yaml
from kubernetes_validate.utils import VersionNotSupportedError, all_versions

from logmon.plan.recorder import SECRET_PLACEHOLDER, RecordedResource

KUBERNETES_VERSION: Final = "1.37"
"""The newest Kubernetes release whose schemas the installed kubernetes-validate ships."""

_TYPE_TOKEN = re.compile(r"^kubernetes:(?P<group>[^:/]+)/(?P<version>[^:/]+):(?P<kind>[A-Za-z0-9]+)$")
_NOT_MANIFESTS = ("helm.sh", "yaml", "kustomize")
"""Packages of the SDK whose resources stand for something other than one Kubernetes object."""

_APPLY_ORDER: Final = (
    "Namespace",
    "ResourceQuota",
    "LimitRange",
    "PriorityClass",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicaSet",
    "Deployment",
    "StatefulSet",
    "HorizontalPodAutoscaler",
    "Job",
    "CronJob",
    "Ingress",
    "PodDisruptionBudget",
    "NetworkPolicy",
)
"""Objects that others refer to come first, so that a file applies in one pass."""

_LEADING_KEYS: Final = ("apiVersion", "kind", "metadata", "name", "namespace")
"""Printed first in every mapping; the other keys follow alphabetically."""
_MESSAGE_LIMIT = 300


def manifests(resources: Iterable[RecordedResource]) -> list[dict[str, Any]]:
    """The Kubernetes objects among `resources`, as manifests in apply order.

    Objects without an explicit `metadata.name` get their Pulumi name (a deploy adds a random suffix).
    """
    found = [_manifest(resource) for resource in resources if _is_manifest(resource)]
    referenced = _referenced_secret_keys(found)
    for manifest in found:
        if manifest.get("kind") == "Secret":
            _show_secret_keys(manifest, referenced)
    return sorted(found, key=_apply_position)


def to_yaml(documents: Iterable[Mapping[str, Any]]) -> str:
    """Multi-document YAML, one `---` document per manifest, as `kubectl apply -f` reads it."""
    return yaml.safe_dump_all(
        [dict(document) for document in documents],
        sort_keys=False,
        explicit_start=True,
        default_flow_style=False,
        width=4096,
    )


def validate(documents: Iterable[Mapping[str, Any]], kubernetes_version: str = KUBERNETES_VERSION) -> list[str]:
    """Problems found by checking each manifest against the Kubernetes schemas, strictly; empty when all pass.

    kubernetes-validate reports the most relevant problem of each manifest, so fixing one may reveal the next.
    """
    problems: list[str] = []
    for position, document in enumerate(documents, 1):
        where = _describe(document, position)
        if not isinstance(document.get("apiVersion"), str) or not isinstance(document.get("kind"), str):
            problems.append(f"{where}: has no apiVersion or kind; every manifest needs both")
            continue
        try:
            kubernetes_validate.validate(dict(document), kubernetes_version, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{where}: {_path(error.path)}: {_shorten(error.message)}")
        except kubernetes_validate.SchemaNotFoundError as error:
            problems.append(f"{where}: {error.message}; it cannot be checked")
        except VersionNotSupportedError as error:
            supported = sorted({_major_minor(version) for version in all_versions()}, key=_version_key)
            raise ValueError(
                f"kubernetes-validate has no schemas for Kubernetes {error.version}; "
                f"use one of {supported[0]} to {supported[-1]}"
            ) from None
    return problems


def _is_manifest(resource: RecordedResource) -> bool:
    match = _TYPE_TOKEN.match(resource.type)
    if not resource.custom or match is None or match["group"] in _NOT_MANIFESTS:
        return False
    # Patches change part of an object that something else owns; lists are not applied as such.
    return not match["kind"].endswith(("Patch", "List"))


def _manifest(resource: RecordedResource) -> dict[str, Any]:
    match = _TYPE_TOKEN.match(resource.type)
    assert match is not None  # only called for what _is_manifest accepted
    group, version = match["group"], match["version"]
    fields = _clean({key: value for key, value in resource.inputs.items() if not key.startswith("__")})
    api_version = fields.pop("apiVersion", None) or (version if group == "core" else f"{group}/{version}")
    kind = fields.pop("kind", None) or match["kind"]
    metadata = fields.pop("metadata", None)
    metadata = {key: value for key, value in (metadata or {}).items() if not key.startswith("__")}
    metadata.setdefault("name", resource.name)
    return {"apiVersion": api_version, "kind": kind, "metadata": _clean(metadata), **fields}


def _clean(value: Any) -> Any:
    """Unset fields dropped, whole numbers back to integers (the engine sends every number as a float), and
    keys in a fixed order so that the same plan always prints the same way."""
    if isinstance(value, dict):
        return {key: _clean(value[key]) for key in sorted(value, key=_key_order) if value[key] is not None}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _key_order(key: str) -> tuple[int, str]:
    return (_LEADING_KEYS.index(key) if key in _LEADING_KEYS else len(_LEADING_KEYS), key)


def _referenced_secret_keys(documents: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """(namespace, secret name) → the keys that env references and secret volumes of these objects read."""
    referenced: dict[tuple[str, str], list[str]] = {}

    def remember(namespace: str, name: Any, key: Any) -> None:
        if isinstance(name, str) and isinstance(key, str):
            keys = referenced.setdefault((namespace, name), [])
            if key not in keys:
                keys.append(key)

    def walk(node: Any, namespace: str) -> None:
        if isinstance(node, dict):
            selector = node.get("secretKeyRef")
            if isinstance(selector, dict):
                remember(namespace, selector.get("name"), selector.get("key"))
            volume = node.get("secret")
            if isinstance(volume, dict) and isinstance(volume.get("items"), list):
                for item in volume["items"]:
                    if isinstance(item, dict):
                        remember(namespace, volume.get("secretName"), item.get("key"))
            for child in node.values():
                walk(child, namespace)
        elif isinstance(node, list):
            for child in node:
                walk(child, namespace)

    for document in documents:
        walk(document, str(document.get("metadata", {}).get("namespace", "default")))
    return referenced


def _show_secret_keys(secret: dict[str, Any], referenced: Mapping[tuple[str, str], list[str]]) -> None:
    """Secret values become placeholders under `stringData`, where any string is valid (`data` is base64)."""
    metadata = secret.get("metadata", {})
    keys = referenced.get((str(metadata.get("namespace", "default")), str(metadata.get("name")))) or [
        SECRET_PLACEHOLDER
    ]
    data = secret.pop("data", None)
    string_data = secret.pop("stringData", None)
    encoded: dict[str, Any] = {}
    strings: dict[str, Any] = {}
    if SECRET_PLACEHOLDER in (data, string_data):
        strings.update(dict.fromkeys(keys, SECRET_PLACEHOLDER))
    if isinstance(data, dict):
        for key, value in data.items():
            (strings if value == SECRET_PLACEHOLDER else encoded)[key] = value
    if isinstance(string_data, dict):
        strings.update(string_data)
    if encoded:
        secret["data"] = encoded
    if strings or string_data is not None:
        secret["stringData"] = strings


def _apply_position(document: Mapping[str, Any]) -> tuple[int, str, str]:
    kind = str(document.get("kind"))
    rank = _APPLY_ORDER.index(kind) if kind in _APPLY_ORDER else len(_APPLY_ORDER)
    metadata = document.get("metadata", {})
    return rank, str(metadata.get("namespace", "")), str(metadata.get("name", ""))


def _describe(document: Mapping[str, Any], position: int) -> str:
    metadata = document.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    name = metadata.get("name", "?")
    namespace = metadata.get("namespace")
    qualified = f"{namespace}/{name}" if namespace else str(name)
    return f"manifest {position} ({document.get('kind', '?')} {qualified})"


def _path(path: Iterable[Any]) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text.lstrip(".") or "(top level)"


def _shorten(message: str) -> str:
    return message if len(message) <= _MESSAGE_LIMIT else message[: _MESSAGE_LIMIT - 1] + "…"


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())
