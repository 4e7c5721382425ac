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

from logmon import s3lifecycle
from logmon.plan.datadog import validate as validate_datadog_document
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

    return validate_datadog_document(payload, LogsArchiveCreateRequest)


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
    transitions = [
        (transition["Days"], transition["StorageClass"])
        for transition in rule.get("Transitions", [])
        if isinstance(transition.get("Days"), int) and transition.get("StorageClass") in s3lifecycle.WATERFALL
    ]
    expiration = rule.get("Expiration", {}).get("Days")
    return [
        f"{path}.{'Expiration' if p.transition is None else f'Transitions[{p.transition}]'}: {p.message}"
        for p in s3lifecycle.problems(transitions, expiration if isinstance(expiration, int) else None)
    ]


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
