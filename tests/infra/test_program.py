"""The real Pulumi program, per stack, under Pulumi's mocks: what it registers and what it refuses."""

from __future__ import annotations

import json
import runpy
from collections import Counter
from pathlib import Path

import pytest
import yaml

from logmon.plan import aws as aws_artefacts
from logmon.plan import datadog as datadog_artefacts
from logmon.plan import kubernetes as kubernetes_artefacts
from logmon.plan.recorder import RecordedResource, record
from logmon.plan.runner import Plan, PlanFailed, run_plan, stack_config
from logmon.search import parse
from logmon.search.monitor_query import parse_monitor_query
from tests.projects import ROOT, STACKS, copy_project, planned

MONITOR = "datadog:index/monitor:Monitor"
INDEX = "datadog:index/logsIndex:LogsIndex"
BUCKET = "aws:s3/bucket:Bucket"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
FIVE_MONITORS = {"high_error_rate", "payment_failures", "fraud_blocks", "authentication_failures", "security_incidents"}


def of_type(plan: Plan, type_: str) -> dict[str, RecordedResource]:
    return {r.name: r for r in plan.resources if r.type == type_}


def log_monitors(plan: Plan) -> dict[str, RecordedResource]:
    """The monitors written in the rules (`log alert`), without the daily-quota event monitors."""
    return {name: m for name, m in of_type(plan, MONITOR).items() if m.inputs["type"] == "log alert"}


@pytest.mark.parametrize("stack", STACKS)
class TestMonitors:
    def test_the_five_monitors_are_registered(self, stack: str) -> None:
        """Every stack registers the five log monitors, one per rule slug."""
        monitors = log_monitors(planned(stack))
        assert {name.removeprefix("monitor-") for name in monitors} == FIVE_MONITORS
        assert all(m.inputs["type"] == "log alert" for m in monitors.values())

    def test_query_number_equals_the_critical_threshold(self, stack: str) -> None:
        """The number in each query is the string critical threshold Datadog compares it with."""
        for monitor in log_monitors(planned(stack)).values():
            query = parse_monitor_query(monitor.inputs["query"])
            assert query.threshold == float(monitor.inputs["monitorThresholds"]["critical"])
            assert isinstance(monitor.inputs["monitorThresholds"]["critical"], str)
            assert isinstance(monitor.inputs["priority"], str)

    def test_event_queries_search_attributes(self, stack: str) -> None:
        """Event monitors search `@` attributes; none searches a tag the logger never sets."""
        for name, monitor in log_monitors(planned(stack)).items():
            search = parse_monitor_query(monitor.inputs["query"]).search
            if name != "monitor-high_error_rate":
                assert search.startswith("@event_type:")
            assert "event_type:" not in search.replace("@event_type:", "")

    def test_missing_data_is_set_one_way_only(self, stack: str) -> None:
        """Monitors use on_missing_data and never notify_no_data with it; count monitors don't need a full window."""
        for monitor in log_monitors(planned(stack)).values():
            assert monitor.inputs["onMissingData"] == "default"
            assert "notifyNoData" not in monitor.inputs
            assert monitor.inputs["requireFullWindow"] is False


class TestMonitorOverrides:
    def test_per_minute_rates_scale_by_the_window(self) -> None:
        """Prod's payment failures: 50/min over 5 minutes is `> 250`, warning 25/min is 125."""
        monitor = log_monitors(planned("prod"))["monitor-payment_failures"]
        assert monitor.inputs["query"].endswith(" > 250")
        assert monitor.inputs["monitorThresholds"] == {"critical": "250", "warning": "125"}

    def test_dev_overrides_threshold_and_handles(self) -> None:
        """Dev's override lowers the threshold and routes to its own channel without copying the monitor."""
        monitor = log_monitors(planned("dev"))["monitor-payment_failures"]
        assert monitor.inputs["query"].endswith(" > 25")
        assert "@slack-payments-dev" in monitor.inputs["message"]
        assert "@pagerduty-payments" not in monitor.inputs["message"]

    def test_environment_handles_join_each_severity(self) -> None:
        """Prod's environment-wide pager joins priority 1–2 alerts; its warning channel every warning or low alert."""
        for monitor in log_monitors(planned("prod")).values():
            message = monitor.inputs["message"]
            pages = monitor.inputs["priority"] in ("1", "2")
            warns = "warning" in monitor.inputs["monitorThresholds"]
            assert "{{#is_alert}}" in message
            assert ("@pagerduty-platform" in message) == pages
            assert ("@slack-platform-alerts" in message) == (warns or not pages)


