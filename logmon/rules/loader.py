"""Every file under `rules/` merged into one RuleSet, or every problem found on the way."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from logmon.diagnostics import Finding, Location, RulesInvalid, Severity
from logmon.rules.model import (
    Archive,
    Index,
    Metric,
    Monitor,
    NestedPipeline,
    Overrides,
    Pipeline,
    Retention,
    RulesFile,
    SensitiveDataScanner,
)
from logmon.rules.source import LocatedDict, not_utf8, parse_yaml
from logmon.rules.validation import validate_document

KEYED_SECTIONS = ("monitors", "pipelines", "indexes", "metrics", "archives")
_SINGULAR = {
    "monitors": "monitor",
    "pipelines": "pipeline",
    "indexes": "index",
    "metrics": "metric",
    "archives": "archive",
}
SINGLE_SECTIONS = ("retention", "sensitive_data")


@dataclass(frozen=True)
class RuleSet:
    """All rules, merged across files, in file order (which is index, pipeline and archive order)."""

    monitors: dict[str, Monitor] = field(default_factory=dict)
    pipelines: dict[str, Pipeline] = field(default_factory=dict)
    indexes: dict[str, Index] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    archives: dict[str, Archive] = field(default_factory=dict)
    retention: Retention | None = None
    sensitive_data: SensitiveDataScanner | None = None
    files: tuple[str, ...] = ()
    key_locations: dict[tuple[str, str], Location] = field(default_factory=dict)
    """(section, slug) → where the slug is written."""

    def slug_location(self, section: str, slug: str) -> Location:
        return self.key_locations.get((section, slug), Location(self.files[0] if self.files else "<rules>", 1, 1))

    def index_retention(self, name: str) -> tuple[int | None, int | None]:
        """(standard days, total days) for an index, defaults taken from the retention tiers."""
        index = self.indexes[name]
        hot = self.retention.hot.days if self.retention else None
        warm = self.retention.warm.days if self.retention else None
        standard = None if index.flex_only else (index.retention_days or hot)
        return standard, index.flex_retention_days or warm


def display_name(path: Path, base: Path | None = None) -> str:
    """A path as people read it in findings: relative to `base` (the working directory) when inside it."""
    try:
        relative = os.path.relpath(path, base)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def rule_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def parse_rules_text(text: str, file_name: str) -> RulesFile:
    """One rules file from its text; raises RulesInvalid."""
    return rules_file(parse_yaml(text, file_name), file_name)


def rules_file(document: Any, file_name: str) -> RulesFile:
    """A parsed YAML document as a rules file; raises RulesInvalid."""
    if document is None or (isinstance(document, dict) and not document):
        raise RulesInvalid(
            [
                Finding(
                    "yaml/empty-file",
                    Severity.ERROR,
                    Location(file_name, 1, 1),
                    "the file holds no rules; add a section such as `monitors:` or delete the file",
                )
            ]
        )
    return validate_document(document, RulesFile, file_name)


def rules_from_text(text: str, file_name: str = "rules.yaml") -> RuleSet:
    """One rules file's text as a RuleSet, as `load_rules` would build it; raises RulesInvalid."""
    document = parse_yaml(text, file_name)
    rules, findings = _merge([(file_name, rules_file(document, file_name), document)])
    if findings:
        raise RulesInvalid(findings)
    return rules


def load_rules(directory: Path, base: Path | None = None) -> RuleSet:
    """Load and merge `directory/*.yaml`; raises RulesInvalid with every problem in every file.

    Findings name files relative to `base`, by default the working directory.
    """
    if not directory.is_dir():
        raise FileNotFoundError(f"no rules directory at {directory}")
    findings: list[Finding] = []
    parsed: list[tuple[str, RulesFile, Any]] = []
    for path in rule_files(directory):
        name = display_name(path, base)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            findings.append(not_utf8(name, error))
            continue
        try:
            document = parse_yaml(text, name)
            parsed.append((name, rules_file(document, name), document))
        except RulesInvalid as invalid:
            findings.extend(invalid.findings)
    if not parsed and not findings:
        findings.append(
            Finding(
                "rules/no-files",
                Severity.ERROR,
                Location(display_name(directory, base), 1, 1),
                "no *.yaml rules files here; point --rules at the rules directory",
            )
        )
    rules, merge_findings = _merge(parsed)
    findings.extend(merge_findings)
    if findings:
        raise RulesInvalid(findings)
    return rules


def _merge(parsed: list[tuple[str, RulesFile, Any]]) -> tuple[RuleSet, list[Finding]]:
    findings: list[Finding] = []
    sections: dict[str, dict[str, Any]] = {name: {} for name in KEYED_SECTIONS}
    singles: dict[str, tuple[Any, Location]] = {}
    key_locations: dict[tuple[str, str], Location] = {}
    for file_name, rules_file, document in parsed:
        for section in KEYED_SECTIONS:
            raw = document.get(section)
            for slug, model in getattr(rules_file, section).items():
                where = raw.key_locations[slug] if isinstance(raw, LocatedDict) else Location(file_name, 1, 1)
                if slug in sections[section]:
                    first = key_locations[(section, slug)]
                    findings.append(
                        Finding(
                            "rules/duplicate-slug",
                            Severity.ERROR,
                            where,
                            f"{_SINGULAR[section]} '{slug}' is already defined at {first}; slugs name resources, so "
                            "each must be unique — rename or remove one",
                            slug,
                        )
                    )
                    continue
                sections[section][slug] = model
                key_locations[(section, slug)] = where
        for section in SINGLE_SECTIONS:
            model = getattr(rules_file, section)
            if model is None:
                continue
            where = document.key_locations[section]
            if section in singles:
                findings.append(
                    Finding(
                        "rules/duplicate-section",
                        Severity.ERROR,
                        where,
                        f"`{section}` is already defined at {singles[section][1]}; keep a single one",
                        section,
                    )
                )
                continue
            singles[section] = (model, where)
            key_locations[(section, section)] = where
    rules = RuleSet(
        monitors=sections["monitors"],
        pipelines=sections["pipelines"],
        indexes=sections["indexes"],
        metrics=sections["metrics"],
        archives=sections["archives"],
        retention=singles["retention"][0] if "retention" in singles else None,
        sensitive_data=singles["sensitive_data"][0] if "sensitive_data" in singles else None,
        files=tuple(name for name, _, _ in parsed),
        key_locations=key_locations,
    )
    return rules, findings


