"""What every check needs, computed once and only when asked for.

The logger's catalogue gives the events; each catalogue sample is rendered by the real logger and run
through the pipeline emulator, so checks compare queries with the attributes that logs really have in
Datadog, after the pipelines have renamed them.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final, TypeVar

from logmon.diagnostics import Location
from logmon.emulator import Emulator, IndexDecision
from logmon.emulator.engine import UNIFIED_SERVICE_TAGS
from logmon.emulator.preprocess import fold_dotted_keys
from logmon.lint.plausible import Plausibility
from logmon.logrecord import LogRecord
from logmon.rules.loader import RuleSet, iter_queries
from logmon.rules.model import Monitor, RuleModel
from logmon.search import FieldKind, FieldRef, Query, SearchSyntaxError, compile_query, parse, required_values
from logmon.search.monitor_query import parse_monitor_query

AGENT_TAG_KEYS: Final = frozenset(
    {
        *UNIFIED_SERVICE_TAGS.values(),
        "host",
        "source",
        "kube_namespace",
        "kube_deployment",
        "kube_daemon_set",
        "kube_stateful_set",
        "kube_replica_set",
        "kube_job",
        "kube_cronjob",
        "kube_service",
        "kube_container_name",
        "kube_node",
        "container_name",
        "container_id",
        "pod_name",
        "pod_phase",
        "image_name",
        "image_tag",
        "short_image",
    }
)
"""Tags the agent attaches to container logs; a bare `key:value` on these is a correct tag search."""

PLAIN_LINE_LEVELS = ("debug", "info", "warning", "error", "critical")
SAMPLE_CORRELATION_ID = "0b6f7c1e-2d4a-4c8e-9f31-5a7d2e8b9c40"
_TRACER = "\x00logmon-trace\x00"
T = TypeVar("T")


@dataclass(frozen=True)
class QuerySite:
    """A search query as written in the rules, parsed (or not)."""

    what: str
    model: RuleModel
    field: str
    text: str
    query: Query | None
    error: SearchSyntaxError | None
    stage: str
    """`post` for queries Datadog evaluates after the pipelines; `either` where the attributes may be as the
    logger wrote them or as the pipelines left them (pipeline filters, the sensitive data scanner)."""
    base_offset: int = 0
    """Where `text` starts inside the field (a search inside a complete monitor query)."""

    def location(self, offset: int = 0) -> Location:
        return self.model.position_in(self.field, self.base_offset + offset)


@dataclass(frozen=True)
class Sample:
    """One catalogue event (or plain line) as the logger writes it and as Datadog holds it."""

    event_type: str | None
    level: str
    always_keep: bool
    raw: dict[str, Any]
    record: LogRecord
    decision: IndexDecision


@dataclass
class FieldInfo:
    path: str
    types: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)
    allowed: set[Any] | None = None
    """Every value the field can take, when the catalogue fixes them; None when open."""
    origins: set[str] = field(default_factory=set)
    """The logger fields that end up here."""


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def iter_paths(document: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every attribute path in a document, objects included, descending into arrays of objects."""
    for key, value in document.items():
        path = f"{prefix}{key}"
        yield path, value
        if isinstance(value, Mapping):
            yield from iter_paths(value, path + ".")
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    yield from iter_paths(item, path + ".")


def _complete_query_site(what: str, monitor: Monitor) -> QuerySite:
    """The search inside a monitor written as a complete `logs(...)` query."""
    assert monitor.query is not None
    try:
        search = parse_monitor_query(monitor.query).search
    except SearchSyntaxError as error:
        return QuerySite(what, monitor, "query", monitor.query, None, error, "post")
    start = monitor.query.find("(") + 2
    try:
        return QuerySite(what, monitor, "query", search, parse(search), None, "post", start)
    except SearchSyntaxError as error:
        return QuerySite(what, monitor, "query", search, None, error, "post", start)