@pytest.mark.parametrize("stack", STACKS)
class TestNotifications:
    def test_no_warning_block_without_a_warning_threshold(self, stack: str) -> None:
        """A monitor without a warning threshold has no warning block; the others have one."""
        for monitor in log_monitors(planned(stack)).values():
            warns = "warning" in monitor.inputs["monitorThresholds"]
            assert ("{{#is_warning}}" in monitor.inputs["message"]) == warns
        security = log_monitors(planned(stack))["monitor-security_incidents"]
        assert "{{#is_warning" not in security.inputs["message"]

    def test_only_priority_one_and_two_page(self, stack: str) -> None:
        """PagerDuty handles appear only in priority 1–2 monitors; fraud and login monitors (3) never page."""
        monitors = log_monitors(planned(stack))
        for monitor in monitors.values():
            if monitor.inputs["priority"] not in ("1", "2"):
                assert "@pagerduty" not in monitor.inputs["message"]
        if stack == "prod":
            assert "@pagerduty-security" in monitors["monitor-security_incidents"].inputs["message"]

    def test_low_priority_alerts_go_to_the_warning_handles(self, stack: str) -> None:
        """A priority 3 monitor's alert block notifies its warning handles."""
        message = log_monitors(planned(stack))["monitor-fraud_blocks"].inputs["message"]
        alert = message.split("{{#is_alert}}", 1)[1].split("{{/is_alert}}", 1)[0]
        assert "@slack-fraud-alerts" in alert

    def test_no_evaluation_delay(self, stack: str) -> None:
        """Log monitors carry no evaluation delay, which Datadog applies to metric monitors only."""
        for monitor in log_monitors(planned(stack)).values():
            assert "evaluationDelay" not in monitor.inputs


@pytest.mark.parametrize("stack", STACKS)
class TestIndexes:
    def test_hot_and_warm_days(self, stack: str) -> None:
        """Standard indexes keep 7 hot days and 30 days in total; the debug index is Flex only."""
        indexes = of_type(planned(stack), INDEX)
        for name in ("index-security", "index-main"):
            assert indexes[name].inputs["retentionDays"] == 7
            assert indexes[name].inputs["flexRetentionDays"] == 30
        assert "retentionDays" not in indexes["index-debug"].inputs
        assert indexes["index-debug"].inputs["flexRetentionDays"] == 30

    def test_index_order_follows_the_rules(self, stack: str) -> None:
        """The index order lists the indexes as the rules do, the catch-all last."""
        (order,) = of_type(planned(stack), "datadog:index/logsIndexOrder:LogsIndexOrder").values()
        assert order.inputs["indexes"] == ["security", "debug", "main"]


class TestSamplingPerEnvironment:
    @pytest.mark.parametrize(("stack", "rate"), [("dev", 0.0), ("staging", 0.5), ("prod", 0.9)])
    def test_exclusion_sample_rate(self, stack: str, rate: float) -> None:
        """Each stack's override sets how much routine logging the main index drops, with or without an ID."""
        main = of_type(planned(stack), INDEX)["index-main"]
        correlated, uncorrelated = main.inputs["exclusionFilters"]
        assert correlated["filters"][0]["sampleRate"] == rate
        assert correlated["filters"][0]["sampleAttribute"] == "@correlation_id"
        assert correlated["filters"][0]["query"].startswith("@correlation_id:* ")
        assert uncorrelated["filters"][0]["sampleRate"] == rate
        assert "sampleAttribute" not in uncorrelated["filters"][0]
        assert uncorrelated["filters"][0]["query"].startswith("-@correlation_id:* ")


