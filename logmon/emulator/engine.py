"""The emulator as one object: a raw JSON log in, a processed LogRecord and its index decision out.

Preprocessing, then every pipeline whose filter matches, then the Sensitive Data Scanner's group (scanning
happens at intake, "before indexing and other routing decisions"), then index routing. Each pipeline and
the scanner group is a stage: a filter and compiled steps, each step a `(record) -> None` callable.
`process_traced` runs the same steps and records what each one changed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import xxhash

from logmon.emulator.grok.compiler import GrokCompileError
from logmon.emulator.preprocess import preprocess
from logmon.emulator.processors import Predicate, Step, UnsupportedExpression, compile_processor
from logmon.emulator.scanner import ScannerGroup, ScannerRuleInvalid, compile_rule
from logmon.emulator.trace import StepLabel, TraceEntry, traced
from logmon.logrecord import MISSING, RESERVED_ATTRIBUTES, LogRecord
from logmon.rules.loader import RuleSet
from logmon.rules.model import Processor

UNIFIED_SERVICE_TAGS: Mapping[str, str] = {
    "env": "env",
    "service": "service",
    "version": "version",
    "cluster": "kube_cluster_name",
}
"""Logger field → the tag the agent attaches. Pods carry the `tags.datadoghq.com/*` labels of unified service
tagging with the same values the logger writes, so the agent tags each log with them."""


@dataclass(frozen=True, slots=True)
class IndexDecision:
    index: str | None
    """The first index whose filter matches; None when no index takes the log."""
    exclusion: str | None = None
    """The first enabled exclusion filter of that index that matches the log."""
    sample_rate: float = 0.0
    """The fraction of such logs excluded (1.0: all of them)."""
    flex_only: bool = False
    sample_attribute: str | None = None
    """When set, sampling is decided per value of this attribute (`@correlation_id`)."""

    @property
    def may_be_indexed(self) -> bool:
        """The log can reach an index's searchable standard tier (monitors only see these)."""
        # Datadog does not sample a log that lacks the sample attribute, so even a filter excluding 100 %
        # leaves such logs indexed.
        return (
            self.index is not None
            and not self.flex_only
            and (self.sample_rate < 1.0 or self.sample_attribute is not None)
        )

    def kept(self, record: LogRecord, fallback_key: bytes) -> bool:
        """Whether this log survives exclusion sampling, decided reproducibly.

        With a sample attribute, the decision hashes the attribute's value, so every log of one request
        shares it; a log without the attribute is not sampled. Otherwise it hashes `fallback_key`.
        """
        if self.index is None:
            return False
        if self.sample_rate <= 0.0:
            return True
        if self.sample_attribute is not None:
            value = sample_value(record, self.sample_attribute)
            if value is MISSING or value is None:
                return True
            fallback_key = str(value).encode()
        return self.kept_key(fallback_key)

    def kept_key(self, key: bytes) -> bool:
        """Whether a log whose sampling key is `key` survives this index's exclusion sampling: kept when the
        key's 64-bit XXH3 hash, read as a fraction of 2**64, reaches the sample rate."""
        return xxhash.xxh3_64_intdigest(key) >= self.kept_from

    @property
    def kept_from(self) -> int:
        """The smallest sampling hash that keeps a log (`kept_key`): 2**64, above every hash, at a rate of 1
        or more; 0 at a rate of 0 or less."""
        if self.sample_rate >= 1.0:
            return 2**64
        if self.sample_rate <= 0.0:
            return 0
        return _kept_from(self.sample_rate)


@functools.cache
def _kept_from(rate: float) -> int:
    """The smallest 64-bit hash `h` with `h / 2**64 >= rate`: comparing hashes with it decides exactly as the
    float comparison would, without a division per log."""
    low, high = 0, 2**64 - 1  # rate < 1, and (2**64 - 1) / 2**64 rounds to 1.0, so `high` always qualifies
    while low < high:
        middle = (low + high) // 2
        if middle / 2**64 >= rate:
            high = middle
        else:
            low = middle + 1
    return low


def sample_value(record: LogRecord, attribute: str) -> Any:
    """The value an exclusion filter samples by: the attribute at that path, or, for `trace_id` and the
    other reserved attributes, the log's own (Datadog's index docs sample by "Trace ID" once a trace ID
    remapper has set it). MISSING when the log has neither."""
    path = attribute.removeprefix("@")
    value = record.get(path)
    if value is MISSING and path in RESERVED_ATTRIBUTES:
        return getattr(record, path) or MISSING
    return value


def _never(record: LogRecord) -> bool:
    return False


