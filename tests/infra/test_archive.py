"""The log archive component run under Pulumi's mocks, and the native artefacts rebuilt from its recording."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.components.archive import (
    ARCHIVE_OBJECT_ACTIONS,
    KMS_ACTIONS,
    TOKEN,
    LogArchive,
    LogArchiveArgs,
    archive_policy,
    object_resources,
)
from logmon import s3lifecycle
from logmon.plan import aws as plan
from logmon.plan.recorder import RecordedResource, Recording, record
from logmon.rules.model import Archive, Retention
from logmon.settings import StackSettings

ACCOUNT = "123456789012"
BUCKET = "acme-logmon-archive-prod"
KMS_KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0b5e7c1a-1111-2222-3333-444455556666"
PARENT = f"{TOKEN}::archive"

# The provider SDK loads its deprecated S3 aliases lazily, inside the first test that registers a bucket.
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated in favor of:DeprecationWarning")

BUCKET_TYPE = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
EXTERNAL_ID = "datadog:aws/integrationExternalId:IntegrationExternalId"
INTEGRATION = "datadog:aws/integrationAccount:IntegrationAccount"
ARCHIVE_ORDER = "datadog:index/logsArchiveOrder:LogsArchiveOrder"

RETENTION = Retention.model_validate(
    {
        "hot": {"days": 7},
        "warm": {"days": 30},
        "cold": {
            "transitions": [
                {"after_days": 30, "storage_class": "STANDARD_IA"},
                {"after_days": 90, "storage_class": "GLACIER_IR"},
                {"after_days": 365, "storage_class": "DEEP_ARCHIVE"},
            ]
        },
        "delete_after_days": 2557,
    }
)
CATCH_ALL = {"everything": Archive.model_validate({"name": "all logs", "query": "*", "path": "/datadog"})}
SECURITY_FIRST = {
    "security": Archive.model_validate(
        {
            "name": "security audit",
            "query": "@event_category:security",
            "path": "/datadog/security",
            "rehydration_tags": ["team:security"],
            "rehydration_max_scan_size_in_gb": 100,
        }
    ),
    "everything": Archive.model_validate({"name": "all logs", "query": "*", "path": "/datadog/logs"}),
}


def stack_settings(
    archive: Mapping[str, Any] | None = None, *, protect: bool = False, site: str = "datadoghq.com"
) -> StackSettings:
    return StackSettings.model_validate(
        {
            "environment": "prod",
            "datadog_site": site,
            "aws_region": "eu-west-1",
            "aws_account_id": ACCOUNT,
            "cluster_name": "payments",
            "kubernetes": {"context": "payments"},
            "protect": protect,
            "archive": {"bucket": BUCKET, **(archive or {})},
            "agent": {"image": "gcr.io/datadoghq/agent:7.64.3"},
        }
    )


@dataclass
class Run:
    recording: Recording
    outputs: dict[str, Any]
    """The component's outputs, resolved (secrets included, as the program sees them)."""

    def one(self, type_: str) -> RecordedResource:
        return self.recording.one(type_)

    def all(self, type_: str) -> list[RecordedResource]:
        return self.recording.of_type(type_)

    @property
    def children(self) -> list[RecordedResource]:
        return [resource for resource in self.recording.resources if resource.type != TOKEN]


def run(settings_: StackSettings, archives: Mapping[str, Archive] = CATCH_ALL, retention: Retention = RETENTION) -> Run:
    built: list[LogArchive] = []

    def program() -> None:
        built.append(LogArchive("archive", LogArchiveArgs.from_settings(settings_, retention, archives)))

    recording = record(program, config={}, project="logmon", stack="prod", account_id=ACCOUNT, region="eu-west-1")
    archive = built[0]
    outputs = {
        name: _resolve(getattr(archive, name))
        for name in ("bucket_name", "bucket_arn", "role_arn", "archive_ids", "external_id")
    }
    outputs["trust_policy"] = None if archive.trust_policy is None else _resolve(archive.trust_policy)
    return Run(recording, outputs)


def _resolve(output: pulumi.Output[Any]) -> Any:
    return asyncio.get_event_loop().run_until_complete(output.future())


@pytest.fixture(scope="module")
def plain() -> Run:
    """`integration: create`, SSE-S3, no Object Lock, unprotected, US1."""
    return run(stack_settings())


