"""`logmon diff`: two plans compared resource by resource and property by property.

A change to a property Datadog or AWS cannot update in place is a replacement. A protected resource that
would be deleted — removed, replaced, or renamed (its slug changed, so Pulumi sees a new resource) — is
called out first and loudly: Pulumi will refuse, and for Datadog indexes the old name is gone for good.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

IMMUTABLE: dict[str, tuple[str, ...]] = {
    "datadog:index/logsIndex:LogsIndex": ("name",),
    "datadog:index/logsMetric:LogsMetric": ("name", "compute.aggregationType"),
    "aws:s3/bucket:Bucket": ("bucket", "objectLockEnabled"),
    "aws:iam/role:Role": ("name",),
    "kubernetes:core/v1:Namespace": ("metadata.name",),
    "kubernetes:apps/v1:DaemonSet": ("metadata.name", "metadata.namespace", "spec.selector"),
}
"""Per type, the input paths whose change forces a replacement (delete and create)."""

RENAME_SIMILARITY = 0.75
Action = Literal["add", "remove", "retain", "update", "replace"]
"""`retain`: gone from the program but `retain_on_delete`, so it stays in the cloud, no longer managed."""
ACTIONS: tuple[Action, ...] = ("add", "update", "replace", "retain", "remove")

README_PROTECTED = "Deleting or renaming a protected resource"
README_DELETE_INDEX = "Deleting an index for good"
"""README sections the diff's warnings send people to (a test checks that they exist)."""


@dataclass(frozen=True)
class PropertyChange:
    path: str
    old: Any
    new: Any
    forces_replacement: bool = False


@dataclass
class ResourceChange:
    key: str
    type: str
    name: str
    action: Action
    protected: bool = False
    """The base resource is protected (for removals and replacements: Pulumi will refuse)."""
    changes: list[PropertyChange] = field(default_factory=list)
    renamed_from: str | None = None

    retained: bool = False
    """The base resource has `retain_on_delete`: a removal or replacement leaves it in the cloud."""

    @property
    def deletes_protected(self) -> bool:
        return self.protected and self.action in ("remove", "retain", "replace")


