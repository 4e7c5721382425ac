"""Grok parsers: every rule compiles, every sample parses, and Datadog's grok limits hold.

Datadog's pipeline editor shows whether each sample matches; its API accepts rules it cannot use and
samples no rule matches, so these are only found after apply. Limits: "Add up to five sample logs (up to
5000 characters each)" and "As a best practice, limit your grok parser to 10 parsing rules"
(DataDog/documentation `logs/log_configuration/processors/grok_parser.md`); the API's grok parser model
allows at most 5 samples (datadog-api-client `LogsGrokParser`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from logmon.diagnostics import Finding, Severity
from logmon.emulator.grok.compiler import GrokCompileError, GrokParser, compile_grok
from logmon.emulator.grok.syntax import parse_rules
from logmon.lint.context import LintContext, iter_paths
from logmon.lint.registry import check
from logmon.rules.model import GrokParser as GrokProcessor
from logmon.rules.model import Processor

MAX_SAMPLES: Final = 5
MAX_SAMPLE_CHARACTERS: Final = 5000
RECOMMENDED_MATCH_RULES: Final = 10


def _grok_processors(context: LintContext) -> Iterator[tuple[str, int, GrokProcessor]]:
    for slug, pipeline in context.rules.pipelines.items():
        for position, processor in enumerate(pipeline.processors, start=1):
            if isinstance(processor, GrokProcessor):
                yield slug, position, processor


def written_attributes(processor: Processor) -> set[str]:
    """The attribute paths a processor writes: its `target`, or for a grok parser what its rules extract from
    its samples (objects and their leaves)."""
    target = getattr(processor, "target", None)
    if isinstance(processor, GrokProcessor):
        parser = _compiled(processor)
        if isinstance(parser, GrokCompileError):
            return set()
        paths: set[str] = set()
        for sample in processor.samples:
            parsed = parser.parse(sample)
            if parsed is not None:
                paths.update(path for path, _ in iter_paths(parsed[1]))
        return paths
    if isinstance(target, str) and getattr(processor, "target_type", "attribute") == "attribute":
        return {target}
    return set()


def _about(slug: str, position: int) -> str:
    return f"pipeline '{slug}' processor {position} (grok parser)"


def _compiled(processor: GrokProcessor) -> GrokParser | GrokCompileError:
    try:
        return compile_grok(processor.match_rules, processor.support_rules)
    except GrokCompileError as error:
        return error


@check("pipeline/grok-invalid", Severity.ERROR, "every grok rule compiles in Datadog's dialect")
def grok_invalid(context: LintContext) -> Iterator[Finding]:
    for slug, position, processor in _grok_processors(context):
        result = _compiled(processor)
        if isinstance(result, GrokCompileError):
            yield grok_invalid.finding(
                processor.position_in(result.field, result.offset),
                f"{_about(slug, position)}: {result.message}",
                result.rule,
            )


@check("pipeline/grok-sample-unmatched", Severity.ERROR, "a match rule parses every sample of a grok parser")
def grok_sample_unmatched(context: LintContext) -> Iterator[Finding]:
    for slug, position, processor in _grok_processors(context):
        parser = _compiled(processor)
        if isinstance(parser, GrokCompileError):
            continue
        for index, sample in enumerate(processor.samples):
            if parser.parse(sample) is None:
                names = ", ".join(rule.name for rule in parser.rules)
                yield grok_sample_unmatched.finding(
                    processor.item_where("samples", index),
                    f"{_about(slug, position)}: sample {index + 1} matches none of "
                    f"its rules ({names}); a rule must match the whole text — fix the rule or the sample",
                    sample[:80],
                )


@check("pipeline/grok-samples-limit", Severity.ERROR, "a grok parser keeps at most 5 samples of 5000 characters")
def grok_samples_limit(context: LintContext) -> Iterator[Finding]:
    for slug, position, processor in _grok_processors(context):
        if len(processor.samples) > MAX_SAMPLES:
            yield grok_samples_limit.finding(
                processor.item_where("samples", MAX_SAMPLES),
                f"{_about(slug, position)} has {len(processor.samples)} samples; "
                f"Datadog keeps at most {MAX_SAMPLES}: move the others to rule tests",
                processor.samples[MAX_SAMPLES][:80],
            )
        for index, sample in enumerate(processor.samples):
            if len(sample) > MAX_SAMPLE_CHARACTERS:
                yield grok_samples_limit.finding(
                    processor.item_where("samples", index),
                    f"{_about(slug, position)}: sample {index + 1} has {len(sample)} "
                    f"characters; Datadog keeps samples of at most {MAX_SAMPLE_CHARACTERS}",
                    sample[:80],
                )


@check("pipeline/grok-rule-count", Severity.WARNING, "a grok parser has at most 10 match rules (Datadog's advice)")
def grok_rule_count(context: LintContext) -> Iterator[Finding]:
    for slug, position, processor in _grok_processors(context):
        try:
            rules = parse_rules(processor.match_rules)
        except ValueError:
            continue
        if len(rules) > RECOMMENDED_MATCH_RULES:
            extra = rules[RECOMMENDED_MATCH_RULES]
            yield grok_rule_count.finding(
                processor.position_in("match_rules", extra.offset),
                f"{_about(slug, position)} has {len(rules)} match rules; Datadog advises "
                f"at most {RECOMMENDED_MATCH_RULES} per parser: split it by a pipeline filter or a second parser",
                extra.name,
            )
