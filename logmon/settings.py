"""Stack configuration → typed settings: what lint, rule tests, the plan and the Pulumi program all read.

Structured settings live under `logmon:settings` in `Pulumi.<stack>.yaml` (Pulumi.yaml's `config:` block
has no object type) and are read with `require_object`. Overrides of rules live under `logmon:overrides`.
A missing or wrong setting fails with the key's full name and the stack file, at the line when the file
is readable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from logmon.diagnostics import Finding, Location, RulesInvalid, Severity
from logmon.rules.loader import display_name
from logmon.rules.model import Overrides, RuleModel
from logmon.rules.source import LocatedDict, load_yaml_file, parse_yaml
from logmon.rules.validation import validate_document

PROJECT = "logmon"

DATADOG_SITES = Literal[
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ap2.datadoghq.com",
    "uk1.datadoghq.com",
    "ddog-gov.com",
    "us2.ddog-gov.com",
]
DATADOG_AWS_ACCOUNTS: dict[str, dict[str, str]] = {
    "datadoghq.com": {"aws": "464622532012"},
    "us3.datadoghq.com": {"aws": "464622532012"},
    "us5.datadoghq.com": {"aws": "464622532012"},
    "datadoghq.eu": {"aws": "464622532012"},
    "ap1.datadoghq.com": {"aws": "417141415827"},
    "ap2.datadoghq.com": {"aws": "412381753143"},
    "uk1.datadoghq.com": {"aws": "117348461845"},
    "ddog-gov.com": {"aws": "392588925713", "aws-us-gov": "065115117704"},
    "us2.ddog-gov.com": {"aws": "382742775718", "aws-us-gov": "486737091498"},
}
"""Per Datadog site and AWS partition, Datadog's AWS account that assumes the archive role.

From Datadog's own CloudFormation template, DataDog/cloudformation-template `aws_quickstart/main_v2.yaml`,
mapping `DdAccountIdBySite` (`AccountId`, and `AccountIdGovCloud` when the stack's partition is
`aws-us-gov`). A site/partition pair missing here has no Datadog account to trust: the settings refuse it.
"""


def partition_of(region: str) -> str:
    """The AWS partition a region belongs to, which every ARN starts with."""
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws"


class Notifications(RuleModel):
    critical: list[str] = []
    """Handles every monitor notifies on alert in this environment, e.g. `@pagerduty-platform`."""
    warning: list[str] = []
    """Handles every monitor notifies on warning in this environment."""


class ObjectLock(RuleModel):
    enabled: bool = False
    mode: Literal["GOVERNANCE", "COMPLIANCE"] = "GOVERNANCE"
    """GOVERNANCE lets privileged users delete early; COMPLIANCE lets nobody, not even root."""
    days: int = Field(default=365, ge=1)
    """Default retention of every new object version. Staging uses 1 to try the lock before prod's."""


class ArchiveSettings(RuleModel):
    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
    """The S3 bucket name (globally unique)."""
    kms_key_arn: str | None = None
    """Encrypt with this KMS key (SSE-KMS) instead of S3-managed keys (SSE-S3)."""
    object_lock: ObjectLock = ObjectLock()
    role_name: str = "DatadogLogArchiveRole"
    """The IAM role Datadog assumes to write and rehydrate the archive."""
    integration: Literal["create", "existing"] = "create"
    """`create`: this stack registers the AWS account with Datadog using `role_name`; `existing`: the account
    is already integrated with Datadog, `role_name` is that integration's role, and the archive policy is
    attached to it."""


class Toleration(RuleModel):
    key: str | None = None
    operator: Literal["Exists", "Equal"] = "Exists"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None


class ResourceAmounts(RuleModel):
    cpu: str = Field(pattern=r"^[0-9]+(\.[0-9]+)?m?$")
    memory: str = Field(pattern=r"^[0-9]+(Ki|Mi|Gi)?$")


class AgentResources(RuleModel):
    requests: ResourceAmounts = ResourceAmounts(cpu="200m", memory="256Mi")
    limits: ResourceAmounts = ResourceAmounts(cpu="500m", memory="512Mi")