@pytest.mark.parametrize("stack", STACKS)
class TestArchive:
    def test_lifecycle_transitions_and_seven_year_expiry(self, stack: str) -> None:
        """The lifecycle moves to IA at 30, Glacier IR at 90, Deep Archive at 365 and expires at 2557 days."""
        (rule,) = aws_artefacts.lifecycle_configuration(planned(stack).resources)["Rules"]
        assert [(t["Days"], t["StorageClass"]) for t in rule["Transitions"]] == [
            (30, "STANDARD_IA"),
            (90, "GLACIER_IR"),
            (365, "DEEP_ARCHIVE"),
        ]
        assert rule["Expiration"] == {"Days": 2557}
        assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
        assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}

    def test_lifecycle_passes_botocore_validation(self, stack: str) -> None:
        """botocore's PutBucketLifecycleConfiguration validation accepts the lifecycle."""
        config = aws_artefacts.lifecycle_configuration(planned(stack).resources)
        assert aws_artefacts.validate_lifecycle(config) == []

    def test_datadog_trust_with_external_id(self, stack: str) -> None:
        """The role trusts Datadog's AWS account only, on the external ID condition."""
        policies = aws_artefacts.iam_policies(planned(stack).resources)
        (statement,) = policies[f"DatadogLogArchive-{stack}/trust"]["Statement"]
        assert statement["Principal"] == {"AWS": "arn:aws:iam::464622532012:root"}
        assert statement["Action"] == "sts:AssumeRole"
        assert set(statement["Condition"]["StringEquals"]) == {"sts:ExternalId"}

    def test_policy_actions_and_resources_are_exact(self, stack: str) -> None:
        """The archive policy grants Put/GetObject on the archive paths and ListBucket on the bucket, nothing more."""
        policies = aws_artefacts.iam_policies(planned(stack).resources)
        bucket = f"acme-payments-log-archive-{stack}"
        (policy,) = [p for name, p in policies.items() if not name.endswith("/trust")]
        granted = sorted(
            (tuple(sorted([s["Action"]] if isinstance(s["Action"], str) else s["Action"])), json.dumps(s["Resource"]))
            for s in policy["Statement"]
        )
        assert granted == sorted(
            [
                (
                    ("s3:GetObject", "s3:PutObject"),
                    json.dumps([f"arn:aws:s3:::{bucket}/datadog/security/*", f"arn:aws:s3:::{bucket}/datadog/logs/*"]),
                ),
                (("s3:ListBucket",), json.dumps(f"arn:aws:s3:::{bucket}")),
            ]
        )


