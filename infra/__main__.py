"""The Pulumi program: stack settings → checked rules → one component per concern → exports."""

import sys
from pathlib import Path

# The engine runs this directory (`main: infra/`) as a script with it as the working directory; make the
# repository's packages importable without an install. Paths come from this file, never from the cwd.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi
import pulumi_aws as aws
import pulumi_datadog as datadog
import pulumi_kubernetes as k8s
import pulumiverse_time as time

from infra.components.agent import DatadogAgent, DatadogAgentArgs
from infra.components.archive import LogArchive, LogArchiveArgs
from infra.components.datadog_logs import DatadogLogs, DatadogLogsArgs
from infra.gate import validated_inputs
from infra.project import project_root

settings, rules = validated_inputs(pulumi.get_stack(), project_root(Path(__file__).resolve().parent))

datadog_config = pulumi.Config("datadog")
datadog_provider = datadog.Provider(
    "datadog",
    api_url=f"https://api.{settings.datadog_site}/",
    api_key=datadog_config.get_secret("apiKey"),
    app_key=datadog_config.get_secret("appKey"),
)
aws_provider = aws.Provider("aws", region=settings.aws_region, allowed_account_ids=[settings.aws_account_id])
# The stack's own cluster, never kubectl's current context: `pulumi up -s prod` must not ship to dev.
kubernetes_provider = k8s.Provider(
    "kubernetes", context=settings.kubernetes.context, kubeconfig=settings.kubernetes.kubeconfig
)
time_provider = time.Provider("time")

logs = DatadogLogs(
    "logs",
    DatadogLogsArgs.from_settings(settings, rules),
    pulumi.ResourceOptions(providers=[datadog_provider]),
)
archive = None
if rules.retention is not None and rules.archives:
    archive = LogArchive(
        "archive",
        LogArchiveArgs.from_settings(settings, rules.retention, rules.archives),
        pulumi.ResourceOptions(providers=[datadog_provider, aws_provider, time_provider]),
    )
agent = DatadogAgent(
    "datadog-agent",
    DatadogAgentArgs.from_settings(settings, datadog_config.require_secret("apiKey")),
    pulumi.ResourceOptions(providers=[kubernetes_provider]),
)

pulumi.export("monitor_ids", logs.monitor_ids)
pulumi.export("index_names", logs.index_names)
if archive is not None:
    pulumi.export("archive_bucket", archive.bucket_name)
    pulumi.export("archive_bucket_arn", archive.bucket_arn)
    pulumi.export("archive_role_arn", archive.role_arn)
pulumi.export("agent_namespace", agent.namespace)
pulumi.export("agent_daemonset", agent.daemonset_name)