class LintContext:
    def __init__(
        self,
        rules: RuleSet,
        catalogue: Mapping[str, Any] | None = None,
        environment_handles: Sequence[str] = (),
    ) -> None:
        self.rules = rules
        self._catalogue = catalogue
        self.environment_handles = tuple(environment_handles)
        self._possible: dict[str, list[Sample]] = {}
        self._analyses: dict[tuple[str, str, str], Any] = {}

    @cached_property
    def catalogue(self) -> Mapping[str, Any]:
        if self._catalogue is not None:
            return self._catalogue
        from paylog.catalogue import CATALOGUE

        return CATALOGUE

    @cached_property
    def emulator(self) -> Emulator:
        return Emulator(self.rules, lenient=True)

    @cached_property
    def queries(self) -> list[QuerySite]:
        sites = []
        for what, model, field_name, text in iter_queries(self.rules):
            stage = "either" if what.startswith(("pipeline", "sensitive")) else "post"
            try:
                sites.append(QuerySite(what, model, field_name, text, parse(text), None, stage))
            except SearchSyntaxError as error:
                sites.append(QuerySite(what, model, field_name, text, None, error, stage))
        for slug, monitor in self.rules.monitors.items():
            if monitor.query is not None:
                sites.append(_complete_query_site(f"monitor '{slug}'", monitor))
        return sites

    @cached_property
    def _sites_by_model(self) -> dict[int, QuerySite]:
        return {id(site.model): site for site in reversed(self.queries)}

    def site_of(self, model: RuleModel) -> QuerySite | None:
        """The query a monitor, metric or filter searches with."""
        return self._sites_by_model.get(id(model))

    @cached_property
    def plausibility(self) -> Plausibility:
        @functools.cache
        def is_closed(field: FieldRef) -> bool:
            if field.kind is FieldKind.RESERVED:
                return field.path == "status"
            if field.kind is FieldKind.TAG:
                # The agent adds no tag named like a logger field: `event_type:x` as a tag never matches.
                return field.path in self.logger_field_names and field.path not in AGENT_TAG_KEYS
            if field.kind is not FieldKind.ATTRIBUTE:
                return False
            info = self.fields.get(field.path)
            return field.path == "event_type" or (
                info is not None and (info.types == {"boolean"} or self.allowed_values(field.path) is not None)
            )

        def always_present(record: LogRecord, path: str) -> bool:
            event = record.attributes.get("event_type")
            return isinstance(event, str) and path in self._always_present.get(event, set())

        return Plausibility(is_closed, always_present)

    @cached_property
    def _always_present(self) -> dict[str, set[str]]:
        """Per event type, the attributes every one of its samples has after the pipelines."""
        present: dict[str, set[str]] = {}
        for sample in self.samples:
            if sample.event_type is None:
                continue
            paths = {path for path, _ in iter_paths(sample.record.attributes)}
            present[sample.event_type] = present[sample.event_type] & paths if sample.event_type in present else paths
        return present

    def possible_samples(self, model: RuleModel) -> list[Sample] | None:
        """The samples a log like which the model's query could match, given the values the catalogue leaves
        open (any currency, any status code); None when the query does not parse."""
        site = self.site_of(model)
        if site is None or site.query is None:
            return None
        # The answer depends on the query alone, and large rule sets repeat the same searches.
        text = site.query.text
        if text not in self._possible:
            self._possible[text] = self._possible_samples(site.query)
        return self._possible[text]

    def _possible_samples(self, query: Query) -> list[Sample]:
        matcher = compile_query(query)
        event_types = required_values(query, "event_type")
        candidates = self.samples if event_types is None else [s for s in self.samples if s.event_type in event_types]
        return [s for s in candidates if matcher(s.record) or self.plausibility(query.root, s.record) is not False]

    def per_query(self, name: str, site: QuerySite, analyse: Callable[[Query], T]) -> T:
        """`analyse(site.query)`, computed once per distinct query text and stage: what a check learns from a
        query's text does not depend on where the query is written, only the findings' positions do."""
        assert site.query is not None
        key = (name, site.stage, site.query.text)
        if key not in self._analyses:
            self._analyses[key] = analyse(site.query)
        result: T = self._analyses[key]
        return result

    @cached_property
    def samples(self) -> list[Sample]:
        """Every catalogue event in each variant, plain lines at each level, a failure, and a line with all
        the context fields a line may carry (trace IDs, schema violations), as the logger renders them."""
        from paylog.catalogue import BASE_FIELDS, iter_samples
        from paylog.render import render

        samples = []
        for name, spec in self.catalogue.items():
            for fields in iter_samples(spec):
                raw = render(name, fields, correlation_id=SAMPLE_CORRELATION_ID)
                samples.append(self._sample(name, spec.always_keep, raw))
        for level in PLAIN_LINE_LEVELS:
            raw = render(None, message=f"a plain {level} line", level=level)
            samples.append(self._sample(None, False, raw))
        try:
            raise RuntimeError("an example failure")
        except RuntimeError as error:
            raw = render(None, message="an operation failed", level="error", exc_info=error)
            samples.append(self._sample(None, False, raw))
        context_line = render(None, message="a line inside a traced request", level="info")
        for field_spec in BASE_FIELDS:
            context_line.setdefault(field_spec.name, field_spec.example)
        context_line.pop("event_type", None)
        samples.append(self._sample(None, False, context_line))
        return samples

    def _sample(self, event_type: str | None, always_keep: bool, raw: dict[str, Any]) -> Sample:
        record = self.emulator.process(copy.deepcopy(raw))
        return Sample(event_type, str(raw.get("level", "info")), always_keep, raw, record, self.emulator.route(record))

    @cached_property
    def fields(self) -> dict[str, FieldInfo]:
        """Attributes of every sample after the pipelines, with types, events and allowed values."""
        return self._collect((sample, sample.record.attributes) for sample in self.samples)

    @cached_property
    def raw_fields(self) -> dict[str, FieldInfo]:
        """Attributes as the logger writes them, before any pipeline."""
        return self._collect((sample, fold_dotted_keys(copy.deepcopy(sample.raw))) for sample in self.samples)

    def _collect(self, documents: Iterator[tuple[Sample, Mapping[str, Any]]]) -> dict[str, FieldInfo]:
        fields: dict[str, FieldInfo] = {}
        for sample, document in documents:
            for path, value in iter_paths(document):
                info = fields.setdefault(path, FieldInfo(path))
                info.types.add(json_type(value))
                info.events.add(sample.event_type or "")
        self._add_allowed_values(fields)
        return fields

    def _add_allowed_values(self, fields: dict[str, FieldInfo]) -> None:
        """Carry each catalogue field's allowed values to wherever the pipeline puts the field."""
        open_paths: set[str] = set()
        for name, spec in self.catalogue.items():
            for field_spec in spec.fields:
                for path in self.renamed.get((name, field_spec.name), (field_spec.name,)):
                    info = fields.get(path)
                    if info is None:
                        continue
                    info.origins.add(field_spec.name)
                    if field_spec.allowed is None:
                        open_paths.add(path)
                    else:
                        info.allowed = (info.allowed or set()) | set(field_spec.allowed)
        for path in open_paths:
            if path in fields:
                fields[path].allowed = None
        if "event_type" in fields:
            fields["event_type"].allowed = set(self.catalogue)

    @cached_property
    def renamed(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """(event, logger field) → the attribute paths the pipelines move it to, found by tracing a marker."""
        result: dict[tuple[str, str], tuple[str, ...]] = {}
        first_sample: dict[str, Sample] = {}
        for sample in self.samples:
            if sample.event_type is not None:
                first_sample.setdefault(sample.event_type, sample)
        for name, sample in first_sample.items():
            for field_spec in self.catalogue[name].fields:
                if field_spec.name not in sample.raw:
                    continue
                traced = copy.deepcopy(sample.raw)
                traced[field_spec.name] = _TRACER
                record = self.emulator.process(traced)
                result[(name, field_spec.name)] = tuple(
                    path for path, value in iter_paths(record.attributes) if value == _TRACER
                )
        return result

    @cached_property
    def event_allowed(self) -> dict[tuple[str, str], frozenset[Any] | None]:
        """(event, attribute path after the pipelines) → the values the catalogue allows; None when open."""
        result: dict[tuple[str, str], frozenset[Any] | None] = {}
        for name, spec in self.catalogue.items():
            for field_spec in spec.fields:
                allowed = frozenset(field_spec.allowed) if field_spec.allowed is not None else None
                for path in self.renamed.get((name, field_spec.name), (field_spec.name,)):
                    result[(name, path)] = allowed
        return result

    @cached_property
    def _allowed_by_path(self) -> dict[str, list[tuple[str, frozenset[Any] | None]]]:
        by_path: dict[str, list[tuple[str, frozenset[Any] | None]]] = {}
        for (event, field_path), allowed in self.event_allowed.items():
            by_path.setdefault(field_path, []).append((event, allowed))
        return by_path

    def allowed_values(self, path: str, events: set[str] | None = None) -> set[Any] | None:
        """Every value `@path` can take on the given events (all events when None); None when open."""
        if path == "event_type":
            return set(self.catalogue)
        values: set[Any] = set()
        found = False
        for event, allowed in self._allowed_by_path.get(path, ()):
            if events is not None and event not in events:
                continue
            if allowed is None:
                return None
            found = True
            values |= allowed
        return values if found else None

    def where_renamed(self, logger_field: str) -> set[str]:
        """Where the pipelines put a logger field, across events."""
        return {
            path
            for (_, field_name), paths in self.renamed.items()
            if field_name == logger_field
            for path in paths
            if path != logger_field
        }

    @cached_property
    def logger_field_names(self) -> set[str]:
        """Field names the logger writes: catalogue fields and the base fields every line may carry."""
        names = {f.name for spec in self.catalogue.values() for f in spec.fields}
        names.update(self.raw_fields)
        return names
