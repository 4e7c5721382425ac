"""The provider's processor blocks for the structuring and enrichment processors and nested pipelines.

The provider declares every processor block twice: once for a pipeline (`LogsCustomPipelineProcessor…Args`)
and once for a nested pipeline (`LogsCustomPipelineProcessorPipelineProcessor…Args`), with the same fields.
A nested pipeline's processors are built as top-level blocks and then converted class by class, so each
processor is written once here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi_datadog as datadog

from logmon.rules import model

ProcessorArgs = Callable[[model.Processor], datadog.LogsCustomPipelineProcessorArgs]

TOP_LEVEL = "LogsCustomPipelineProcessor"
NESTED = "LogsCustomPipelineProcessorPipelineProcessor"


def enrichment_processor_args(
    processor: model.Processor, common: dict[str, Any], processor_args: ProcessorArgs
) -> datadog.LogsCustomPipelineProcessorArgs:
    """One processor of `logmon/emulator/enrichers.py` as the provider's block; `processor_args` renders
    a nested pipeline's processors."""
    if isinstance(processor, model.SpanIdRemapper):
        return datadog.LogsCustomPipelineProcessorArgs(
            span_id_remapper=datadog.LogsCustomPipelineProcessorSpanIdRemapperArgs(sources=processor.sources, **common)
        )
    if isinstance(processor, model.UrlParser):
        return datadog.LogsCustomPipelineProcessorArgs(
            url_parser=datadog.LogsCustomPipelineProcessorUrlParserArgs(
                sources=processor.sources,
                target=processor.target,
                normalize_ending_slashes=processor.normalize_ending_slashes,
                **common,
            )
        )
    if isinstance(processor, model.UserAgentParser):
        return datadog.LogsCustomPipelineProcessorArgs(
            user_agent_parser=datadog.LogsCustomPipelineProcessorUserAgentParserArgs(
                sources=processor.sources, target=processor.target, is_encoded=processor.is_encoded, **common
            )
        )
    if isinstance(processor, model.StringBuilderProcessor):
        return datadog.LogsCustomPipelineProcessorArgs(
            string_builder_processor=datadog.LogsCustomPipelineProcessorStringBuilderProcessorArgs(
                template=processor.template,
                target=processor.target,
                is_replace_missing=processor.is_replace_missing,
                **common,
            )
        )
    if isinstance(processor, model.ArrayProcessor):
        return datadog.LogsCustomPipelineProcessorArgs(
            array_processor=datadog.LogsCustomPipelineProcessorArrayProcessorArgs(
                operation=_array_operation(processor.operation), **common
            )
        )
    if isinstance(processor, model.DecoderProcessor):
        return datadog.LogsCustomPipelineProcessorArgs(
            decoder_processor=datadog.LogsCustomPipelineProcessorDecoderProcessorArgs(
                source=processor.source,
                target=processor.target,
                binary_to_text_encoding=processor.binary_to_text_encoding,
                input_representation=processor.input_representation,
                **common,
            )
        )
    if isinstance(processor, model.ExcludeAttributeProcessor):
        return datadog.LogsCustomPipelineProcessorArgs(
            exclude_attribute_processor=datadog.LogsCustomPipelineProcessorExcludeAttributeProcessorArgs(
                attribute_to_exclude=processor.attribute_to_exclude, **common
            )
        )
    if isinstance(processor, model.GeoIpParser):
        return datadog.LogsCustomPipelineProcessorArgs(
            geo_ip_parser=datadog.LogsCustomPipelineProcessorGeoIpParserArgs(
                sources=processor.sources, target=processor.target, **common
            )
        )
    if isinstance(processor, model.ReferenceTableLookupProcessor):
        return datadog.LogsCustomPipelineProcessorArgs(
            reference_table_lookup_processor=datadog.LogsCustomPipelineProcessorReferenceTableLookupProcessorArgs(
                source=processor.source,
                target=processor.target,
                lookup_enrichment_table=processor.lookup_enrichment_table,
                **common,
            )
        )
    if isinstance(processor, model.ArrayMapProcessor):
        return datadog.LogsCustomPipelineProcessorArgs(
            array_map_processor=datadog.LogsCustomPipelineProcessorArrayMapProcessorArgs(
                source=processor.source,
                target=processor.target,
                preserve_source=processor.preserve_source,
                processors=[_array_map_step(inner) for inner in processor.processors],
                **common,
            )
        )
    if isinstance(processor, model.NestedPipeline):
        return datadog.LogsCustomPipelineProcessorArgs(
            pipeline=datadog.LogsCustomPipelineProcessorPipelineArgs(
                name=processor.name,
                is_enabled=processor.enabled,
                filters=[datadog.LogsCustomPipelineProcessorPipelineFilterArgs(query=processor.filter)],
                processors=[_nested_block(processor_args(inner)) for inner in processor.processors],
            )
        )
    raise TypeError(f"no provider block for {type(processor).__name__}")


