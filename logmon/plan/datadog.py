"""Datadog API documents from the recorded Pulumi inputs, and a strict check against the API's own models.

The provider's inputs (camelCase, Terraform-shaped) are mapped to the JSON the Datadog API takes, then
loaded into `datadog-api-client` models. Those models are lenient on purpose (an unknown enum value or
key is kept "unparsed" for forward compatibility), so the check walks the loaded model and reports
every unparsed value and unknown key as a problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from datadog_api_client.configuration import Configuration
from datadog_api_client.exceptions import OpenApiException
from datadog_api_client.model_utils import (
    ModelComposed,
    ModelNormal,
    ModelSimple,
    UnparsedObject,
    validate_and_convert_types,
)
from datadog_api_client.v1.model.logs_index import LogsIndex
from datadog_api_client.v1.model.logs_pipeline import LogsPipeline
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v2.model.logs_metric_create_request import LogsMetricCreateRequest

from logmon.plan.recorder import RecordedResource

MONITOR = "datadog:index/monitor:Monitor"
PIPELINE = "datadog:index/logsCustomPipeline:LogsCustomPipeline"
INDEX = "datadog:index/logsIndex:LogsIndex"
METRIC = "datadog:index/logsMetric:LogsMetric"

_PROCESSOR_TYPES = {
    "attributeRemapper": "attribute-remapper",
    "statusRemapper": "status-remapper",
    "serviceRemapper": "service-remapper",
    "dateRemapper": "date-remapper",
    "messageRemapper": "message-remapper",
    "traceIdRemapper": "trace-id-remapper",
    "categoryProcessor": "category-processor",
    "arithmeticProcessor": "arithmetic-processor",
    "lookupProcessor": "lookup-processor",
    "spanIdRemapper": "span-id-remapper",
    "urlParser": "url-parser",
    "userAgentParser": "user-agent-parser",
    "stringBuilderProcessor": "string-builder-processor",
    "arrayProcessor": "array-processor",
    "decoderProcessor": "decoder-processor",
    "excludeAttributeProcessor": "exclude-attribute",
    "geoIpParser": "geo-ip-parser",
    "referenceTableLookupProcessor": "lookup-processor",
    "pipeline": "pipeline",
    "arrayMapProcessor": "array-map-processor",
    "grokParser": "grok-parser",
}
_ARRAY_OPERATION_TYPES = {"keyValue": "key-value"}
"""The provider's array operation block → the API's operation `type`, where the two names differ."""


def _snake(name: str) -> str:
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in name)


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    return value


def _drop_none(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if value is not None}


def monitor_document(inputs: Mapping[str, Any]) -> dict[str, Any]:
    thresholds = {key: _number(value) for key, value in (inputs.get("monitorThresholds") or {}).items()}
    options = _drop_none(
        {
            "thresholds": thresholds or None,
            "require_full_window": inputs.get("requireFullWindow"),
            "on_missing_data": inputs.get("onMissingData"),
            "notify_no_data": inputs.get("notifyNoData"),
            "evaluation_delay": inputs.get("evaluationDelay"),
            "renotify_interval": inputs.get("renotifyInterval"),
            "include_tags": inputs.get("includeTags"),
            "enable_logs_sample": inputs.get("enableLogsSample"),
        }
    )
    return _drop_none(
        {
            "name": inputs.get("name"),
            "type": inputs.get("type"),
            "query": inputs.get("query"),
            "message": inputs.get("message"),
            "tags": inputs.get("tags"),
            "priority": _number(inputs.get("priority")),
            "options": options,
        }
    )


def _processor(block: Mapping[str, Any]) -> dict[str, Any]:
    (kind, body), *_ = block.items()
    document: dict[str, Any] = {"type": _PROCESSOR_TYPES.get(kind, kind)}
    for key, value in body.items():
        if key == "categories":
            document["categories"] = [{"name": c["name"], "filter": c["filter"]} for c in value]
        elif key == "lookupTables":
            document["lookup_table"] = value
        elif key == "operation":
            ((operation, fields),) = value.items()
            document["operation"] = {
                "type": _ARRAY_OPERATION_TYPES.get(operation, operation),
                **{_snake(name): item for name, item in fields.items()},
            }
        elif key == "filters":
            document["filter"] = value[0]
        elif key == "processors":
            document["processors"] = [_processor(inner) for inner in value]
        elif key == "grok":
            document["grok"] = {_snake(name): text for name, text in value.items()}
        else:
            document[_snake(key)] = value
    return document


def pipeline_document(inputs: Mapping[str, Any]) -> dict[str, Any]:
    filters = inputs.get("filters") or [{}]
    return _drop_none(
        {
            "name": inputs.get("name"),
            "is_enabled": inputs.get("isEnabled"),
            "filter": filters[0],
            "processors": [_processor(p) for p in inputs.get("processors") or []],
        }
    )


def index_document(inputs: Mapping[str, Any]) -> dict[str, Any]:
    filters = inputs.get("filters") or [{}]
    return _drop_none(
        {
            "name": inputs.get("name"),
            "filter": filters[0],
            "num_retention_days": inputs.get("retentionDays"),
            "num_flex_logs_retention_days": inputs.get("flexRetentionDays"),
            "daily_limit": inputs.get("dailyLimit"),
            "daily_limit_warning_threshold_percentage": inputs.get("dailyLimitWarningThresholdPercentage"),
            "exclusion_filters": [
                _drop_none(
                    {
                        "name": exclusion.get("name"),
                        "is_enabled": exclusion.get("isEnabled"),
                        "filter": _drop_none(
                            {
                                "query": (exclusion.get("filters") or [{}])[0].get("query"),
                                "sample_rate": (exclusion.get("filters") or [{}])[0].get("sampleRate"),
                                "sample_attribute": (exclusion.get("filters") or [{}])[0].get("sampleAttribute"),
                            }
                        ),
                    }
                )
                for exclusion in inputs.get("exclusionFilters") or []
            ],
        }
    )


def metric_document(inputs: Mapping[str, Any]) -> dict[str, Any]:
    compute = inputs.get("compute") or {}
    return {
        "data": {
            "id": inputs.get("name"),
            "type": "logs_metrics",
            "attributes": _drop_none(
                {
                    "compute": _drop_none(
                        {
                            "aggregation_type": compute.get("aggregationType"),
                            "path": compute.get("path"),
                            "include_percentiles": compute.get("includePercentiles"),
                        }
                    ),
                    "filter": inputs.get("filter"),
                    "group_by": [
                        {"path": group.get("path"), "tag_name": group.get("tagName")}
                        for group in inputs.get("groupBies") or []
                    ]
                    or None,
                }
            ),
        }
    }


DOCUMENTS: dict[str, tuple[str, Any, type[ModelNormal]]] = {
    MONITOR: ("monitors", monitor_document, Monitor),
    PIPELINE: ("pipelines", pipeline_document, LogsPipeline),
    INDEX: ("indexes", index_document, LogsIndex),
    METRIC: ("metrics", metric_document, LogsMetricCreateRequest),
}
"""Recorded type → (artefact folder, converter, API model it must load into)."""


def documents(
    resources: Iterable[RecordedResource],
) -> list[tuple[str, str, dict[str, Any], type[ModelNormal]]]:
    """(folder, resource name, API document, model) for every Datadog resource the API documents cover."""
    found = []
    for resource in resources:
        entry = DOCUMENTS.get(resource.type)
        if entry is not None:
            folder, convert, model = entry
            found.append((folder, resource.name, convert(resource.inputs), model))
    return found


def validate(document: Mapping[str, Any], model: type[ModelNormal], path: str | None = None) -> list[str]:
    """Problems loading `document` into the API model: type errors, unknown keys, unaccepted values."""
    return _problems(dict(document), model, path or model.__name__)


def _problems(raw: Any, model: type, path: str) -> list[str]:
    try:
        loaded = validate_and_convert_types(  # type: ignore[no-untyped-call]
            raw,
            (model,),
            [path],
            True,
            True,
            Configuration(),  # type: ignore[no-untyped-call]
        )
    except (OpenApiException, TypeError, ValueError) as error:
        return [f"{path}: {str(error).splitlines()[0]}"]
    return _unparsed(loaded, raw, path)


def _unparsed(model: Any, raw: Any, path: str) -> list[str]:
    """Where the lenient client kept something it could not parse, and fields the model does not define."""
    if isinstance(model, UnparsedObject):
        return [f"{path}: matches none of the model's shapes"]
    if isinstance(model, ModelSimple):
        if model._unparsed:
            allowed = ", ".join(sorted(str(value) for value in type(model).allowed_values))
            return [f"{path}: {model.value!r} is not one of {allowed}"]
        return []
    if isinstance(model, ModelComposed):
        if not model._unparsed:
            return [problem for part in model._composed_instances for problem in _unparsed(part, raw, path)]
        return _composed(model, raw, path)
    if isinstance(model, ModelNormal):
        problems: list[str] = []
        known = model.openapi_types
        fields = raw if isinstance(raw, Mapping) else {}
        for key in fields:
            if key not in known:
                problems.append(f"{path}.{key}: not a field of {type(model).__name__} ({', '.join(known)})")
        for key, value in model._data_store.items():
            if key in known:
                problems.extend(_unparsed(value, fields.get(key), f"{path}.{key}"))
        return problems
    if isinstance(model, list):
        items = raw if isinstance(raw, list) else [None] * len(model)
        return [
            problem
            for index, (item, raw_item) in enumerate(zip(model, items, strict=False))
            for problem in _unparsed(item, raw_item, f"{path}[{index}]")
        ]
    return []


def _composed(model: Any, raw: Any, path: str) -> list[str]:
    """A oneOf nothing matched: load it as the variant its `type` names (or as each variant, when the variants
    carry no `type`) to say precisely what is wrong."""
    variants = model._composed_schemas.get("oneOf", [])
    kind = raw.get("type") if isinstance(raw, Mapping) else None
    typed = False
    for variant in variants:
        type_field = variant.openapi_types.get("type")
        allowed: set[str] = getattr(type_field[0], "allowed_values", set()) if type_field else set()
        typed = typed or bool(allowed)
        if kind in allowed:
            problems = _problems(raw, variant, path)
            return problems or [f"{path}: does not load as {variant.__name__}"]
    names = ", ".join(variant.__name__ for variant in variants)
    if typed:
        return [f"{path}: type {kind!r} matches none of {names}"]
    reasons = [problem for variant in variants for problem in _problems(raw, variant, variant.__name__)]
    return [f"{path}: matches none of {names}", *(f"{path}: as {reason}" for reason in reasons)]