def apply_overrides(rules: RuleSet, overrides: Overrides) -> RuleSet:
    """The rules of one environment: thresholds, handles, limits and sample rates replaced in place.

    An override naming a monitor, index or exclusion filter that does not exist is an error, so a typo in
    a stack file cannot silently leave production on the default.
    """
    findings: list[Finding] = []
    monitors = dict(rules.monitors)
    for slug, change in overrides.monitors.items():
        if slug not in monitors:
            findings.append(_unknown(overrides, "monitors", slug, list(monitors)))
            continue
        monitors[slug] = _override_monitor(monitors[slug], change)
    indexes = dict(rules.indexes)
    for name, index_change in overrides.indexes.items():
        if name not in indexes:
            findings.append(_unknown(overrides, "indexes", name, list(indexes)))
            continue
        index = indexes[name]
        updates: dict[str, Any] = {}
        if index_change.daily_limit is not None:
            updates["daily_limit"] = index_change.daily_limit
        if index_change.exclusion_sample_rates:
            known = {f.name for f in index.exclusion_filters}
            for filter_name in index_change.exclusion_sample_rates:
                if filter_name not in known:
                    findings.append(
                        Finding(
                            "overrides/unknown-name",
                            Severity.ERROR,
                            index_change.key_where("exclusion_sample_rates", filter_name),
                            f"index '{name}' has no exclusion filter named '{filter_name}'; "
                            f"it has: {', '.join(sorted(known)) or 'none'}",
                            filter_name,
                        )
                    )
            updates["exclusion_filters"] = [
                f.with_updates(
                    {"sample_rate": index_change.exclusion_sample_rates[f.name]},
                    locations={"sample_rate": index_change.key_where("exclusion_sample_rates", f.name)},
                )
                if f.name in index_change.exclusion_sample_rates
                else f
                for f in index.exclusion_filters
            ]
        indexes[name] = index.with_updates(updates, index_change)
    if findings:
        raise RulesInvalid(findings)
    return replace(rules, monitors=monitors, indexes=indexes)


def _override_monitor(monitor: Monitor, change: Any) -> Monitor:
    updates: dict[str, Any] = {}
    if change.threshold is not None:
        threshold_updates = {
            key: value
            for key, value in (("critical", change.threshold.critical), ("warning", change.threshold.warning))
            if value is not None
        }
        updates["threshold"] = monitor.threshold.with_updates(threshold_updates, change.threshold)
    for key in ("notify", "priority", "window"):
        value = getattr(change, key)
        if value is not None:
            updates[key] = value
    return monitor.with_updates(updates, change)


def _unknown(overrides: Overrides, section: str, slug: str, known: list[str]) -> Finding:
    import difflib

    close = difflib.get_close_matches(slug, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return Finding(
        "overrides/unknown-name",
        Severity.ERROR,
        overrides.key_where(section, slug),
        f"the override names {_SINGULAR[section]} '{slug}', which no rule defines{hint}",
        slug,
    )


def iter_queries(rules: RuleSet) -> Iterator[tuple[str, Any, str, str]]:
    """Every search query in the rules: (what, model, field, query text)."""
    for slug, monitor in rules.monitors.items():
        if monitor.search is not None:
            yield f"monitor '{slug}'", monitor, "search", monitor.search
    for slug, pipeline in rules.pipelines.items():
        yield f"pipeline '{slug}'", pipeline, "filter", pipeline.filter
        for processor, _ in pipeline.all_processors():
            if isinstance(processor, NestedPipeline):
                yield f"pipeline '{slug}' nested pipeline '{processor.name}'", processor, "filter", processor.filter
            for category in getattr(processor, "categories", ()):
                yield f"pipeline '{slug}' category '{category.name}'", category, "filter", category.filter
    for name, index in rules.indexes.items():
        yield f"index '{name}'", index, "filter", index.filter
        for exclusion in index.exclusion_filters:
            yield f"index '{name}' exclusion '{exclusion.name}'", exclusion, "filter", exclusion.filter
    for name, metric in rules.metrics.items():
        yield f"metric '{name}'", metric, "filter", metric.filter
    for slug, archive in rules.archives.items():
        yield f"archive '{slug}'", archive, "query", archive.query
    if rules.sensitive_data is not None:
        yield "sensitive data scanner", rules.sensitive_data, "filter", rules.sensitive_data.filter


def section_mapping(rules: RuleSet, section: str) -> Mapping[str, Any]:
    mapping: Mapping[str, Any] = getattr(rules, section)
    return mapping
