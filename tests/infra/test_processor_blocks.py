"""Every processor the rules accept renders to the provider's block and loads into Datadog's API model."""

from __future__ import annotations

import textwrap
from typing import Any

import pulumi_datadog as datadog
import pytest

from infra.components.datadog_logs import processor_args
from infra.components.processor_blocks import _nested_block
from logmon.plan import datadog as datadog_artefacts
from logmon.plan.recorder import record
from logmon.rules.loader import RuleSet, rules_from_text

RULES = """
    pipelines:
      everything:
        name: every processor
        filter: "source:nginx"
        processors:
          - {type: span_id_remapper, sources: [dd.span_id]}
          - {type: url_parser, sources: [http.url], target: http.url_details, normalize_ending_slashes: true}
          - {type: user_agent_parser, sources: [http.useragent], is_encoded: true}
          - {type: string_builder_processor, template: "%{http.method} %{http.url}", target: request}
          - type: array_processor
            operation:
              {type: select, source: headers, filter: "name:Referrer", value_to_extract: value, target: referrer}
          - {type: array_processor, operation: {type: length, source: tags, target: tag_count}}
          - {type: array_processor, operation: {type: append, source: network.client.ip, target: ips}}
          - type: array_processor
            operation: {type: key_value, source: kv, key_to_extract: k, value_to_extract: v, target: extracted}
          - {type: decoder_processor, source: b64, target: decoded, binary_to_text_encoding: base64}
          - type: decoder_processor
            source: hex
            target: number
            binary_to_text_encoding: base16
            input_representation: integer
          - {type: exclude_attribute_processor, attribute_to_exclude: http.response.body}
          - {type: geo_ip_parser}
          - {type: reference_table_lookup_processor, source: usr.id, target: usr.team, lookup_enrichment_table: users}
          - type: array_map_processor
            source: connections
            target: network.connections
            processors:
              - {type: attribute_remapper, sources: [$sourceElem.src_ip], target: $targetElem.source}
              - {type: string_builder_processor, template: "%{$sourceElem.proto}", target: $targetElem.service}
              - {type: arithmetic_processor, expression: "$sourceElem.bytes / 1024", target: $targetElem.kb}
              - type: category_processor
                target: $targetElem.severity
                categories: [{name: high, filter: "@$sourceElem.status:critical"}]
          - type: pipeline
            name: nested
            filter: "service:web"
            processors:
              - {type: url_parser}
              - {type: string_builder_processor, template: "%{a}", target: b}
              - {type: status_remapper, sources: [level]}
              - {type: array_processor, operation: {type: length, source: tags, target: tag_count}}
              - type: array_map_processor
                source: items
                target: items
                processors: [{type: string_builder_processor, template: "%{region}", target: $targetElem.region}]
"""


def rules() -> RuleSet:
    return rules_from_text(textwrap.dedent(RULES), "pipelines.yaml")


def recorded_pipeline() -> dict[str, Any]:
    pipeline = rules().pipelines["everything"]

    def program() -> None:
        datadog.LogsCustomPipeline(
            "pipeline-everything",
            name=pipeline.name,
            filters=[datadog.LogsCustomPipelineFilterArgs(query=pipeline.filter)],
            processors=[processor_args(p) for p in pipeline.processors],
        )

    recording = record(program, config={}, project="logmon", stack="dev")
    (resource,) = recording.of_type(datadog_artefacts.PIPELINE)
    return datadog_artefacts.pipeline_document(resource.inputs)


class TestProcessorBlocks:
    def test_every_processor_loads_into_the_api_model(self) -> None:
        """The rendered pipeline, nested pipeline included, loads into LogsPipeline without a problem."""
        document = recorded_pipeline()
        problems = datadog_artefacts.validate(document, datadog_artefacts.DOCUMENTS[datadog_artefacts.PIPELINE][2])
        assert problems == []
        types = [processor["type"] for processor in document["processors"]]
        assert types[-1] == "pipeline"
        assert {"url-parser", "user-agent-parser", "array-map-processor", "decoder-processor", "geo-ip-parser"} <= set(
            types
        )

    def test_array_operations_carry_the_api_type(self) -> None:
        """Each array operation is sent with the operation type the API expects."""
        operations = [p["operation"]["type"] for p in recorded_pipeline()["processors"] if "operation" in p]
        assert operations == ["select", "length", "append", "key-value"]

    def test_nested_processors_use_the_nested_blocks(self) -> None:
        """A nested pipeline's processors are the provider's nested-pipeline classes, with the same fields."""
        nested = rules().pipelines["everything"].processors[-1]
        block = processor_args(nested).pipeline
        assert block is not None
        inner = block.processors[0]
        assert type(inner).__name__ == "LogsCustomPipelineProcessorPipelineProcessorArgs"
        assert type(inner.url_parser).__name__ == "LogsCustomPipelineProcessorPipelineProcessorUrlParserArgs"
        assert inner.url_parser.sources == ["http.url"]

    def test_a_pipeline_inside_a_nested_pipeline_is_refused(self) -> None:
        """Datadog allows one level of nesting, so rendering a deeper one fails loudly."""
        nested = rules().pipelines["everything"].processors[-1]
        with pytest.raises(ValueError, match="cannot hold another pipeline"):
            _nested_block(processor_args(nested))

    def test_non_blocks_pass_through(self) -> None:
        """Plain values inside a block are kept as they are."""
        assert _nested_block(["a", 1]) == ["a", 1]