class TestProtection:
    def test_prod_protects_the_bucket_and_indexes(self) -> None:
        """In prod exactly the archive bucket and the three indexes are protected."""
        protected = {(r.type, r.name) for r in planned("prod").resources if r.protect}
        assert protected == {
            (BUCKET, "archive-bucket"),
            (INDEX, "index-security"),
            (INDEX, "index-debug"),
            (INDEX, "index-main"),
        }

    @pytest.mark.parametrize("stack", ["dev", "staging"])
    def test_other_stacks_protect_nothing(self, stack: str) -> None:
        """Dev and staging can be torn down freely."""
        assert not [r for r in planned(stack).resources if r.protect]

    def test_prod_locks_objects(self) -> None:
        """Prod's bucket has Object Lock, in compliance mode for a year."""
        plan = planned("prod")
        (bucket,) = of_type(plan, BUCKET).values()
        assert bucket.inputs["objectLockEnabled"] is True
        (lock,) = of_type(plan, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration").values()
        assert lock.inputs["rule"]["defaultRetention"] == {"mode": "COMPLIANCE", "days": 365}


@pytest.mark.parametrize("stack", STACKS)
class TestRenderedPayloads:
    def test_kubernetes_objects_pass_strict_validation(self, stack: str) -> None:
        """The agent's manifests pass kubernetes-validate in strict mode."""
        manifests = kubernetes_artefacts.manifests(planned(stack).resources)
        assert {m["kind"] for m in manifests} >= {"Namespace", "DaemonSet", "ClusterRole", "Secret"}
        assert kubernetes_artefacts.validate(manifests) == []

    def test_datadog_payloads_load_into_the_api_models(self, stack: str) -> None:
        """Monitor, pipeline, index, metric and archive documents load into datadog-api-client's models."""
        documents = datadog_artefacts.documents(planned(stack).resources)
        assert Counter(folder for folder, *_ in documents) == {
            "monitors": 6,
            "pipelines": 2,
            "indexes": 3,
            "metrics": 7,
        }
        for _, name, document, model in documents:
            assert datadog_artefacts.validate(document, model) == [], name
        groks = [
            processor
            for folder, _, document, _ in documents
            if folder == "pipelines"
            for processor in document["processors"]
            if processor["type"] == "grok-parser"
        ]
        assert [grok["source"] for grok in groks] == ["message"]
        assert groks[0]["grok"]["match_rules"].startswith("ingress.upstreaminfo %{_combined}")
        assert groks[0]["samples"]
        archives = aws_artefacts.logs_archive_requests(planned(stack).resources)
        assert len(archives) == 2
        for request in archives.values():
            assert aws_artefacts.validate_logs_archive_request(request) == []


class TestSecrets:
    SECRET = "dd-api-key-0123456789abcdef-must-not-leak"

    def test_no_secret_in_plain_text(self) -> None:
        """With real secret values set, they appear nowhere in the recorded inputs or the stack outputs."""
        config, _, _ = stack_config("prod", "logmon", ROOT)
        config["datadog:apiKey"] = self.SECRET
        config["datadog:appKey"] = self.SECRET[::-1]
        recording = record(
            lambda: runpy.run_path(str(ROOT / "infra" / "__main__.py"), run_name="__main__"),
            config=config,
            secret_keys=frozenset({"datadog:apiKey", "datadog:appKey"}),
            project="logmon",
            stack="prod",
        )
        assert recording.failure is None
        dumped = json.dumps([r.inputs for r in recording.resources]) + json.dumps(recording.outputs)
        assert self.SECRET not in dumped
        assert self.SECRET[::-1] not in dumped
        (secret,) = [r for r in recording.resources if r.type == "kubernetes:core/v1:Secret"]
        assert secret.inputs["stringData"] == "[secret]"


class TestGate:
    def test_a_rule_failing_lint_registers_nothing(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A lint error stops the program before any resource is registered, with the finding in Pulumi's log."""
        project = copy_project(tmp_path)
        monitors = project / "rules" / "monitors.yaml"
        monitors.write_text(
            monitors.read_text().replace(
                '"@event_type:fraud_detection @action:block"', '"event_type:fraud_detection @action:block"'
            )
        )
        config, secrets, _ = stack_config("prod", "logmon", project)
        monkeypatch.chdir(project)
        recording = record(
            lambda: runpy.run_path(str(project / "infra" / "__main__.py"), run_name="__main__"),
            config=config,
            secret_keys=frozenset(secrets),
            project="logmon",
            stack="prod",
        )
        assert recording.resources == []
        assert type(recording.failure).__name__ == "RunError"
        assert any("query/tag-vs-attribute" in line and "rules/monitors.yaml:" in line for line in recording.errors())

    def test_plan_reports_the_findings(self, tmp_path: Path) -> None:
        """run_plan turns the refusal into PlanFailed carrying the findings."""
        project = copy_project(tmp_path)
        indexes = project / "rules" / "indexes.yaml"
        indexes.write_text(indexes.read_text().replace("sample_rate: 0.9", "sample_rate: 1.9"))
        with pytest.raises(PlanFailed) as failed:
            run_plan("prod", project)
        assert any("index/sample-rate" in message for message in failed.value.messages)

    def test_a_wrong_setting_names_the_key_and_the_stack_file(self, tmp_path: Path) -> None:
        """A missing setting is reported with its full key and the stack file's line."""
        project = copy_project(tmp_path)
        stack_file = project / "Pulumi.staging.yaml"
        document = yaml.safe_load(stack_file.read_text())
        del document["config"]["logmon:settings"]["archive"]["bucket"]
        stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
        with pytest.raises(PlanFailed) as failed:
            run_plan("staging", project)
        (message, *_) = failed.value.messages
        assert message.startswith("Pulumi.staging.yaml:")
        assert "`logmon:settings.archive.bucket`: missing required key 'bucket'" in message


SCANNER_RULE = "datadog:index/sensitiveDataScannerRule:SensitiveDataScannerRule"
SCANNER_SLUGS = {
    "visa_card_4x4",
    "visa_card_1x16",
    "mastercard_4x4",
    "mastercard_1x16",
    "amex_card_1x15",
    "amex_card_4_6_5",
    "discover_card_4x4",
    "discover_card_1x16",
    "email",
}


@pytest.mark.parametrize("stack", STACKS)
class TestSensitiveDataScanner:
    def test_rules_are_named_by_slug(self, stack: str) -> None:
        """Each scanner rule is `sensitive-data-rule-<slug>`, never a position."""
        rules = of_type(planned(stack), SCANNER_RULE)
        assert set(rules) == {f"sensitive-data-rule-{slug}" for slug in SCANNER_SLUGS}

    def test_every_rule_excludes_the_trace_ids(self, stack: str) -> None:
        """Every rule leaves `dd` (trace and span IDs) and the correlation ID unscanned."""
        for rule in of_type(planned(stack), SCANNER_RULE).values():
            assert {"dd", "correlation_id"} <= set(rule.inputs["excludedNamespaces"])

    def test_card_rules_use_standard_patterns(self, stack: str) -> None:
        """Card rules refer to a looked-up standard pattern and send no regex; the email rule sends its regex."""
        rules = of_type(planned(stack), SCANNER_RULE)
        for name, rule in rules.items():
            if name == "sensitive-data-rule-email":
                assert "pattern" in rule.inputs
                assert "standardPatternId" not in rule.inputs
            else:
                assert rule.inputs["standardPatternId"].startswith("standard-pattern-")
                assert "pattern" not in rule.inputs
        assert len({rule.inputs.get("standardPatternId") for rule in rules.values()}) == len(rules)


class TestScannerRuleOrder:
    def test_reordering_rules_changes_no_resource(self, tmp_path: Path) -> None:
        """Reversing the scanner rules in the YAML registers the same resources with the same inputs."""
        project = copy_project(tmp_path)
        path = project / "rules" / "sensitive-data.yaml"
        document = yaml.safe_load(path.read_text())
        rules = document["sensitive_data"]["rules"]
        document["sensitive_data"]["rules"] = dict(reversed(list(rules.items())))
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        reordered = {r.name: r.inputs for r in run_plan("dev", project).resources if r.type == SCANNER_RULE}
        original = {name: r.inputs for name, r in of_type(planned("dev"), SCANNER_RULE).items()}
        assert list(reordered) != list(original)
        assert reordered == original


@pytest.mark.parametrize("stack", STACKS)
class TestDailyQuotaMonitors:
    def test_one_per_index_with_a_daily_limit(self, stack: str) -> None:
        """Every index with a daily limit, and only those, has a daily-quota event monitor."""
        plan = planned(stack)
        limited = {r.inputs["name"] for r in of_type(plan, INDEX).values() if r.inputs.get("dailyLimit")}
        quota = {name: m for name, m in of_type(plan, MONITOR).items() if m.inputs["type"] != "log alert"}
        assert limited == {"main"}
        assert set(quota) == {f"monitor-daily-quota-{index}" for index in limited}

    def test_watches_the_daily_quota_events_of_its_index(self, stack: str) -> None:
        """An event monitor on Datadog's daily-quota events of the index, alerting on the first one."""
        monitor = of_type(planned(stack), MONITOR)["monitor-daily-quota-main"]
        assert monitor.inputs["type"] == "event-v2 alert"
        query = monitor.inputs["query"]
        assert query.startswith("events(")
        assert query.endswith(').rollup("count").last("1h") >= 1')
        search = json.loads(query.removeprefix("events(").split(").rollup(", 1)[0])
        assert search == 'source:datadog datadog_index:main "daily quota"'
        assert parse(search)
        assert monitor.inputs["monitorThresholds"] == {"critical": "1"}
        assert monitor.inputs["priority"] == "2"

    def test_notifies_the_environment_handles(self, stack: str) -> None:
        """The quota monitor tells the environment's handles, with no warning block (it only alerts)."""
        settings = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]["logmon:settings"]
        message = of_type(planned(stack), MONITOR)["monitor-daily-quota-main"].inputs["message"]
        for handle in (*settings["notifications"]["critical"], *settings["notifications"]["warning"]):
            assert handle in message
        assert "{{#is_warning" not in message
        assert "daily-quota warning threshold" in message
