"""The log archive: the S3 bucket Datadog writes every log to, the IAM role it assumes, the Datadog archives.

The bucket carries the cold tier and the deletion date of `retention` as one lifecycle rule; Datadog's own hot
and warm tiers live on the indexes. Policy documents are built here as plain data and serialised with
`json.dumps`, so they render offline and in `pulumi preview` without any AWS call. `docs/archive.md` explains
the tiers, the two integration modes and how to retire a protected bucket.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
import pulumi_aws as aws
import pulumi_datadog as datadog
import pulumiverse_time as time

from infra.components.org_order import merged_order
from logmon.rules.model import Archive, Retention
from logmon.settings import PROJECT, ArchiveSettings, StackSettings, partition_of

TOKEN: Final = "logmon:aws:LogArchive"

ARCHIVE_OBJECT_ACTIONS: Final = ("s3:PutObject", "s3:GetObject")
"""Write archives and read them back for rehydration; Datadog needs nothing else on the objects."""
ARCHIVE_BUCKET_ACTIONS: Final = ("s3:ListBucket",)
KMS_ACTIONS: Final = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey")
LIFECYCLE_RULE_ID: Final = "logmon-archive-retention"
IAM_PROPAGATION: Final = "60s"
"""How long to wait after the role, its policy and the integration change before saving archives."""

_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_SLUG = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class LogArchiveArgs:
    """What the archive needs to know; build it from the stack settings with `from_settings`."""

    settings: ArchiveSettings
    retention: Retention
    archives: dict[str, Archive]
    """Slug → archive, in rules order: Datadog sends a log to the first archive whose query matches."""
    environment: str
    aws_account_id: str
    """The account that holds the bucket; with `integration: create`, also the one registered with Datadog."""
    aws_region: str
    datadog_aws_account: str
    """Datadog's AWS account that assumes the role, per site and partition (`DATADOG_AWS_ACCOUNTS`)."""
    protect: bool = False
    """Protect the bucket: deleting or replacing it then needs `pulumi state unprotect` first."""
    tags: dict[str, str] = field(default_factory=dict)
    """AWS tags on the bucket and the role."""

    def __post_init__(self) -> None:
        for label, account in (
            ("aws_account_id", self.aws_account_id),
            ("datadog_aws_account", self.datadog_aws_account),
        ):
            if not _ACCOUNT_ID.match(account):
                raise ValueError(f"LogArchiveArgs.{label} {account!r} is not an AWS account ID; give its 12 digits")
        if not _ROLE_NAME.match(self.settings.role_name):
            raise ValueError(
                f"archive.role_name {self.settings.role_name!r} is not an IAM role name; "
                "use at most 64 letters, digits and +=,.@_-"
            )
        for slug in self.archives:
            if not _SLUG.match(slug):
                raise ValueError(
                    f"archive key {slug!r} names Pulumi resources; use lower-case letters, digits and '_', "
                    "starting with a letter"
                )

    @classmethod
    def from_settings(
        cls, settings: StackSettings, retention: Retention, archives: Mapping[str, Archive]
    ) -> LogArchiveArgs:
        return cls(
            settings=settings.archive,
            retention=retention,
            archives=dict(archives),
            environment=settings.environment,
            aws_account_id=settings.aws_account_id,
            aws_region=settings.aws_region,
            datadog_aws_account=settings.datadog_aws_account or "",
            protect=settings.protect,
            tags={"project": PROJECT, "environment": settings.environment, "component": "log-archive"},
        )

    @property
    def partition(self) -> str:
        return partition_of(self.aws_region)

    @property
    def bucket_arn(self) -> str:
        return f"arn:{self.partition}:s3:::{self.settings.bucket}"

    @property
    def role_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.aws_account_id}:role/{self.settings.role_name}"

    @property
    def encryption_type(self) -> str:
        """The Datadog archive's `encryption_type`, matching the bucket's default encryption."""
        return "SSE_KMS" if self.settings.kms_key_arn else "SSE_S3"