@dataclass
class Diff:
    base_stack: str
    head_stack: str
    resources: list[ResourceChange]

    def count(self, action: Action) -> int:
        return sum(1 for r in self.resources if r.action == action)

    @property
    def protected_deletions(self) -> list[ResourceChange]:
        return [r for r in self.resources if r.deletes_protected]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Inputs as `path → value`; objects and lists of objects are walked, lists of scalars kept whole."""
    if isinstance(value, Mapping):
        flat: dict[str, Any] = {}
        for key in sorted(value):
            flat.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        if not flat and prefix:
            return {prefix: {}}
        return flat
    if isinstance(value, list) and any(isinstance(item, Mapping | list) for item in value):
        flat = {}
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{prefix}[{index}]"))
        return flat or {prefix: []}
    return {prefix: value}


def _covers(path: str, immutable: str) -> bool:
    return path == immutable or path.startswith((immutable + ".", immutable + "["))


def property_changes(type_: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[PropertyChange]:
    before, after = flatten(old), flatten(new)
    immutable = IMMUTABLE.get(type_, ())
    return [
        PropertyChange(
            path,
            before.get(path),
            after.get(path),
            any(_covers(path, fixed) for fixed in immutable),
        )
        for path in sorted(set(before) | set(after))
        if before.get(path) != after.get(path)
    ]


def _similarity(type_: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> float:
    before, after = flatten(old), flatten(new)
    ignored = IMMUTABLE.get(type_, ("name",))
    paths = {p for p in set(before) | set(after) if not any(_covers(p, fixed) for fixed in ignored)}
    if not paths:
        return 1.0
    return sum(1 for p in paths if before.get(p) == after.get(p)) / len(paths)


def diff(base: Mapping[str, Any], head: Mapping[str, Any]) -> Diff:
    """Compare two plan documents (as `logmon plan --json` writes them)."""
    old = {r["key"]: r for r in base.get("resources", [])}
    new = {r["key"]: r for r in head.get("resources", [])}
    changes: list[ResourceChange] = []
    for key in sorted(set(old) & set(new)):
        properties = property_changes(new[key]["type"], old[key]["inputs"], new[key]["inputs"])
        if old[key].get("protect") != new[key].get("protect"):
            properties.append(PropertyChange("(protect)", old[key].get("protect"), new[key].get("protect")))
        if properties:
            replace = any(p.forces_replacement for p in properties)
            changes.append(
                ResourceChange(
                    key,
                    new[key]["type"],
                    new[key]["name"],
                    "replace" if replace else "update",
                    bool(old[key].get("protect")),
                    properties,
                    retained=bool(old[key].get("retain_on_delete")),
                )
            )
    removed = [old[k] for k in sorted(set(old) - set(new))]
    added = [new[k] for k in sorted(set(new) - set(old))]
    for resource in list(removed):
        candidates = [
            a
            for a in added
            if a["type"] == resource["type"]
            and _similarity(a["type"], resource["inputs"], a["inputs"]) >= RENAME_SIMILARITY
        ]
        if len(candidates) == 1:
            successor = candidates[0]
            added.remove(successor)
            removed.remove(resource)
            changes.append(
                ResourceChange(
                    successor["key"],
                    successor["type"],
                    successor["name"],
                    "replace",
                    bool(resource.get("protect")),
                    property_changes(successor["type"], resource["inputs"], successor["inputs"]),
                    renamed_from=resource["key"],
                    retained=bool(resource.get("retain_on_delete")),
                )
            )
    changes += [
        ResourceChange(
            r["key"],
            r["type"],
            r["name"],
            "retain" if r.get("retain_on_delete") else "remove",
            bool(r.get("protect")),
            retained=bool(r.get("retain_on_delete")),
        )
        for r in removed
    ]
    changes += [ResourceChange(r["key"], r["type"], r["name"], "add") for r in added]
    order = {"remove": 0, "retain": 1, "replace": 2, "update": 3, "add": 4}
    changes.sort(key=lambda c: (not c.deletes_protected, order[c.action], c.type, c.name))
    return Diff(str(base.get("stack", "")), str(head.get("stack", "")), changes)


_SYMBOL = {"add": "+", "remove": "-", "retain": "⊘", "update": "~", "replace": "±"}


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True) if not isinstance(value, str) else value
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _headline(result: Diff) -> str:
    parts = [f"{result.count(a)} to {a}" for a in ACTIONS if a != "retain" or result.count(a)]
    return ", ".join(parts)


def _retained_note(change: ResourceChange) -> str:
    what = "index" if "logsIndex" in change.type else "resource"
    if change.action == "replace":
        old = change.renamed_from or change.key
        return (
            f"`{old}` is replaced: the old {what} stays in Datadog, no longer managed, beside the new one"
            f" — see the README, '{README_DELETE_INDEX}'"
        )
    return (
        f"`{change.key}` is no longer in the rules: it stays in Datadog, no longer managed (never deleted)"
        f" — see the README, '{README_DELETE_INDEX}'"
    )


def _protected_warning(change: ResourceChange) -> str:
    name = change.renamed_from or change.key
    if change.action == "retain":
        return (
            f"protected resource `{name}` is no longer in the rules; Pulumi will refuse to let go of it while it"
            f" is protected (once unprotected it stays in Datadog, no longer managed) — see the README,"
            f" '{README_PROTECTED}'"
        )
    how = f"replaced by `{change.key}` (renamed)" if change.renamed_from else change.action + "d"
    if change.action == "remove":
        how = "deleted"
    elif change.action == "replace" and not change.renamed_from:
        how = "deleted and recreated"
    deleted_for_good = "logsIndex" in change.type and not change.retained
    return (
        f"protected resource `{name}` would be {how}; Pulumi will refuse while it is protected"
        + (", and a deleted Datadog index name can never be used again" if deleted_for_good else "")
        + f" — see the README, '{README_PROTECTED}'"
    )


def focus(old: Any, new: Any, context: int = 24) -> tuple[Any, Any]:
    """Two long strings cut down to where they differ, with a little context, so a one-character change in
    a long query stays visible."""
    if not (isinstance(old, str) and isinstance(new, str)) or max(len(old), len(new)) <= 80:
        return old, new
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    begin = max(0, start - context)
    prefix = "…" if begin else ""

    def cut(text: str) -> str:
        stop = len(text) - max(0, end - context)
        return prefix + text[begin:stop] + ("…" if stop < len(text) else "")

    return cut(old), cut(new)


def _lines(change: ResourceChange) -> Iterator[str]:
    for prop in change.changes:
        marker = "  (forces replacement)" if prop.forces_replacement else ""
        old, new = focus(prop.old, prop.new)
        yield f"{prop.path}: {_short(old)} → {_short(new)}{marker}"


def render_text(result: Diff) -> str:
    out = [f"logmon diff — {result.base_stack} → {result.head_stack}: {_headline(result)}"]
    for change in result.protected_deletions:
        out.append(f"!! DANGER: {_protected_warning(change)}")
    for change in result.resources:
        suffix = f" (renamed from {change.renamed_from})" if change.renamed_from else ""
        out.append(f"{_SYMBOL[change.action]} {change.key}{suffix}")
        if change.retained and change.action in ("retain", "replace"):
            out.append(f"    {_retained_note(change)}")
        out.extend(f"    {line}" for line in _lines(change))
    if not result.resources:
        out.append("no changes")
    return "\n".join(out) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    return "`" + _short(value, 120).replace("|", "\\|").replace("`", "'") + "`"


def render_markdown(result: Diff) -> str:
    out = [f"### logmon plan diff — stack `{result.head_stack}`", "", f"**{_headline(result)}**", ""]
    if result.protected_deletions:
        out.append("> [!CAUTION]")
        for change in result.protected_deletions:
            out.append(f"> **{_protected_warning(change)}**  ")
        out.append("")
    if not result.resources:
        out.append("No changes.")
        return "\n".join(out) + "\n"
    out += ["| | resource | type |", "|---|---|---|"]
    for change in result.resources:
        renamed = f" (renamed from `{change.renamed_from.split('::')[-1]}`)" if change.renamed_from else ""
        retained = " — retained in Datadog, no longer managed" if change.action == "retain" else ""
        out.append(
            f"| {_SYMBOL[change.action]} | `{change.name}`{renamed}{retained} | `{change.type.split(':')[-1]}` |"
        )
    out.append("")
    for change in result.resources:
        if not change.changes:
            continue
        out += [
            f"<details><summary><code>{change.name}</code> — {len(change.changes)} propert"
            f"{'y' if len(change.changes) == 1 else 'ies'}</summary>",
            "",
            "| property | before | after |",
            "|---|---|---|",
        ]
        for prop in change.changes:
            marker = " ⚠ replaces" if prop.forces_replacement else ""
            old, new = focus(prop.old, prop.new)
            out.append(f"| `{prop.path}`{marker} | {_cell(old)} | {_cell(new)} |")
        out += ["", "</details>", ""]
    return "\n".join(out) + "\n"


def to_json(result: Diff) -> dict[str, Any]:
    return {
        "base_stack": result.base_stack,
        "head_stack": result.head_stack,
        "summary": {a: result.count(a) for a in ACTIONS},
        "protected_deletions": [c.renamed_from or c.key for c in result.protected_deletions],
        "resources": [
            {
                "key": c.key,
                "type": c.type,
                "name": c.name,
                "action": c.action,
                "protected": c.protected,
                "retained": c.retained,
                "renamed_from": c.renamed_from,
                "changes": [
                    {"path": p.path, "old": p.old, "new": p.new, "forces_replacement": p.forces_replacement}
                    for p in c.changes
                ],
            }
            for c in result.resources
        ],
    }