@pytest.fixture(scope="module")
def hardened() -> Run:
    """`integration: create`, SSE-KMS, Object Lock, protected, AP1, two archives."""
    return run(
        stack_settings(
            {"kms_key_arn": KMS_KEY, "object_lock": {"enabled": True, "mode": "COMPLIANCE", "days": 400}},
            protect=True,
            site="ap1.datadoghq.com",
        ),
        SECURITY_FIRST,
    )


@pytest.fixture(scope="module")
def existing() -> Run:
    """`integration: existing` with a role named by the settings."""
    return run(stack_settings({"integration": "existing", "role_name": "DatadogIntegrationRole"}))


def _statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(document["Statement"])


def _actions(statement: Mapping[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


class TestArgs:
    def test_from_settings_carries_the_stack(self) -> None:
        """from_settings takes the archive settings, account, region, protection and the ordered archives."""
        args = LogArchiveArgs.from_settings(stack_settings(protect=True), RETENTION, SECURITY_FIRST)
        assert args.settings.bucket == BUCKET
        assert (args.aws_account_id, args.aws_region, args.environment) == (ACCOUNT, "eu-west-1", "prod")
        assert args.protect is True
        assert list(args.archives) == ["security", "everything"]
        assert args.datadog_aws_account == "464622532012"
        assert args.tags["environment"] == "prod"

    def test_ap1_uses_datadogs_ap1_account(self) -> None:
        """The AP1 site's archive role is assumed from Datadog's AP1 AWS account."""
        args = LogArchiveArgs.from_settings(stack_settings(site="ap1.datadoghq.com"), RETENTION, CATCH_ALL)
        assert args.datadog_aws_account == "417141415827"

    def test_bad_role_name_is_refused_with_the_setting_named(self) -> None:
        """A role name IAM would refuse fails before any resource, naming `archive.role_name`."""
        with pytest.raises(ValueError, match=r"archive\.role_name 'no spaces allowed'"):
            LogArchiveArgs.from_settings(stack_settings({"role_name": "no spaces allowed"}), RETENTION, CATCH_ALL)

    def test_bad_archive_slug_is_refused(self) -> None:
        """An archive key that cannot name a Pulumi resource is refused with the key."""
        with pytest.raises(ValueError, match="archive key 'All-Logs'"):
            LogArchiveArgs.from_settings(stack_settings(), RETENTION, {"All-Logs": CATCH_ALL["everything"]})

    def test_root_path_grants_the_whole_bucket_once(self) -> None:
        """An archive at `/` grants `bucket/*`, and two archives on one path give one resource."""
        root = Archive.model_validate({"name": "root", "path": "/"})
        assert object_resources("arn:aws:s3:::b", {"a": root, "b": root}) == ["arn:aws:s3:::b/*"]


class TestResources:
    def test_create_mode_resource_set(self, plain: Run) -> None:
        """`create` registers the bucket pieces, external ID, role, policy, integration, archive and order."""
        counts: dict[str, int] = {}
        for resource in plain.children:
            counts[resource.type] = counts.get(resource.type, 0) + 1
        assert counts == {
            BUCKET_TYPE: 1,
            VERSIONING: 1,
            ENCRYPTION: 1,
            OWNERSHIP: 1,
            PUBLIC_ACCESS: 1,
            plan.BUCKET_POLICY: 1,
            plan.LIFECYCLE: 1,
            EXTERNAL_ID: 1,
            plan.ROLE: 1,
            plan.ROLE_POLICY: 1,
            INTEGRATION: 1,
            "time:index/sleep:Sleep": 1,
            plan.LOGS_ARCHIVE: 1,
            ARCHIVE_ORDER: 1,
        }

    def test_every_child_is_parented_to_the_component(self, hardened: Run) -> None:
        """Each resource is a child of the one `logmon:aws:LogArchive` component."""
        assert len(hardened.all(TOKEN)) == 1
        assert {resource.parent for resource in hardened.children} == {PARENT}

    def test_logical_names_are_unique_and_slug_based(self, hardened: Run) -> None:
        """Logical names are unique, and each Datadog archive's carries its rule slug."""
        names = [resource.name for resource in hardened.children]
        assert len(names) == len(set(names))
        assert [archive.name for archive in hardened.all(plan.LOGS_ARCHIVE)] == [
            "archive-security",
            "archive-everything",
        ]

    def test_no_archives_means_no_archive_order(self) -> None:
        """Without archives no LogsArchiveOrder is registered, since an empty one adopts the org's order."""
        result = run(stack_settings(), {})
        assert result.all(plan.LOGS_ARCHIVE) == []
        assert result.all(ARCHIVE_ORDER) == []
        assert result.outputs["archive_ids"] == {}

    def test_outputs(self, plain: Run) -> None:
        """The component exposes the bucket's name and ARN, the role's ARN and slug → archive ID."""
        assert plain.outputs["bucket_name"] == BUCKET
        assert plain.outputs["bucket_arn"] == f"arn:aws:s3:::{BUCKET}"
        assert plain.outputs["role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/DatadogLogArchiveRole"
        assert set(plain.outputs["archive_ids"]) == {"everything"}


class TestProtection:
    def test_bucket_protected_when_stack_protects(self, hardened: Run) -> None:
        """With `protect: true` the bucket is protected, and nothing else needs to be."""
        assert hardened.one(BUCKET_TYPE).protect is True
        assert [r.type for r in hardened.children if r.protect] == [BUCKET_TYPE]

    def test_bucket_unprotected_otherwise(self, plain: Run) -> None:
        """With `protect: false` the bucket is not protected."""
        assert plain.one(BUCKET_TYPE).protect is False

    def test_bucket_is_never_force_destroyed(self, plain: Run) -> None:
        """The bucket refuses deletion while it holds objects."""
        assert plain.one(BUCKET_TYPE).inputs["forceDestroy"] is False


class TestBucketSettings:
    def test_versioning_enabled(self, plain: Run) -> None:
        """Versioning is on for the archive bucket."""
        versioning = plain.one(VERSIONING).inputs
        assert versioning["bucket"] == BUCKET
        assert versioning["versioningConfiguration"] == {"status": "Enabled"}

    def test_sse_s3_by_default(self, plain: Run) -> None:
        """Without a KMS key the bucket encrypts with S3-managed keys (AES256)."""
        (rule,) = plain.one(ENCRYPTION).inputs["rules"]
        assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}

    def test_sse_kms_with_bucket_key(self, hardened: Run) -> None:
        """With `kms_key_arn` the bucket encrypts with that key and a bucket key."""
        (rule,) = hardened.one(ENCRYPTION).inputs["rules"]
        assert rule["applyServerSideEncryptionByDefault"] == {
            "sseAlgorithm": "aws:kms",
            "kmsMasterKeyId": KMS_KEY,
        }
        assert rule["bucketKeyEnabled"] is True

    def test_bucket_owner_enforced(self, plain: Run) -> None:
        """Object ownership is BucketOwnerEnforced, which disables ACLs."""
        assert plain.one(OWNERSHIP).inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}

    def test_public_access_fully_blocked(self, plain: Run) -> None:
        """All four public-access-block flags are true."""
        block = plain.one(PUBLIC_ACCESS).inputs
        flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        assert {flag: block[flag] for flag in flags} == dict.fromkeys(flags, True)

    def test_bucket_policy_denies_requests_without_tls(self, plain: Run) -> None:
        """The bucket policy denies any action on the bucket and its objects without TLS."""
        (statement,) = _statements(plan.bucket_policy(plain.recording.resources))
        assert statement["Effect"] == "Deny"
        assert statement["Principal"] == "*"
        assert statement["Action"] == "s3:*"
        assert statement["Resource"] == [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


class TestObjectLock:
    def test_off_by_default(self, plain: Run) -> None:
        """Without Object Lock the bucket is created without it and no lock configuration exists."""
        assert plain.one(BUCKET_TYPE).inputs["objectLockEnabled"] is False
        assert plain.all(OBJECT_LOCK) == []

    def test_on_at_creation_with_default_retention(self, hardened: Run) -> None:
        """With Object Lock the bucket enables it at creation and sets the configured default retention."""
        assert hardened.one(BUCKET_TYPE).inputs["objectLockEnabled"] is True
        lock = hardened.one(OBJECT_LOCK).inputs
        assert lock["bucket"] == BUCKET
        assert lock["rule"] == {"defaultRetention": {"mode": "COMPLIANCE", "days": 400}}


class TestLifecycle:
    def test_transitions_follow_the_cold_tier(self, plain: Run) -> None:
        """One whole-bucket rule moves objects to STANDARD_IA at 30, GLACIER_IR at 90, DEEP_ARCHIVE at 365."""
        (rule,) = plan.lifecycle_configuration(plain.recording.resources)["Rules"]
        assert rule["Status"] == "Enabled"
        assert rule["Filter"] == {}
        assert rule["Transitions"] == [
            {"Days": 30, "StorageClass": "STANDARD_IA"},
            {"Days": 90, "StorageClass": "GLACIER_IR"},
            {"Days": 365, "StorageClass": "DEEP_ARCHIVE"},
        ]

    def test_expiry_after_seven_years(self, plain: Run) -> None:
        """Objects expire after 2557 days, seven years with leap days."""
        (rule,) = plan.lifecycle_configuration(plain.recording.resources)["Rules"]
        assert rule["Expiration"] == {"Days": 2557}

    def test_noncurrent_versions_and_multipart_uploads_are_cleaned(self, plain: Run) -> None:
        """Noncurrent versions expire and incomplete multipart uploads are aborted."""
        (rule,) = plan.lifecycle_configuration(plain.recording.resources)["Rules"]
        assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
        assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}

    def test_rendered_lifecycle_passes_botocore(self, plain: Run) -> None:
        """The rendered lifecycle is a valid PutBucketLifecycleConfiguration input."""
        assert plan.validate_lifecycle(plan.lifecycle_configuration(plain.recording.resources), BUCKET) == []

    def test_missing_lifecycle_is_a_clear_error(self) -> None:
        """Asking for a lifecycle from a recording without one names the missing resource type."""
        with pytest.raises(plan.ArtefactMissing, match="BucketLifecycleConfiguration"):
            plan.lifecycle_configuration([])


def _rule() -> dict[str, Any]:
    return {
        "ID": "r",
        "Status": "Enabled",
        "Filter": {},
        "Transitions": [
            {"Days": 30, "StorageClass": "STANDARD_IA"},
            {"Days": 90, "StorageClass": "GLACIER_IR"},
            {"Days": 365, "StorageClass": "DEEP_ARCHIVE"},
        ],
        "Expiration": {"Days": 2557},
    }


def _broken(change: str) -> dict[str, Any]:
    rule = _rule()
    transitions = rule["Transitions"]
    if change == "bad storage class":
        transitions[1]["StorageClass"] = "GLACIER_INSTANT"
    elif change == "missing status":
        del rule["Status"]
    elif change == "days as text":
        transitions[0]["Days"] = "30"
    elif change == "unknown field":
        rule["Expiry"] = {"Days": 2557}
    elif change == "ia too early":
        transitions[0]["Days"] = 10
    elif change == "days out of order":
        transitions[2]["Days"] = 60
    elif change == "against the waterfall":
        transitions[:2] = [
            {"Days": 30, "StorageClass": "GLACIER_IR"},
            {"Days": 120, "StorageClass": "STANDARD_IA"},
        ]
    elif change == "expires before last transition":
        rule["Expiration"] = {"Days": 300}
    elif change == "expires inside deep archive minimum":
        rule["Expiration"] = {"Days": 400}
    elif change == "leaves ia too soon":
        transitions[1]["Days"] = 45
    return {"Rules": [rule]}


class TestLifecycleValidation:
    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            ("bad storage class", "Rules[0].Transitions[1].StorageClass: 'GLACIER_INSTANT'"),
            ("missing status", 'Missing required parameter in LifecycleConfiguration.Rules[0]: "Status"'),
            ("days as text", "LifecycleConfiguration.Rules[0].Transitions[0].Days"),
            ("unknown field", 'Unknown parameter in LifecycleConfiguration.Rules[0]: "Expiry"'),
            ("ia too early", "Transitions[0]: S3 rejects a transition to STANDARD_IA after 10 days"),
            ("days out of order", "Transitions[2]: the transition to DEEP_ARCHIVE at day 60 does not come after"),
            ("against the waterfall", "S3 cannot move objects from GLACIER_IR to STANDARD_IA"),
            ("expires before last transition", "Expiration: objects expire at day 300, not after the last transition"),
            ("expires inside deep archive minimum", "objects stay 35 days in DEEP_ARCHIVE, which bills at least 180"),
            ("leaves ia too soon", "objects stay 15 days in STANDARD_IA, which bills at least 30"),
        ],
    )
    def test_broken_lifecycle_is_reported(self, change: str, expected: str) -> None:
        """A lifecycle S3 would refuse, or bill past its deletion, gets a problem naming the field."""
        problems = plan.validate_lifecycle(_broken(change))
        assert any(expected in problem for problem in problems), problems

    def test_valid_lifecycle_has_no_problems(self) -> None:
        """The reference lifecycle passes shape, enumeration and transition checks."""
        assert plan.validate_lifecycle({"Rules": [_rule()]}) == []

    def test_missing_rules_is_reported(self) -> None:
        """A configuration without `Rules` is reported as a missing required parameter."""
        assert plan.validate_lifecycle({}) == [
            'Missing required parameter in LifecycleConfiguration: "Rules"',
        ]

    @settings(max_examples=60, deadline=None)
    @given(
        st.recursive(
            st.none() | st.booleans() | st.integers(-5, 4000) | st.sampled_from(["Enabled", "GLACIER", "x", ""]),
            lambda children: (
                st.lists(children, max_size=3)
                | st.dictionaries(
                    st.sampled_from(
                        [
                            "Rules",
                            "ID",
                            "Status",
                            "Filter",
                            "Transitions",
                            "Days",
                            "StorageClass",
                            "Expiration",
                        ]
                    ),
                    children,
                    max_size=4,
                )
            ),
            max_leaves=12,
        )
    )
    def test_any_input_gets_problems_not_a_traceback(self, config: Any) -> None:
        """Whatever the input, validation returns readable problems and never raises."""
        problems = plan.validate_lifecycle({"Rules": config} if not isinstance(config, dict) else config)
        assert all(isinstance(problem, str) and problem for problem in problems)

    @settings(max_examples=40, deadline=None)
    @given(
        st.lists(st.sampled_from(s3lifecycle.WATERFALL[1:]), min_size=1, max_size=4, unique=True),
        st.lists(st.integers(0, 60), min_size=5, max_size=5),
    )
    def test_chains_down_the_waterfall_pass(self, classes: list[str], slack: list[int]) -> None:
        """Transitions down the waterfall, spaced by each class's minimum, with a late expiry, pass."""
        transitions: list[dict[str, Any]] = []
        days = 0
        previous = "STANDARD"
        for storage_class, extra in zip(sorted(classes, key=s3lifecycle.WATERFALL.index), slack, strict=False):
            days = max(
                days + s3lifecycle.MINIMUM_BILLABLE_DAYS.get(previous, 1),
                s3lifecycle.MINIMUM_DAYS_BEFORE.get(storage_class, 0),
            )
            days += extra
            transitions.append({"Days": days, "StorageClass": storage_class})
            previous = storage_class
        expiry = days + s3lifecycle.MINIMUM_BILLABLE_DAYS.get(previous, 1) + slack[-1]
        config = {"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {}, "Transitions": transitions,
                             "Expiration": {"Days": expiry}}]}  # fmt: skip
        assert plan.validate_lifecycle(config) == []