def _compiled(processor: Processor, compile_filter: Callable[[str], Predicate], lenient: bool) -> Step | None:
    try:
        return compile_processor(processor, compile_filter)
    except (UnsupportedExpression, GrokCompileError):
        if lenient:
            return None
        raise


@dataclass(frozen=True, slots=True)
class _CompiledIndex:
    name: str
    matches: Predicate
    flex_only: bool
    exclusions: tuple[tuple[str, Predicate, float, str | None], ...]


class Emulator:
    """Preprocessing, pipelines in order, and index routing for one rule set, compiled once."""

    def __init__(
        self,
        rules: RuleSet,
        compile_filter: Callable[[str], Predicate] | None = None,
        *,
        source: str = "python",
        host: str = "",
        tag_fields: Mapping[str, str] = UNIFIED_SERVICE_TAGS,
        lenient: bool = False,
    ) -> None:
        """`lenient` (for lint, which reports the problems itself): a filter that does not parse matches
        nothing and a processor that cannot be compiled is skipped, instead of raising."""
        if compile_filter is None:
            from logmon.search import SearchSyntaxError, compile_query, parse

            def compile_filter(text: str) -> Predicate:
                try:
                    return compile_query(parse(text))
                except SearchSyntaxError:
                    if lenient:
                        return _never
                    raise

        self._source = source
        self._host = host
        self._tag_fields = tuple(tag_fields.items())
        self._stages: list[tuple[Predicate, list[Step]]] = []
        """Pipelines in order, then the scanner group: what every log goes through."""
        self._traced: list[tuple[Predicate, list[tuple[StepLabel, Step]]]] = []
        """The same steps with what each one is, for traces; the scanner group there runs rule by rule."""
        for slug, pipeline in rules.pipelines.items():
            if not pipeline.enabled:
                continue
            labelled = []
            for position, processor in enumerate(pipeline.processors, start=1):
                step = _compiled(processor, compile_filter, lenient)
                if step is not None:
                    label = StepLabel("pipeline", slug, position, processor.type, processor.name or None)
                    labelled.append((label, step))
            matches = compile_filter(pipeline.filter)
            self._stages.append((matches, [step for _, step in labelled]))
            self._traced.append((matches, labelled))
        scanner = rules.sensitive_data
        if scanner is not None:
            compiled_rules = []
            for slug in scanner.rules:
                try:
                    compiled = compile_rule(scanner, slug)
                except ScannerRuleInvalid:
                    if lenient:
                        continue
                    raise
                if compiled is not None:
                    compiled_rules.append(compiled)
            matches = compile_filter(scanner.filter)
            self._stages.append((matches, [ScannerGroup(compiled_rules)]))
            self._traced.append(
                (
                    matches,
                    [
                        (StepLabel("scanner", None, rule.slug, "sensitive_data_rule", rule.name), rule)
                        for rule in compiled_rules
                    ],
                )
            )
        self._indexes = [
            _CompiledIndex(
                name,
                compile_filter(index.filter),
                index.flex_only,
                tuple(
                    (
                        exclusion.name,
                        compile_filter(exclusion.filter),
                        exclusion.sample_rate,
                        exclusion.sample_attribute,
                    )
                    for exclusion in index.exclusion_filters
                    if exclusion.enabled
                ),
            )
            for name, index in rules.indexes.items()
        ]

    def agent_tags(self, raw: Mapping[str, Any]) -> list[str]:
        return [f"{tag}:{raw[field]}" for field, tag in self._tag_fields if isinstance(raw.get(field), str)]

    def process(self, raw: MutableMapping[str, Any]) -> LogRecord:
        """A raw JSON log (consumed) through preprocessing, every pipeline whose filter matches, and the
        scanner."""
        record = preprocess(raw, tags=self.agent_tags(raw), source=self._source, host=self._host)
        for matches, steps in self._stages:
            if matches(record):
                for step in steps:
                    step(record)
        return record

    def process_traced(self, raw: MutableMapping[str, Any]) -> tuple[LogRecord, list[TraceEntry]]:
        """`process`, with what preprocessing and each processor or scanner rule changed, in order."""
        return traced(
            raw,
            lambda document: preprocess(document, tags=self.agent_tags(document), source=self._source, host=self._host),
            self._traced,
        )

    def route(self, record: LogRecord) -> IndexDecision:
        for index in self._indexes:
            if index.matches(record):
                for name, matches, rate, attribute in index.exclusions:
                    if matches(record):
                        return IndexDecision(index.name, name, rate, index.flex_only, attribute)
                return IndexDecision(index.name, None, 0.0, index.flex_only)
        return IndexDecision(None)