def _array_operation(operation: Any) -> datadog.LogsCustomPipelineProcessorArrayProcessorOperationArgs:
    if isinstance(operation, model.ArraySelect):
        return datadog.LogsCustomPipelineProcessorArrayProcessorOperationArgs(
            select=datadog.LogsCustomPipelineProcessorArrayProcessorOperationSelectArgs(
                source=operation.source,
                target=operation.target,
                filter=operation.filter,
                value_to_extract=operation.value_to_extract,
            )
        )
    if isinstance(operation, model.ArrayLength):
        return datadog.LogsCustomPipelineProcessorArrayProcessorOperationArgs(
            length=datadog.LogsCustomPipelineProcessorArrayProcessorOperationLengthArgs(
                source=operation.source, target=operation.target
            )
        )
    if isinstance(operation, model.ArrayAppend):
        return datadog.LogsCustomPipelineProcessorArrayProcessorOperationArgs(
            append=datadog.LogsCustomPipelineProcessorArrayProcessorOperationAppendArgs(
                source=operation.source, target=operation.target, preserve_source=operation.preserve_source
            )
        )
    assert isinstance(operation, model.ArrayKeyValue)
    return datadog.LogsCustomPipelineProcessorArrayProcessorOperationArgs(
        key_value=datadog.LogsCustomPipelineProcessorArrayProcessorOperationKeyValueArgs(
            source=operation.source,
            key_to_extract=operation.key_to_extract,
            value_to_extract=operation.value_to_extract,
            target=operation.target,
            override_on_conflict=operation.override_on_conflict,
        )
    )


def _array_map_step(processor: model.ArrayMapStep) -> datadog.LogsCustomPipelineProcessorArrayMapProcessorProcessorArgs:
    """An array map's sub-processor: the provider's sub-blocks take a name but no `is_enabled`."""
    name = processor.name or processor.type.replace("_", " ")
    if isinstance(processor, model.AttributeRemapper):
        return datadog.LogsCustomPipelineProcessorArrayMapProcessorProcessorArgs(
            attribute_remapper=datadog.LogsCustomPipelineProcessorArrayMapProcessorProcessorAttributeRemapperArgs(
                name=name,
                sources=processor.sources,
                target=processor.target,
                target_format=None if processor.target_format == "auto" else processor.target_format,
                preserve_source=processor.preserve_source,
                override_on_conflict=processor.override_on_conflict,
            )
        )
    if isinstance(processor, model.StringBuilderProcessor):
        return datadog.LogsCustomPipelineProcessorArrayMapProcessorProcessorArgs(
            string_builder_processor=datadog.LogsCustomPipelineProcessorArrayMapProcessorProcessorStringBuilderProcessorArgs(
                name=name,
                template=processor.template,
                target=processor.target,
                is_replace_missing=processor.is_replace_missing,
            )
        )
    if isinstance(processor, model.ArithmeticProcessor):
        return datadog.LogsCustomPipelineProcessorArrayMapProcessorProcessorArgs(
            arithmetic_processor=datadog.LogsCustomPipelineProcessorArrayMapProcessorProcessorArithmeticProcessorArgs(
                name=name,
                expression=processor.expression,
                target=processor.target,
                is_replace_missing=processor.is_replace_missing,
            )
        )
    return datadog.LogsCustomPipelineProcessorArrayMapProcessorProcessorArgs(
        category_processor=datadog.LogsCustomPipelineProcessorArrayMapProcessorProcessorCategoryProcessorArgs(
            name=name,
            target=processor.target,
            categories=[
                datadog.LogsCustomPipelineProcessorArrayMapProcessorProcessorCategoryProcessorCategoryArgs(
                    name=category.name,
                    filter=datadog.LogsCustomPipelineProcessorArrayMapProcessorProcessorCategoryProcessorCategoryFilterArgs(
                        query=category.filter
                    ),
                )
                for category in processor.categories
            ],
        )
    )


def _nested_block(block: Any) -> Any:
    """A top-level processor block (and everything in it) as the same block of a nested pipeline."""
    if isinstance(block, list):
        return [_nested_block(item) for item in block]
    name = type(block).__name__
    if not name.startswith(TOP_LEVEL) or not hasattr(block, "__dict__"):
        return block
    if name.startswith(f"{TOP_LEVEL}Pipeline"):
        # Datadog allows one level: lint's `pipeline/nesting` refuses this before anything is rendered.
        raise ValueError("a nested pipeline cannot hold another pipeline")
    nested_class = getattr(datadog, NESTED + name.removeprefix(TOP_LEVEL))
    return nested_class(**{key: _nested_block(value) for key, value in vars(block).items()})