class TestIam:
    def test_trust_allows_datadog_with_the_external_id(self, plain: Run) -> None:
        """The role trusts Datadog's US1 account for sts:AssumeRole only with the external ID."""
        (statement,) = _statements(json.loads(plain.outputs["trust_policy"]))
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"AWS": "arn:aws:iam::464622532012:root"}
        assert statement["Action"] == "sts:AssumeRole"
        assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": plain.outputs["external_id"]}}

    def test_trust_on_ap1_names_datadogs_ap1_account(self, hardened: Run) -> None:
        """On AP1 the trusted principal is Datadog's account 417141415827."""
        (statement,) = _statements(json.loads(hardened.outputs["trust_policy"]))
        assert statement["Principal"] == {"AWS": "arn:aws:iam::417141415827:root"}

    def test_trust_policy_is_reviewable_in_the_plan(self, plain: Run) -> None:
        """The recorded trust policy (what a plan shows) names Datadog's account and the external ID."""
        role = plain.one(plan.ROLE)
        assert role.inputs["name"] == "DatadogLogArchiveRole"
        trust = plan.iam_policies(plain.recording.resources)["DatadogLogArchiveRole/trust"]
        (statement,) = _statements(trust)
        assert statement["Principal"] == {"AWS": "arn:aws:iam::464622532012:root"}
        assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": plain.outputs["external_id"]}}
        auth = plain.one(INTEGRATION).inputs["authConfig"]
        assert auth["awsAuthConfigRole"]["externalId"] == plain.outputs["external_id"]

    def test_policy_grants_exactly_the_archive_paths(self, plain: Run) -> None:
        """The inline policy allows only Put/GetObject under the archive path and ListBucket on the bucket."""
        documents = plan.iam_policies(plain.recording.resources)
        policy = documents[f"DatadogLogArchiveRole/logmon-log-archive-{BUCKET}"]
        assert [(s["Effect"], sorted(_actions(s)), s["Resource"]) for s in _statements(policy)] == [
            ("Allow", ["s3:GetObject", "s3:PutObject"], [f"arn:aws:s3:::{BUCKET}/datadog/*"]),
            ("Allow", ["s3:ListBucket"], f"arn:aws:s3:::{BUCKET}"),
        ]
        assert not any("*" in action for statement in _statements(policy) for action in _actions(statement))

    def test_policy_lists_every_archive_path_and_the_kms_key(self, hardened: Run) -> None:
        """Each archive's path is granted; with KMS one statement allows the four key actions on the key."""
        policy = plan.iam_policies(hardened.recording.resources)[f"DatadogLogArchiveRole/logmon-log-archive-{BUCKET}"]
        objects, listing, key = _statements(policy)
        assert objects["Resource"] == [
            f"arn:aws:s3:::{BUCKET}/datadog/security/*",
            f"arn:aws:s3:::{BUCKET}/datadog/logs/*",
        ]
        assert _actions(objects) == list(ARCHIVE_OBJECT_ACTIONS)
        assert _actions(listing) == ["s3:ListBucket"]
        assert (key["Effect"], _actions(key), key["Resource"]) == ("Allow", list(KMS_ACTIONS), KMS_KEY)

    def test_policy_is_built_from_the_settings_alone(self) -> None:
        """The permission policy renders without any deployed resource (it is plain data)."""
        args = LogArchiveArgs.from_settings(stack_settings(), RETENTION, CATCH_ALL)
        assert archive_policy(args)["Statement"][1]["Resource"] == f"arn:aws:s3:::{BUCKET}"