def object_resources(bucket_arn: str, archives: Mapping[str, Archive]) -> list[str]:
    """The object ARNs Datadog may write and read: everything under each archive's path, each once."""
    resources: list[str] = []
    for archive in archives.values():
        prefix = archive.path.strip("/")
        resource = f"{bucket_arn}/{prefix}/*" if prefix else f"{bucket_arn}/*"
        if resource not in resources:
            resources.append(resource)
    return resources


def archive_policy(args: LogArchiveArgs) -> dict[str, Any]:
    """The role's permissions: write and read the archive paths, list the bucket, nothing more."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DatadogArchiveObjects",
            "Effect": "Allow",
            "Action": list(ARCHIVE_OBJECT_ACTIONS),
            "Resource": object_resources(args.bucket_arn, args.archives),
        },
        {
            "Sid": "DatadogArchiveList",
            "Effect": "Allow",
            "Action": list(ARCHIVE_BUCKET_ACTIONS),
            "Resource": args.bucket_arn,
        },
    ]
    if args.settings.kms_key_arn:
        # The key policy must also allow this role; an IAM grant alone is not enough for a customer key.
        statements.append(
            {
                "Sid": "DatadogArchiveKey",
                "Effect": "Allow",
                "Action": list(KMS_ACTIONS),
                "Resource": args.settings.kms_key_arn,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def trust_policy(datadog_aws_account: str, external_id: str, partition: str = "aws") -> dict[str, Any]:
    """Let Datadog's AWS account assume the role, only with this organisation's external ID."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{datadog_aws_account}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def tls_only_policy(bucket_arn: str) -> dict[str, Any]:
    """Refuse every request to the bucket or its objects that does not come over TLS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def lifecycle_rules(retention: Retention) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    """One rule for the whole bucket: the cold-tier transitions, deletion, and housekeeping."""
    return [
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id=LIFECYCLE_RULE_ID,
            status="Enabled",
            # An empty filter is S3's explicit "every object in the bucket".
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(),
            transitions=[
                aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                    days=transition.after_days, storage_class=transition.storage_class
                )
                for transition in retention.cold.transitions
            ],
            expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=retention.delete_after_days),
            # Versioning keeps overwritten and expired objects as noncurrent versions; remove them too.
            noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=retention.noncurrent_versions_expire_after_days
            ),
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=retention.abort_incomplete_uploads_after_days
            ),
        )
    ]


class LogArchive(pulumi.ComponentResource):
    """The archive bucket and its settings, Datadog's role, the AWS integration, and the Datadog archives."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    archive_ids: pulumi.Output[dict[str, str]]
    """Archive slug → Datadog archive ID."""
    external_id: pulumi.Output[str]
    """The Datadog external ID of the AWS account. It guards against the confused-deputy problem and is not a
    credential (AWS says as much), so it stays visible: plans and diffs show the trust policy that uses it."""
    trust_policy: pulumi.Output[str] | None
    """The role's trust policy as JSON; None for an existing role."""

    def __init__(self, name: str, args: LogArchiveArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TOKEN, name, None, opts)
        self._prefix = name
        bucket, bucket_ready = self._bucket(args)

        if args.settings.integration == "create":
            external = datadog.aws.IntegrationExternalId(f"{name}-external-id", opts=self._child())
            self.external_id = external.id
            trust = self.external_id.apply(
                lambda external_id: json.dumps(trust_policy(args.datadog_aws_account, external_id, args.partition))
            )
            role = aws.iam.Role(
                f"{name}-role",
                name=args.settings.role_name,
                description=f"Datadog writes and rehydrates the {args.environment} log archive",
                assume_role_policy=trust,
                tags=args.tags,
                opts=self._child(),
            )
            self.trust_policy = trust
            role_name: pulumi.Output[str] = role.name
            self.role_arn = role.arn
            role_resources: list[pulumi.Resource] = [role]
        else:
            # The account is already integrated: its role and trust exist. Reading the external ID fails the
            # preview early, with Datadog's message, when the account is in fact not integrated.
            found = datadog.aws.get_integration_external_id_output(
                aws_account_id=args.aws_account_id, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            self.external_id = found.external_id
            self.trust_policy = None
            role_name = pulumi.Output.from_input(args.settings.role_name)
            self.role_arn = pulumi.Output.from_input(args.role_arn)
            role_resources = []

        policy = aws.iam.RolePolicy(
            f"{name}-archive-policy",
            name=f"{PROJECT}-log-archive-{args.settings.bucket}",
            role=role_name,
            policy=json.dumps(archive_policy(args)),
            opts=self._child(),
        )
        iam_ready: list[pulumi.Resource] = [policy]
        if args.settings.integration == "create":
            iam_ready.append(self._integration(args, role_name, [*role_resources, policy]))
        # Saving an archive makes Datadog assume the role and write `permission_testing/…` at once, and the
        # provider does not retry. IAM is eventually consistent (AWS: "changes are not always immediately
        # visible"), so a role or policy created seconds earlier can still be refused: wait, and wait again
        # whenever the role or its policy changes.
        propagation = time.Sleep(
            f"{name}-iam-propagation",
            create_duration=IAM_PROPAGATION,
            triggers={"role": role_name, "policy": policy.policy},
            opts=self._child(depends_on=iam_ready),
        )

        archives = self._archives(args, bucket, role_name, [propagation, *bucket_ready])
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.archive_ids = pulumi.Output.all(*[archive.id for archive in archives.values()]).apply(
            lambda ids: dict(zip(archives, ids, strict=True))
        )
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "role_arn": self.role_arn,
                "archive_ids": self.archive_ids,
            }
        )

    def _child(self, depends_on: Sequence[pulumi.Resource] = (), protect: bool = False) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=list(depends_on), protect=protect)

    def _bucket(self, args: LogArchiveArgs) -> tuple[aws.s3.Bucket, list[pulumi.Resource]]:
        """The bucket and the settings that must be in place before Datadog writes to it."""
        name = self._prefix
        lock = args.settings.object_lock
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.settings.bucket,
            # Set at creation only: the provider replaces the bucket to change it, which protection stops.
            object_lock_enabled=lock.enabled,
            # Deleting the stack must never empty an archive; a non-empty bucket then fails to delete.
            force_destroy=False,
            tags=args.tags,
            opts=self._child(protect=args.protect),
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=self._child(),
        )
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[_encryption_rule(args.settings.kms_key_arn)],
            opts=self._child(),
        )
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=self._child(),
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self._child(),
        )
        bucket_policy = aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket.id,
            policy=json.dumps(tls_only_policy(args.bucket_arn)),
            # S3 rejects a policy change while the public access block is still being written.
            opts=self._child(depends_on=[public_access, ownership]),
        )
        lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=lifecycle_rules(args.retention),
            opts=self._child(depends_on=[versioning]),
        )
        ready: list[pulumi.Resource] = [
            versioning,
            encryption,
            ownership,
            public_access,
            bucket_policy,
            lifecycle,
        ]
        if lock.enabled:
            ready.append(
                aws.s3.BucketObjectLockConfiguration(
                    f"{name}-object-lock",
                    bucket=bucket.id,
                    rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                        default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                            mode=lock.mode, days=lock.days
                        )
                    ),
                    opts=self._child(depends_on=[versioning]),
                )
            )
        return bucket, ready

    def _integration(
        self, args: LogArchiveArgs, role_name: pulumi.Output[str], role: Sequence[pulumi.Resource]
    ) -> datadog.aws.IntegrationAccount:
        """Register the AWS account with Datadog through the role, collecting nothing beyond the archive.

        The provider requires every configuration block; each is set to collect nothing: no CloudWatch
        metrics, no resource collection (which would need read access to the whole account), no X-Ray, and
        no log forwarder subscriptions. Only the bucket's region is listed.
        """
        return datadog.aws.IntegrationAccount(
            f"{self._prefix}-integration",
            aws_account_id=args.aws_account_id,
            aws_partition=args.partition,
            auth_config=datadog.aws.IntegrationAccountAuthConfigArgs(
                aws_auth_config_role=datadog.aws.IntegrationAccountAuthConfigAwsAuthConfigRoleArgs(
                    role_name=role_name, external_id=self.external_id
                )
            ),
            aws_regions=datadog.aws.IntegrationAccountAwsRegionsArgs(include_onlies=[args.aws_region]),
            logs_config=datadog.aws.IntegrationAccountLogsConfigArgs(
                lambda_forwarder=datadog.aws.IntegrationAccountLogsConfigLambdaForwarderArgs(lambdas=[], sources=[])
            ),
            metrics_config=datadog.aws.IntegrationAccountMetricsConfigArgs(
                enabled=False,
                automute_enabled=False,
                collect_cloudwatch_alarms=False,
                collect_custom_metrics=False,
                namespace_filters=datadog.aws.IntegrationAccountMetricsConfigNamespaceFiltersArgs(),
            ),
            resources_config=datadog.aws.IntegrationAccountResourcesConfigArgs(
                extended_collection=False, cloud_security_posture_management_collection=False
            ),
            traces_config=datadog.aws.IntegrationAccountTracesConfigArgs(
                xray_services=datadog.aws.IntegrationAccountTracesConfigXrayServicesArgs(include_onlies=[])
            ),
            # Datadog checks that it can assume the role, so the role and its policy come first.
            opts=self._child(depends_on=role),
        )

    def _archives(
        self,
        args: LogArchiveArgs,
        bucket: aws.s3.Bucket,
        role_name: pulumi.Output[str],
        ready: Sequence[pulumi.Resource],
    ) -> dict[str, datadog.LogsArchive]:
        """One Datadog archive per rule, in rules order, and the org's archive order when there are any."""
        archives: dict[str, datadog.LogsArchive] = {}
        for slug, archive in args.archives.items():
            archives[slug] = datadog.LogsArchive(
                f"{self._prefix}-{slug}",
                name=archive.name,
                query=archive.query,
                s3_archive=datadog.LogsArchiveS3ArchiveArgs(
                    bucket=bucket.id,
                    path=archive.path,
                    account_id=args.aws_account_id,
                    role_name=role_name,
                    encryption_type=args.encryption_type,
                    encryption_key=args.settings.kms_key_arn,
                    storage_class=archive.storage_class,
                ),
                include_tags=archive.include_tags,
                rehydration_tags=list(archive.rehydration_tags),
                rehydration_max_scan_size_in_gb=archive.rehydration_max_scan_size_in_gb,
                # Datadog writes a test object when the archive is saved: the bucket, its policies and the
                # integration must all be in place by then.
                opts=self._child(depends_on=ready),
            )
        if archives:
            # The order is the organization's and the API refuses a partial one: keep the archives this stack
            # does not manage where they are, ours in rules order (the catch-all last among ours).
            current = datadog.get_logs_archives_order_output(opts=pulumi.InvokeOutputOptions(parent=self))
            datadog.LogsArchiveOrder(
                f"{self._prefix}-archive-order",
                archive_ids=pulumi.Output.all(
                    current.archive_ids, *(archive.id for archive in archives.values())
                ).apply(lambda found: merged_order(found[0] or [], found[1:])),
                opts=self._child(),
            )
        return archives


def _encryption_rule(kms_key_arn: str | None) -> aws.s3.BucketServerSideEncryptionConfigurationRuleArgs:
    if kms_key_arn:
        return aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
            apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
            ),
            # One data key per bucket rather than per object: far fewer KMS requests for hourly archive files.
            bucket_key_enabled=True,
        )
    return aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
        apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
            sse_algorithm="AES256"
        )
    )
