"""Run a Pulumi program under `pulumi.runtime.set_mocks` and record every resource it registers.

Mocks see a resource's type, name and inputs; a stack transformation sees its options (parent, protect,
provider). Both are joined into `RecordedResource`s. Computed outputs that other resources consume (ARNs,
IDs) are filled in plausibly so that policies and references render as they would after a deploy.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import pulumi
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks

SECRET_PLACEHOLDER = "[secret]"


@dataclass
class RecordedResource:
    type: str
    name: str
    inputs: dict[str, Any]
    custom: bool
    parent: str | None = None
    """`type::name` of the parent, None for children of the stack."""
    protect: bool = False
    provider: str | None = None
    delete_before_replace: bool = False
    retain_on_delete: bool = False
    """Removing it from the program leaves it in the cloud, no longer managed."""
    depends_on: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.type}::{self.name}"

    @property
    def package(self) -> str:
        return self.type.split(":", 1)[0]


@dataclass(frozen=True)
class RecordedInvoke:
    token: str
    provider: str | None
    """`type::name` of the provider the invoke went through; None means the default provider."""


@dataclass(frozen=True)
class Organization:
    """What the Datadog organization holds before the stack runs: the org-wide orders the data sources read.

    Every organization has the `main` index. Archives are named by their IDs, as the API lists them.
    """

    indexes: tuple[str, ...] = ("main",)
    archives: tuple[str, ...] = ()


@dataclass
class Recording:
    resources: list[RecordedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)
    """(level, message) of everything the program logged through pulumi.log."""
    failure: BaseException | None = None
    """What stopped the program, when it did not finish (e.g. `pulumi.RunError` after a lint error)."""
    invokes: list[RecordedInvoke] = field(default_factory=list)

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> RecordedResource:
        matches = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(matches) != 1:
            raise LookupError(f"expected one {type_} {name or ''}, found {len(matches)}")
        return matches[0]

    def errors(self) -> list[str]:
        return [message for level, message in self.log if level == "error"]


class _RecordingMocks(Mocks):
    def __init__(self, recording: Recording, account_id: str, region: str, organization: Organization) -> None:
        self.recording = recording
        self.account_id = account_id
        self.region = region
        self.organization = organization

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = _plain(args.inputs)
        self.recording.resources.append(
            RecordedResource(args.typ, args.name, inputs, bool(args.custom), provider=_provider_key(args.provider))
        )
        resource_id, computed = _computed(args.typ, args.name, inputs, self.account_id, self.region)
        return resource_id, {**inputs, **computed}

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        token = args.token
        self.recording.invokes.append(RecordedInvoke(token, _provider_key(args.provider)))
        if token == "datadog:index/getLogsIndexesOrder:getLogsIndexesOrder":
            return {"indexNames": list(self.organization.indexes), "id": "plan"}, []
        if token == "datadog:index/getLogsArchivesOrder:getLogsArchivesOrder":
            return {"archiveIds": list(self.organization.archives), "id": "plan"}, []
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account_id,
                "arn": f"arn:aws:iam::{self.account_id}:user/plan",
                "userId": "plan",
                "id": self.account_id,
            }, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if token.startswith("datadog:aws/getIntegrationExternalId"):
            return {"externalId": "0" * 32, "id": "plan"}, []
        return {}, []


def _provider_key(reference: str | None) -> str | None:
    """`type::name` of the provider a resource uses, from its reference `urn…::type::name::id`."""
    if not reference:
        return None
    urn = reference.rsplit("::", 1)[0]
    parts = urn.split("::")
    return f"{parts[-2].rsplit('$', 1)[-1]}::{parts[-1]}" if len(parts) >= 4 else None


def _stable_digits(type_: str, name: str, width: int) -> str:
    digest = hashlib.sha256(f"{type_}::{name}".encode()).hexdigest()
    return str(int(digest, 16))[:width]


def _computed(
    type_: str, name: str, inputs: Mapping[str, Any], account: str, region: str
) -> tuple[str, dict[str, Any]]:
    """A plausible ID and the computed outputs the program reads from this type of resource.

    IDs depend on the resource alone, never on how many came before it, so two plans of similar rule sets
    differ only where the resources do.
    """
    if type_ == "aws:s3/bucket:Bucket":
        bucket = str(inputs.get("bucket") or name)
        return bucket, {"arn": f"arn:aws:s3:::{bucket}", "bucket": bucket, "id": bucket}
    if type_ == "aws:iam/role:Role":
        role = str(inputs.get("name") or name)
        unique = "AROA" + _stable_digits(type_, name, 17)
        return role, {"arn": f"arn:aws:iam::{account}:role/{role}", "name": role, "uniqueId": unique}
    if type_ == "aws:kms/key:Key":
        key_id = f"{_stable_digits(type_, name, 8)}-0000-0000-0000-000000000000"
        return key_id, {"arn": f"arn:aws:kms:{region}:{account}:key/{key_id}", "keyId": key_id}
    if type_.startswith("aws:"):
        service = type_.split(":")[1].split("/", maxsplit=1)[0]
        return name, {"arn": f"arn:aws:{service}:{region}:{account}:{name}"}
    if type_ == "datadog:aws/integrationExternalId:IntegrationExternalId":
        return "0" * 32, {}
    if type_.startswith("kubernetes:"):
        metadata = dict(inputs.get("metadata") or {})
        metadata.setdefault("name", name)
        return f"{metadata.get('namespace', 'default')}/{metadata['name']}", {"metadata": metadata}
    return f"<id:{name}>", {}


_SECRET_SIGNATURE = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")


def _plain(value: Any) -> Any:
    """Inputs as plain JSON data, with every secret replaced by a placeholder (never its value)."""
    if isinstance(value, dict):
        if value.get(_SECRET_SIGNATURE[0]) == _SECRET_SIGNATURE[1]:
            return SECRET_PLACEHOLDER
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the mock monitor hands every number over as a float
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class _EngineLog(logging.Handler):
    def __init__(self, recording: Recording) -> None:
        super().__init__(logging.DEBUG)
        self.recording = recording

    def emit(self, record: logging.LogRecord) -> None:
        level = {logging.ERROR: "error", logging.WARNING: "warning", logging.INFO: "info"}.get(record.levelno, "debug")
        self.recording.log.append((level, record.getMessage()))


def record(
    program: Callable[[], object],
    *,
    config: Mapping[str, str] | None = None,
    secret_keys: frozenset[str] = frozenset(),
    project: str,
    stack: str,
    account_id: str = "000000000000",
    region: str = "us-east-1",
    preview: bool = True,
    organization: Organization | None = None,
) -> Recording:
    """Run `program` under mocks with `config` (fully qualified keys, string values) and record it.

    Without `config`, the program sets its configuration itself, as the engine's exec shim does.

    An exception from the program is kept in `Recording.failure` (after the runtime has settled) together
    with whatever was registered and logged before it.
    """
    recording = Recording()
    logger = logging.getLogger(f"logmon.plan.{stack}")
    logger.propagate = False
    logger.handlers = [_EngineLog(recording)]
    logger.setLevel(logging.DEBUG)
    pulumi.runtime.set_all_config(dict(config or {}), list(secret_keys))
    pulumi.runtime.settings.ROOT.set(None)  # a fresh root stack per run: no outputs or transformations carried over
    pulumi.runtime.set_mocks(
        _RecordingMocks(recording, account_id, region, organization or Organization()),
        project=project,
        stack=stack,
        preview=preview,
        logger=logger,
        # What the engine passes for a self-managed (file or cloud-storage) backend.
        organization="organization",
    )
    options: dict[tuple[str, str], dict[str, Any]] = {}

    def remember_options(args: pulumi.ResourceTransformationArgs) -> None:
        opts = args.opts
        parent = opts.parent
        provider = opts.provider
        options[(args.type_, args.name)] = {
            "parent": _key(parent) if _is_named(parent) else None,
            "protect": bool(opts.protect),
            "provider": _key(provider) if _is_named(provider) else None,
            "delete_before_replace": bool(opts.delete_before_replace),
            "retain_on_delete": bool(opts.retain_on_delete),
            "depends_on": sorted(_key(d) for d in _dependencies(opts.depends_on) if _is_named(d)),
        }

    loop = _event_loop()
    pulumi.runtime.register_stack_transformation(remember_options)
    try:
        program()
    except Exception as error:
        recording.failure = error
    try:
        loop.run_until_complete(pulumi.runtime.stack.wait_for_rpcs())
    except Exception as error:
        recording.failure = recording.failure or error
    root = pulumi.runtime.get_root_resource()
    exported = dict(getattr(root, "outputs", {}) or {})
    recording.outputs = {name: loop.run_until_complete(_resolve(value)) for name, value in exported.items()}
    for resource in recording.resources:
        found = options.get((resource.type, resource.name))
        if found:
            resource.parent = found["parent"]
            resource.protect = found["protect"]
            resource.provider = found["provider"] or resource.provider
            resource.delete_before_replace = found["delete_before_replace"]
            resource.retain_on_delete = found["retain_on_delete"]
            resource.depends_on = found["depends_on"]
    return recording


def _is_named(resource: object) -> TypeGuard[pulumi.Resource]:
    return isinstance(resource, pulumi.Resource)


def _key(resource: pulumi.Resource) -> str:
    return f"{resource._type}::{resource._name}"


def _dependencies(depends_on: Any) -> list[Any]:
    if depends_on is None:
        return []
    return list(depends_on) if isinstance(depends_on, list | tuple) else [depends_on]


def _event_loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_event_loop()
    except RuntimeError:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        return loop


async def _resolve(value: Any) -> Any:
    """An exported value as plain data; a secret Output becomes the placeholder, an unknown one None."""
    if isinstance(value, pulumi.Output):
        if await value.is_secret():
            return SECRET_PLACEHOLDER
        return _plain(await value.future())
    if isinstance(value, dict):
        return {str(key): await _resolve(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [await _resolve(item) for item in value]
    return _plain(value)
