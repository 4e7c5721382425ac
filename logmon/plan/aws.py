"""The archive's native artefacts, rebuilt from a recorded program and checked against the real API models.

Pulumi records inputs as the provider schema names them (camelCase, numbers as floats). Here they become the
documents AWS and Datadog receive: the S3 lifecycle configuration in the shape of
`PutBucketLifecycleConfiguration` (checked with botocore's service model), the bucket and IAM policies, and
the Datadog archive in the shape of `LogsArchiveCreateRequest` (checked with datadog-api-client's models).
Neither library is mocked: these are the models the AWS CLI and Datadog's client build their requests from.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from botocore.model import OperationModel, Shape
from botocore.session import get_session
from botocore.validate import ParamValidator

from logmon.plan.recorder import SECRET_PLACEHOLDER, RecordedResource

LIFECYCLE: Final = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
BUCKET_POLICY: Final = "aws:s3/bucketPolicy:BucketPolicy"
ROLE: Final = "aws:iam/role:Role"
ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
LOGS_ARCHIVE: Final = "datadog:index/logsArchive:LogsArchive"

PLACEHOLDER_BUCKET: Final = "logmon-plan-bucket"
"""Stands in for the bucket name when only the lifecycle's shape is being checked."""
MASKED_DOCUMENT: Final = {"Masked": SECRET_PLACEHOLDER}
"""What `iam_policies` gives for a document that holds a secret (the trust policy holds the external ID)."""

STORAGE_CLASS_ORDER: Final = (
    "STANDARD",
    "STANDARD_IA",
    "INTELLIGENT_TIERING",
    "ONEZONE_IA",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
)
"""S3's transition waterfall: an object only ever moves to a class further down."""
MINIMUM_DAYS_BEFORE: Final = {"STANDARD_IA": 30, "ONEZONE_IA": 30}
"""S3 refuses a transition into these classes before an object is this many days old."""
MINIMUM_BILLED_DAYS: Final = {
    "STANDARD_IA": 30,
    "ONEZONE_IA": 30,
    "GLACIER_IR": 90,
    "GLACIER": 90,
    "DEEP_ARCHIVE": 180,
}
"""Days S3 bills an object in a class however early it moves on or expires."""


class ArtefactMissing(LookupError):
    """The recording lacks the resource an artefact is built from."""


# ------------------------------------------------------------------------------------------------ S3


def lifecycle_configuration(resources: Iterable[RecordedResource]) -> dict[str, Any]:
    """The recorded BucketLifecycleConfiguration as S3's `LifecycleConfiguration` (`{"Rules": [...]}`)."""
    recorded = _one(resources, LIFECYCLE)
    rules = recorded.inputs.get("rules") or []
    return {"Rules": [_s3_shape(rule) for rule in rules]}


def validate_lifecycle(config: Mapping[str, Any], bucket: str = PLACEHOLDER_BUCKET) -> list[str]:
    """Problems S3 would reject the configuration for, or bill for; empty when there are none.

    The shape (fields, types, required members, ranges) is checked by botocore's own validator against the
    `PutBucketLifecycleConfiguration` input; enumerations, which that validator leaves to the server, are
    checked against the same service model; then the transition rules S3 enforces on a well-formed rule.
    """
    operation = _lifecycle_operation()
    params = {"Bucket": bucket, "LifecycleConfiguration": config}
    report = ParamValidator().validate(params, operation.input_shape)
    problems: list[str] = report.generate_report().splitlines() if report.has_errors() else []
    problems.extend(_enum_problems(params, operation.input_shape, ""))
    if problems:
        return problems
    for index, rule in enumerate(config["Rules"]):
        problems.extend(_transition_problems(rule, f"LifecycleConfiguration.Rules[{index}]"))
    return problems


def bucket_policy(resources: Iterable[RecordedResource]) -> dict[str, Any]:
    """The recorded bucket policy as parsed JSON."""
    recorded = _one(resources, BUCKET_POLICY)
    return _document(recorded.inputs.get("policy"), f"{recorded.key} policy")


def iam_policies(resources: Iterable[RecordedResource]) -> dict[str, dict[str, Any]]:
    """Every IAM document: `<role>/trust` for a role's trust policy, `<role>/<policy>` for an inline policy.

    A document recorded as a secret (the trust policy holds the Datadog external ID) is `MASKED_DOCUMENT`.
    """
    documents: dict[str, dict[str, Any]] = {}
    for recorded in resources:
        if recorded.type == ROLE:
            role = str(recorded.inputs.get("name") or recorded.name)
            documents[f"{role}/trust"] = _document(recorded.inputs.get("assumeRolePolicy"), f"{recorded.key} trust")
        elif recorded.type == ROLE_POLICY:
            role = str(recorded.inputs.get("role"))
            policy = str(recorded.inputs.get("name") or recorded.name)
            documents[f"{role}/{policy}"] = _document(recorded.inputs.get("policy"), f"{recorded.key} policy")
    return documents