FINE_GRAINED_KUBELET_AUTHZ_SINCE = (1, 33)
"""The first Kubernetes minor whose kubelets check `nodes/pods`, `nodes/healthz` and `nodes/configz` by default:
the KubeletFineGrainedAuthz feature gate is alpha (off) in 1.32, beta (on) in 1.33, GA in 1.36."""
HIGHEST_USER_PRIORITY = 1_000_000_000
"""Kubernetes keeps priorities above one billion for its own `system-` classes."""


class AgentSettings(RuleModel):
    namespace: str = Field(default="datadog", pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
    image: str = Field(pattern=r"^[^:@\s]+(:[A-Za-z0-9_.\-]+|@sha256:[0-9a-f]{64})$")
    """The agent image, pinned by tag or digest, e.g. `gcr.io/datadoghq/agent:7.64.3`."""
    tolerations: list[Toleration] = []
    resources: AgentResources = AgentResources()
    priority_class_name: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    """The pods' priority class: an existing one (e.g. `system-node-critical`), or the name of the one
    `priority_class_create` makes (default: the component's name)."""
    priority_class_create: bool = False
    """Create a PriorityClass for the agent, as Datadog's chart does with `agents.priorityClassCreate`."""
    priority_class_value: int = Field(default=HIGHEST_USER_PRIORITY, ge=0, le=HIGHEST_USER_PRIORITY)
    """The created class's priority; the chart's default is the highest a non-system class may have."""
    kubelet_fine_grained_authorization: bool = False
    """Grant `nodes/pods`, `nodes/healthz`, `nodes/configz` and `nodes/logs` instead of `nodes/proxy`
    (the chart's `datadog.kubelet.fineGrainedAuthorization`); needs `kubelet_version` 1.33 or later."""
    kubelet_version: str | None = Field(default=None, pattern=r"^1\.[0-9]{1,3}$")
    """The minor version of the cluster's oldest kubelet, e.g. `1.33`: the kubelet does the authorization."""

    @model_validator(mode="after")
    def _pinned(self) -> AgentSettings:
        if self.image.endswith(":latest"):
            raise ValueError("pin the agent image to a version, not `latest`")
        return self

    @model_validator(mode="after")
    def _priority_class_is_creatable(self) -> AgentSettings:
        if self.priority_class_create and (self.priority_class_name or "").startswith("system-"):
            raise ValueError(
                f"priority_class_name {self.priority_class_name!r} cannot be created: Kubernetes keeps the "
                "`system-` prefix for its own classes; use it with `priority_class_create: false`, or pick "
                "another name"
            )
        return self

    @model_validator(mode="after")
    def _kubelet_checks_fine_grained_subresources(self) -> AgentSettings:
        if not self.kubelet_fine_grained_authorization:
            return self
        since = ".".join(map(str, FINE_GRAINED_KUBELET_AUTHZ_SINCE))
        if self.kubelet_version is None:
            raise ValueError(
                "kubelet_fine_grained_authorization needs `kubelet_version` (the oldest kubelet's minor "
                f"version, e.g. {since}): older kubelets check `nodes/proxy` only, and the agent would be "
                "refused the pod list it needs to collect logs"
            )
        major, minor = (int(part) for part in self.kubelet_version.split("."))
        if (major, minor) < FINE_GRAINED_KUBELET_AUTHZ_SINCE:
            raise ValueError(
                f"kubelet_fine_grained_authorization needs kubelets {since} or later, and kubelet_version is "
                f"{self.kubelet_version}: before {since} they check `nodes/proxy` only (the "
                "KubeletFineGrainedAuthz feature gate is off by default), so the agent would be refused the pod "
                "list; upgrade the nodes or turn the setting off"
            )
        return self


class KubernetesSettings(RuleModel):
    """The cluster the agent deploys to, named explicitly so a run never follows kubectl's current context."""

    context: str = Field(min_length=1)
    """The kubeconfig context of this stack's cluster, e.g. `payments-prod`."""
    kubeconfig: str | None = None
    """A kubeconfig file (absolute or `~/...`); by default `$KUBECONFIG` or `~/.kube/config`."""


class Adopt(RuleModel):
    """Datadog objects that already exist in the organization and that this stack takes over by import.

    Keys are rule slugs or names; values are the Datadog IDs the provider imports by. The `main` index is
    always adopted when the rules define it.
    """

    indexes: list[str] = []
    """Index names besides `main`."""
    metrics: list[str] = []
    """Log-based metric names."""
    pipelines: dict[str, str] = {}
    """Pipeline slug → pipeline ID (the last part of the pipeline's URL in Datadog's UI)."""
    monitors: dict[str, int] = Field(default_factory=dict)
    """Monitor slug → monitor ID."""
    archives: dict[str, str] = {}
    """Archive slug → archive ID."""


class IndexingPrice(RuleModel):
    retention_days: int = Field(ge=1)
    """The standard tier's retention this price is for; an index pays the tier at or above its own."""
    usd: float = Field(ge=0)
    """US dollars per million events indexed."""


class Prices(RuleModel):
    """What replay's cost estimate charges, in US dollars. The defaults are Datadog's public list prices
    (docs/replay.md says where each figure comes from); a stack writes its own contract's figures."""

    ingestion_per_gb: float = Field(default=0.10, ge=0)
    """Per GB (10^9 bytes) of logs ingested, whatever is indexed."""
    indexing_per_million: list[IndexingPrice] = Field(
        default_factory=lambda: [
            IndexingPrice(retention_days=3, usd=1.06),
            IndexingPrice(retention_days=7, usd=1.27),
            IndexingPrice(retention_days=15, usd=1.70),
            IndexingPrice(retention_days=30, usd=2.50),
        ],
        min_length=1,
    )
    """Per million events indexed in the standard tier, by retention; a stack's list replaces this one."""
    flex_storage_per_million_per_month: float = Field(default=0.05, ge=0)
    """Per million events kept in the Flex tier, for each month (30 days) they stay there."""
    flex_compute_per_month: float = Field(default=0.0, ge=0)
    """The Flex compute tier's monthly fee, charged when logs reach a Flex tier (Datadog quotes it on request)."""
    custom_metrics_per_100: float = Field(default=5.00, ge=0)
    """Per 100 custom metrics (a metric name with one combination of tag values) a month."""

    @model_validator(mode="after")
    def _one_price_per_retention(self) -> Prices:
        days = [tier.retention_days for tier in self.indexing_per_million]
        repeated = sorted({day for day in days if days.count(day) > 1})
        if repeated:
            raise ValueError(
                f"indexing_per_million lists retention_days {', '.join(map(str, repeated))} more than once; "
                "keep one price per retention"
            )
        return self

    def indexing_tier(self, retention_days: int | None) -> IndexingPrice:
        """The tier an index with this standard retention pays: the shortest that covers it, else the longest."""
        tiers = sorted(self.indexing_per_million, key=lambda tier: tier.retention_days)
        if retention_days is None:
            return tiers[0]
        return next((tier for tier in tiers if tier.retention_days >= retention_days), tiers[-1])


class StackSettings(RuleModel):
    """Everything that differs between dev, staging and prod."""

    environment: Literal["dev", "staging", "prod"]
    datadog_site: DATADOG_SITES = "datadoghq.com"
    aws_region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
    aws_account_id: str = Field(pattern=r"^[0-9]{12}$")
    """The AWS account that holds the archive bucket."""
    cluster_name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    kubernetes: KubernetesSettings
    """The cluster the agent is deployed to (an explicit provider; default providers are turned off)."""
    protect: bool = False
    """Protect the archive bucket and the indexes from deletion (prod: true)."""
    manage_pipeline_order: bool = False
    """Manage the org-wide LogsPipelineOrder (it must list integration pipelines too); off by default."""
    integration_pipeline_ids: list[str] = []
    """With `manage_pipeline_order`, the IDs of pipelines (integration ones included) kept ahead of ours."""
    notifications: Notifications = Notifications()
    archive: ArchiveSettings
    agent: AgentSettings
    rules_dir: str = "rules"
    adopt: Adopt = Adopt()
    """Datadog objects that already exist and that this stack takes over (`logmon adopt`)."""
    prices: Prices = Prices()
    """The price table of `logmon replay --stack`'s cost estimate; Datadog's list prices by default."""

    @model_validator(mode="after")
    def _datadog_can_reach_the_archive(self) -> StackSettings:
        if self.datadog_aws_account is None:
            raise ValueError(
                f"Datadog site {self.datadog_site} has no AWS account in the {self.aws_partition} partition "
                f"(aws_region {self.aws_region}) to assume the archive role; Datadog's templates list "
                + ", ".join(f"{site} ({'/'.join(accounts)})" for site, accounts in DATADOG_AWS_ACCOUNTS.items())
                + ". Use a region of a supported partition for the archive, or the matching Datadog site"
            )
        return self

    @property
    def aws_partition(self) -> str:
        return partition_of(self.aws_region)

    @property
    def datadog_aws_account(self) -> str | None:
        """Datadog's AWS account for this site and partition, None where Datadog has none."""
        return DATADOG_AWS_ACCOUNTS[self.datadog_site].get(self.aws_partition)


def stack_file(stack: str, project_dir: Path = Path()) -> Path:
    return project_dir / f"Pulumi.{stack}.yaml"


def parse_settings(
    settings: Any, overrides: Any, stack: str, project_dir: Path = Path()
) -> tuple[StackSettings, Overrides]:
    """Validate raw config objects; findings point into `Pulumi.<stack>.yaml` where it can be read."""
    path = stack_file(stack, project_dir)
    name = path.name
    located = _located_config(path)
    findings: list[Finding] = []
    parsed_settings: StackSettings | None = None
    parsed_overrides = Overrides()
    if settings is None:
        findings.append(
            Finding(
                "settings/missing",
                Severity.ERROR,
                Location(name, 1, 1),
                f"`{PROJECT}:settings` is not set in {name}; add the settings object (see README)",
            )
        )
    else:
        try:
            parsed_settings = validate_document(
                _prefer_located(located, "settings", settings), StackSettings, name, f"{PROJECT}:settings"
            )
        except RulesInvalid as invalid:
            findings.extend(invalid.findings)
    if overrides is not None:
        try:
            parsed_overrides = validate_document(
                _prefer_located(located, "overrides", overrides), Overrides, name, f"{PROJECT}:overrides"
            )
        except RulesInvalid as invalid:
            findings.extend(invalid.findings)
    if findings or parsed_settings is None:
        raise RulesInvalid(findings)
    return parsed_settings, parsed_overrides


def _prefer_located(located: dict[str, Any], key: str, value: Any) -> Any:
    """The stack file's copy (which knows its lines) when it says the same as the config Pulumi gave."""
    candidate = located.get(f"{PROJECT}:{key}")
    return candidate if candidate == value else value


def _located_config(path: Path) -> dict[str, Any]:
    """The stack file's `config:` values with positions, or nothing when it cannot be read."""
    try:
        document = parse_yaml(path.read_text(encoding="utf-8"), str(path.name))
    except (OSError, RulesInvalid):
        return {}
    config = document.get("config") if isinstance(document, LocatedDict) else None
    return dict(config) if isinstance(config, LocatedDict) else {}


def read_stack_file(
    stack: str, project_dir: Path, check: str = "settings/no-config"
) -> tuple[StackSettings, Overrides]:
    """A stack file's settings and overrides, read with their positions; RulesInvalid at its lines otherwise.

    `check` names the finding for a file without a `config:` mapping.
    """
    path = stack_file(stack, project_dir)
    name = display_name(path)
    document = load_yaml_file(path, name)
    config = document.get("config") if isinstance(document, LocatedDict) else None
    if not isinstance(config, LocatedDict):
        raise RulesInvalid(
            [
                Finding(
                    check,
                    Severity.ERROR,
                    Location(name, 1, 1),
                    "the stack file has no `config:` mapping; Pulumi reads a stack's settings and overrides from it",
                )
            ]
        )
    return parse_settings(config.get(f"{PROJECT}:settings"), config.get(f"{PROJECT}:overrides"), stack, project_dir)