class TestIntegrationModes:
    def test_create_registers_the_account_through_the_role(self, plain: Run) -> None:
        """`create` registers the AWS account with the new role and the generated external ID."""
        integration = plain.one(INTEGRATION).inputs
        assert integration["awsAccountId"] == ACCOUNT
        assert integration["awsPartition"] == "aws"
        assert plain.one(plan.LOGS_ARCHIVE).inputs["s3Archive"]["roleName"] == "DatadogLogArchiveRole"

    def test_create_collects_nothing_beyond_the_archive(self, plain: Run) -> None:
        """The required blocks are present and off: no metrics, resources, traces or forwarder."""
        integration = plain.one(INTEGRATION).inputs
        assert integration["awsRegions"] == {"includeOnlies": ["eu-west-1"]}
        assert integration["metricsConfig"]["enabled"] is False
        assert integration["metricsConfig"]["namespaceFilters"] == {}
        assert integration["resourcesConfig"] == {
            "extendedCollection": False,
            "cloudSecurityPostureManagementCollection": False,
        }
        assert integration["tracesConfig"] == {"xrayServices": {"includeOnlies": []}}
        assert integration["logsConfig"] == {"lambdaForwarder": {"lambdas": [], "sources": []}}

    def test_existing_attaches_the_policy_to_the_named_role(self, existing: Run) -> None:
        """`existing` creates no role, external ID or integration; the policy goes on the named role."""
        for absent in (plan.ROLE, EXTERNAL_ID, INTEGRATION):
            assert existing.all(absent) == []
        assert existing.one(plan.ROLE_POLICY).inputs["role"] == "DatadogIntegrationRole"
        assert existing.outputs["trust_policy"] is None
        assert existing.outputs["role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/DatadogIntegrationRole"

    def test_existing_reads_the_accounts_external_id(self, existing: Run) -> None:
        """`existing` reads the integrated account's external ID from Datadog."""
        assert existing.outputs["external_id"] == "0" * 32

    def test_existing_archives_use_the_named_role(self, existing: Run) -> None:
        """The Datadog archive writes through the existing integration's role."""
        assert existing.one(plan.LOGS_ARCHIVE).inputs["s3Archive"]["roleName"] == "DatadogIntegrationRole"


class TestDatadogArchives:
    def test_archive_inputs(self, hardened: Run) -> None:
        """Each archive names the bucket, path, account, role, KMS encryption and storage class."""
        security = hardened.all(plan.LOGS_ARCHIVE)[0].inputs
        assert security["name"] == "security audit"
        assert security["query"] == "@event_category:security"
        assert security["s3Archive"] == {
            "bucket": BUCKET,
            "path": "/datadog/security",
            "accountId": ACCOUNT,
            "roleName": "DatadogLogArchiveRole",
            "encryptionType": "SSE_KMS",
            "encryptionKey": KMS_KEY,
            "storageClass": "STANDARD",
        }
        assert security["includeTags"] is True
        assert security["rehydrationTags"] == ["team:security"]
        assert security["rehydrationMaxScanSizeInGb"] == 100

    def test_sse_s3_archive(self, plain: Run) -> None:
        """Without a KMS key the archive declares SSE_S3 and no key."""
        s3_archive = plain.one(plan.LOGS_ARCHIVE).inputs["s3Archive"]
        assert s3_archive["encryptionType"] == "SSE_S3"
        assert "encryptionKey" not in s3_archive

    def test_order_lists_archives_in_rules_order(self, hardened: Run) -> None:
        """The archive order lists the archives' IDs in rules order, the catch-all last."""
        ids = hardened.outputs["archive_ids"]
        assert list(ids) == ["security", "everything"]
        assert hardened.one(ARCHIVE_ORDER).inputs["archiveIds"] == [ids["security"], ids["everything"]]

    @pytest.mark.parametrize("fixture", ["plain", "hardened", "existing"])
    def test_rendered_payloads_load_into_the_api_model(self, fixture: str, request: pytest.FixtureRequest) -> None:
        """Every rendered archive loads cleanly into datadog-api-client's LogsArchiveCreateRequest."""
        result: Run = request.getfixturevalue(fixture)
        payloads = plan.logs_archive_requests(result.recording.resources)
        assert payloads
        for payload in payloads.values():
            assert plan.validate_logs_archive_request(payload) == []

    def test_payload_shape(self, hardened: Run) -> None:
        """The payload nests the role under `integration` and the key under `encryption`, in snake_case."""
        payload = plan.logs_archive_requests(hardened.recording.resources)["archive-security"]
        attributes = payload["data"]["attributes"]
        assert payload["data"]["type"] == "archives"
        assert attributes["destination"]["integration"] == {
            "account_id": ACCOUNT,
            "role_name": "DatadogLogArchiveRole",
        }
        assert attributes["destination"]["encryption"] == {"type": "SSE_KMS", "key": KMS_KEY}
        assert attributes["rehydration_max_scan_size_in_gb"] == 100


def _payload_with(hardened: Run, change: str) -> dict[str, Any]:
    payload = copy.deepcopy(plan.logs_archive_requests(hardened.recording.resources)["archive-security"])
    attributes = payload["data"]["attributes"]
    destination = attributes["destination"]
    if change == "encryption type":
        destination["encryption"]["type"] = "SSE_AES"
    elif change == "storage class":
        destination["storage_class"] = "DEEP_ARCHIVE"
    elif change == "missing bucket":
        del destination["bucket"]
    elif change == "camelCase integration":
        destination["integration"] = {"accountId": ACCOUNT, "roleName": "DatadogLogArchiveRole"}
    elif change == "unknown attribute":
        attributes["s3_archive"] = {}
    elif change == "scan size as float":
        attributes["rehydration_max_scan_size_in_gb"] = 1.5
    return payload


class TestDatadogPayloadValidation:
    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            (
                "encryption type",
                "destination.encryption.type: 'SSE_AES' is not one of NO_OVERRIDE, SSE_KMS, SSE_S3",
            ),
            ("storage class", "destination.storage_class: 'DEEP_ARCHIVE' is not one of"),
            (
                "missing bucket",
                "destination: LogsArchiveDestinationS3.__init__() missing 1 required positional argument: 'bucket'",
            ),
            (
                "camelCase integration",
                "destination.integration: matches none of LogsArchiveIntegrationS3AccessKey",
            ),
            ("unknown attribute", "attributes.s3_archive: not a field of LogsArchiveCreateRequestAttributes"),
            ("scan size as float", "rehydration_max_scan_size_in_gb"),
        ],
    )
    def test_wrong_payload_is_reported(self, hardened: Run, change: str, expected: str) -> None:
        """A payload Datadog would refuse gets a problem pointing at the field."""
        problems = plan.validate_logs_archive_request(_payload_with(hardened, change))
        assert any(expected in problem for problem in problems), problems
