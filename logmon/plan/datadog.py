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
from datadog_api_client.model_utils import ModelComposed, ModelNormal, ModelSimple, validate_and_convert_types
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
}


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


def validate(document: Mapping[str, Any], model: type[ModelNormal]) -> list[str]:
    """Problems loading `document` into the API model: type errors, unknown keys, unaccepted values."""
    try:
        loaded = validate_and_convert_types(  # type: ignore[no-untyped-call]
            dict(document),
            (model,),
            [model.__name__],
            True,
            True,
            Configuration(),  # type: ignore[no-untyped-call]
        )
    except (OpenApiException, TypeError, ValueError) as error:
        return [str(error).splitlines()[0]]
    problems: list[str] = []
    _walk(loaded, model.__name__, problems)
    return problems


def _walk(value: Any, path: str, problems: list[str]) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, f"{path}[{index}]", problems)
        return
    if isinstance(value, ModelSimple):
        if getattr(value, "_unparsed", False):
            problems.append(f"{path}: {value.value!r} is not an accepted value")
        return
    if isinstance(value, ModelComposed):
        if getattr(value, "_unparsed", False) or not value._composed_instances:
            problems.append(f"{path}: matches none of the API's accepted shapes")
            return
        for instance in value._composed_instances:
            _walk(instance, path, problems)
        return
    if isinstance(value, ModelNormal):
        before = len(problems)
        known = set(type(value).attribute_map)
        for key, item in value._data_store.items():
            if key not in known:
                problems.append(f"{path}.{key}: unknown to the API model {type(value).__name__}")
                continue
            _walk(item, f"{path}.{key}", problems)
        if getattr(value, "_unparsed", False) and len(problems) == before:
            problems.append(f"{path}: not accepted by the API model {type(value).__name__}")