# ------------------------------------------------------------------------------------------- Datadog


def logs_archive_requests(resources: Iterable[RecordedResource]) -> dict[str, dict[str, Any]]:
    """Each recorded LogsArchive, by logical name, as the body of Datadog's create-archive request."""
    return {
        recorded.name: logs_archive_request(recorded.inputs) for recorded in resources if recorded.type == LOGS_ARCHIVE
    }


def logs_archive_request(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """A LogsArchive's recorded inputs as `LogsArchiveCreateRequest` JSON (the API's snake_case shape)."""
    attributes: dict[str, Any] = {}
    for key, value in inputs.items():
        if value is None:
            continue
        if key == "s3Archive":
            attributes["destination"] = _s3_destination(value)
        else:
            # gcsArchive/azureArchive land as unknown attributes, which validation reports.
            attributes[_snake(key)] = _integral(value)
    return {"data": {"type": "archives", "attributes": attributes}}


def validate_logs_archive_request(payload: Mapping[str, Any]) -> list[str]:
    """Problems loading `payload` into datadog-api-client's `LogsArchiveCreateRequest`; empty when it loads.

    The client parses leniently: a value outside an enumeration, or a destination matching none of its
    variants, is kept as "unparsed" rather than refused. Those places are found and reported here, as are
    fields the model does not know.
    """
    from datadog_api_client.v2.model.logs_archive_create_request import LogsArchiveCreateRequest

    return _datadog_problems(payload, LogsArchiveCreateRequest, "body")


# ---------------------------------------------------------------------------------------- internals


def _one(resources: Iterable[RecordedResource], type_: str) -> RecordedResource:
    matches = [recorded for recorded in resources if recorded.type == type_]
    if len(matches) != 1:
        raise ArtefactMissing(
            f"expected exactly one {type_} in the recording, found {len(matches)}"
            + (f" ({', '.join(m.name for m in matches)})" if matches else "; is the archive component in the program?")
        )
    return matches[0]


def _document(value: Any, what: str) -> dict[str, Any]:
    if value == SECRET_PLACEHOLDER:
        return dict(MASKED_DOCUMENT)
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str):
        raise ValueError(f"{what} is {type(value).__name__}, not a JSON policy document")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as error:
        raise ValueError(f"{what} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"{what} is JSON {type(parsed).__name__}, not a policy object")
    return parsed


def _integral(value: Any) -> Any:
    """Pulumi carries every number as a float; the APIs want integers where the value is whole."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {key: _integral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral(item) for item in value]
    return value


_S3_KEYS: Final = {"id": "ID", "and": "And"}


def _s3_shape(value: Any) -> Any:
    """Schema camelCase to S3's PascalCase; the `and` filter's tag map becomes S3's list of tags."""
    if isinstance(value, Mapping):
        shaped: dict[str, Any] = {}
        for key, item in value.items():
            if item is None:
                continue
            if key == "tags" and isinstance(item, Mapping):
                shaped["Tags"] = [{"Key": tag, "Value": tag_value} for tag, tag_value in item.items()]
            else:
                shaped[_S3_KEYS.get(key, key[:1].upper() + key[1:])] = _s3_shape(item)
        return shaped
    if isinstance(value, list):
        return [_s3_shape(item) for item in value]
    return _integral(value)


@functools.cache
def _lifecycle_operation() -> OperationModel:
    return get_session().get_service_model("s3").operation_model("PutBucketLifecycleConfiguration")


def _enum_problems(value: Any, shape: Shape, path: str) -> list[str]:
    if shape.type_name == "structure" and isinstance(value, Mapping):
        problems: list[str] = []
        for key, item in value.items():
            member = shape.members.get(key)
            if member is not None:
                problems.extend(_enum_problems(item, member, f"{path}.{key}" if path else key))
        return problems
    if shape.type_name == "list" and isinstance(value, list):
        return [
            problem
            for index, item in enumerate(value)
            for problem in _enum_problems(item, shape.member, f"{path}[{index}]")
        ]
    if shape.type_name == "string" and shape.enum and isinstance(value, str) and value not in shape.enum:
        return [f"Invalid value for parameter {path}: {value!r}, valid values: {', '.join(shape.enum)}"]
    return []


def _transition_problems(rule: Mapping[str, Any], path: str) -> list[str]:
    """S3's rules for the transitions of one rule, given in days (date-based rules are left to S3)."""
    stages = [
        (index, transition["Days"], transition["StorageClass"])
        for index, transition in enumerate(rule.get("Transitions", []))
        if "Days" in transition and "StorageClass" in transition
    ]
    problems: list[str] = []
    previous: tuple[int, int, str] | None = None
    for index, days, storage_class in stages:
        where = f"{path}.Transitions[{index}]"
        minimum = MINIMUM_DAYS_BEFORE.get(storage_class, 0)
        if days < minimum:
            problems.append(f"{where}: {storage_class} needs at least {minimum} days, not {days}")
        if previous is not None:
            _, previous_days, previous_class = previous
            if days <= previous_days:
                problems.append(f"{where}: {days} days does not come after the previous transition's {previous_days}")
            elif days - previous_days < MINIMUM_BILLED_DAYS.get(previous_class, 0):
                problems.append(
                    f"{where}: objects leave {previous_class} after {days - previous_days} days but are "
                    f"billed for {MINIMUM_BILLED_DAYS[previous_class]}; move the transition later"
                )
            if STORAGE_CLASS_ORDER.index(storage_class) <= STORAGE_CLASS_ORDER.index(previous_class):
                problems.append(
                    f"{where}: {previous_class} → {storage_class} goes against the storage-class waterfall "
                    f"({' → '.join(STORAGE_CLASS_ORDER)})"
                )
        previous = (index, days, storage_class)
    expiration = rule.get("Expiration", {}).get("Days")
    if previous is not None and expiration is not None:
        _, last_days, last_class = previous
        if expiration <= last_days:
            problems.append(
                f"{path}.Expiration: {expiration} days must come after the last transition ({last_days} days)"
            )
        elif expiration - last_days < MINIMUM_BILLED_DAYS.get(last_class, 0):
            problems.append(
                f"{path}.Expiration: objects expire {expiration - last_days} days into {last_class}, "
                f"which bills {MINIMUM_BILLED_DAYS[last_class]}; expire later or transition earlier"
            )
    return problems


def _s3_destination(s3_archive: Mapping[str, Any]) -> dict[str, Any]:
    destination: dict[str, Any] = {"type": "s3"}
    integration: dict[str, Any] = {}
    encryption: dict[str, Any] = {}
    for key, value in s3_archive.items():
        if value is None:
            continue
        if key in ("accountId", "roleName", "accessKeyId"):
            integration[_snake(key)] = value
        elif key == "encryptionType":
            encryption["type"] = value
        elif key == "encryptionKey":
            encryption["key"] = value
        else:
            destination[_snake(key)] = _integral(value)
    if integration:
        destination["integration"] = integration
    if encryption:
        destination["encryption"] = encryption
    return destination


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _datadog_problems(raw: Any, model: type, path: str) -> list[str]:
    from datadog_api_client.configuration import Configuration
    from datadog_api_client.exceptions import OpenApiException
    from datadog_api_client.model_utils import validate_and_convert_types

    try:
        loaded = validate_and_convert_types(  # type: ignore[no-untyped-call]
            raw,
            (model,),
            [path],
            True,
            True,
            configuration=Configuration(),  # type: ignore[no-untyped-call]
        )
    except (OpenApiException, TypeError, ValueError) as error:
        return [f"{path}: {error}"]
    return _unparsed_problems(loaded, raw, path)


def _unparsed_problems(model: Any, raw: Any, path: str) -> list[str]:
    """Where the lenient client kept something it could not parse, and fields the model does not define."""
    from datadog_api_client.model_utils import ModelComposed, ModelNormal, ModelSimple, UnparsedObject

    if isinstance(model, UnparsedObject):
        return [f"{path}: matches none of the model's shapes"]
    if isinstance(model, ModelSimple):
        if model._unparsed:
            allowed = ", ".join(sorted(str(value) for value in type(model).allowed_values))
            return [f"{path}: {model.value!r} is not one of {allowed}"]
        return []
    if isinstance(model, ModelComposed):
        if not model._unparsed:
            return [problem for part in model._composed_instances for problem in _unparsed_problems(part, raw, path)]
        return _composed_problems(model, raw, path)
    if isinstance(model, ModelNormal):
        problems: list[str] = []
        known = model.openapi_types
        raw_fields = raw if isinstance(raw, Mapping) else {}
        for key in raw_fields:
            if key not in known:
                problems.append(f"{path}.{key}: not a field of {type(model).__name__} ({', '.join(known)})")
        for key, value in model._data_store.items():
            if key in known:
                problems.extend(_unparsed_problems(value, raw_fields.get(key), f"{path}.{key}"))
        return problems
    if isinstance(model, list):
        raw_items = raw if isinstance(raw, list) else [None] * len(model)
        return [
            problem
            for index, (item, raw_item) in enumerate(zip(model, raw_items, strict=False))
            for problem in _unparsed_problems(item, raw_item, f"{path}[{index}]")
        ]
    return []


def _composed_problems(model: Any, raw: Any, path: str) -> list[str]:
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
            problems = _datadog_problems(raw, variant, path)
            return problems or [f"{path}: does not load as {variant.__name__}"]
    names = ", ".join(variant.__name__ for variant in variants)
    if typed:
        return [f"{path}: type {kind!r} matches none of {names}"]
    reasons = [problem for variant in variants for problem in _datadog_problems(raw, variant, variant.__name__)]
    return [f"{path}: matches none of {names}", *(f"{path}: as {reason}" for reason in reasons)]
