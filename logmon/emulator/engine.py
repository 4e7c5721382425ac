"""The emulator as one object: a raw JSON log in, a processed LogRecord and its index decision out."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from logmon.emulator.grok.compiler import GrokCompileError
from logmon.emulator.preprocess import preprocess
from logmon.emulator.processors import Predicate, Step, UnsupportedExpression, compile_processor
from logmon.logrecord import MISSING, LogRecord
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
            value = record.get(self.sample_attribute.removeprefix("@"))
            if value is MISSING or value is None:
                return True
            fallback_key = str(value).encode()
        if self.sample_rate >= 1.0:
            return False
        digest = int.from_bytes(hashlib.blake2b(fallback_key, digest_size=8).digest(), "big")
        return digest / 2**64 >= self.sample_rate


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
        self._pipelines: list[tuple[Predicate, list[Step]]] = []
        for pipeline in rules.pipelines.values():
            if not pipeline.enabled:
                continue
            steps = [
                step
                for processor in pipeline.processors
                if (step := _compiled(processor, compile_filter, lenient)) is not None
            ]
            self._pipelines.append((compile_filter(pipeline.filter), steps))
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
        """A raw JSON log (consumed) through preprocessing and every pipeline whose filter matches."""
        record = preprocess(raw, tags=self.agent_tags(raw), source=self._source, host=self._host)
        for matches, steps in self._pipelines:
            if matches(record):
                for step in steps:
                    step(record)
        return record

    def route(self, record: LogRecord) -> IndexDecision:
        for index in self._indexes:
            if index.matches(record):
                for name, matches, rate, attribute in index.exclusions:
                    if matches(record):
                        return IndexDecision(index.name, name, rate, index.flex_only, attribute)
                return IndexDecision(index.name, None, 0.0, index.flex_only)
        return IndexDecision(None)
