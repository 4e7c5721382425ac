"""The Datadog Agent component under Pulumi's mocks: what it registers, and the manifests those become."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from infra.components.agent import TOKEN, DatadogAgent, DatadogAgentArgs
from logmon.diagnostics import RulesInvalid
from logmon.plan.kubernetes import KUBERNETES_VERSION, manifests, to_yaml, validate
from logmon.plan.recorder import SECRET_PLACEHOLDER, RecordedResource, Recording, record
from logmon.settings import StackSettings, parse_settings

API_KEY = "5f1e0c2b9a8d7e6f5a4b3c2d1e0f9a8b"
IMAGE = "gcr.io/datadoghq/agent:7.81.1"
COMPONENT = f"{TOKEN}::datadog-agent"
KINDS = {
    "Namespace": "kubernetes:core/v1:Namespace",
    "ServiceAccount": "kubernetes:core/v1:ServiceAccount",
    "Secret": "kubernetes:core/v1:Secret",
    "ClusterRole": "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    "ClusterRoleBinding": "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
    "DaemonSet": "kubernetes:apps/v1:DaemonSet",
    "PriorityClass": "kubernetes:scheduling.k8s.io/v1:PriorityClass",
}


def settings_document(**agent: Any) -> dict[str, Any]:
    return {
        "environment": "prod",
        "datadog_site": "datadoghq.eu",
        "aws_region": "eu-west-1",
        "aws_account_id": "123456789012",
        "cluster_name": "payments-prod",
        "kubernetes": {"context": "payments-prod"},
        "archive": {"bucket": "acme-payments-log-archive"},
        "agent": {"image": IMAGE, **agent},
    }


def stack_settings(**agent: Any) -> StackSettings:
    return StackSettings.model_validate(settings_document(**agent))


def refusal(**agent: Any) -> str:
    """The one finding that the stack settings with these agent settings are refused with."""
    with pytest.raises(RulesInvalid) as refused:
        parse_settings(settings_document(**agent), None, "prod")
    (finding,) = refused.value.findings
    return finding.message


def run(
    stack: StackSettings,
    *,
    opts: Callable[[], pulumi.ResourceOptions | None] = lambda: None,
    api_key: Callable[[], pulumi.Input[str]] = lambda: pulumi.Config("datadog").require_secret("apiKey"),
    configured_key: str = API_KEY,
) -> Recording:
    """Register the component as the stack's program would, with the API key as secret config."""

    def program() -> None:
        agent = DatadogAgent("datadog-agent", DatadogAgentArgs.from_settings(stack, api_key()), opts())
        pulumi.export("agent_namespace", agent.namespace)
        pulumi.export("agent_daemonset", agent.daemonset_name)

    return record(
        program,
        config={"datadog:apiKey": configured_key},
        secret_keys=frozenset({"datadog:apiKey"}),
        project="logmon",
        stack=stack.environment,
    )


PROD_AGENT = {
    "namespace": "observability",
    "tolerations": [
        {"key": "dedicated", "operator": "Equal", "value": "payments", "effect": "NoSchedule"},
        {"operator": "Exists"},
    ],
    "resources": {"requests": {"cpu": "250m", "memory": "300Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
    "priority_class_create": True,
    "priority_class_name": "logs-critical",
}


@pytest.fixture(scope="module")
def recording() -> Recording:
    return run(stack_settings(**PROD_AGENT))


def one(recording: Recording, kind: str) -> dict[str, Any]:
    return recording.one(KINDS[kind]).inputs


def pod_spec(recording: Recording) -> dict[str, Any]:
    spec: dict[str, Any] = one(recording, "DaemonSet")["spec"]["template"]["spec"]
    return spec


def agent_container(recording: Recording) -> dict[str, Any]:
    (container,) = [c for c in pod_spec(recording)["containers"] if c["name"] == "agent"]
    found: dict[str, Any] = container
    return found


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {variable["name"]: variable.get("value", variable.get("valueFrom")) for variable in container["env"]}


class TestResources:
    def test_registers_one_of_each_kubernetes_object(self, recording: Recording) -> None:
        """It registers one Namespace, ServiceAccount, Secret, ClusterRole, binding and DaemonSet."""
        kinds = Counter(resource.type for resource in recording.resources if resource.custom)
        assert kinds == Counter(KINDS.values())
        assert [r.type for r in recording.resources if not r.custom] == [TOKEN]

    def test_every_child_is_parented_to_the_component(self, recording: Recording) -> None:
        """Every Kubernetes resource is a child of the component, so its URN sits under the component's."""
        children = [resource for resource in recording.resources if resource.custom]
        assert {resource.parent for resource in children} == {COMPONENT}

    def test_logical_names_are_unique_and_prefixed(self, recording: Recording) -> None:
        """Each child's logical name starts with the component's name and no two collide."""
        names = [resource.name for resource in recording.resources if resource.custom]
        assert len(set(names)) == len(names)
        assert all(name.startswith("datadog-agent-") for name in names)

    def test_outputs_name_the_namespace_and_the_daemonset(self, recording: Recording) -> None:
        """The component's outputs are the namespace from settings and the DaemonSet's name."""
        assert recording.outputs == {"agent_namespace": "observability", "agent_daemonset": "datadog-agent"}

    @pytest.mark.parametrize(
        "options",
        [
            lambda provider: pulumi.ResourceOptions(provider=provider),
            lambda provider: pulumi.ResourceOptions(providers={"kubernetes": provider}),
            lambda provider: pulumi.ResourceOptions(providers=[provider]),
        ],
        ids=["provider", "providers-mapping", "providers-list"],
    )
    def test_a_kubernetes_provider_reaches_every_child(
        self, options: Callable[[k8s.Provider], pulumi.ResourceOptions]
    ) -> None:
        """A cluster provider given to the component is the provider of every Kubernetes child."""
        recorded = run(stack_settings(**PROD_AGENT), opts=lambda: options(k8s.Provider("cluster", kubeconfig="{}")))
        children = [r for r in recorded.resources if r.type in KINDS.values()]
        assert Counter(r.type for r in children) == Counter(KINDS.values())
        assert {r.provider for r in children} == {"pulumi:providers:kubernetes::cluster"}

    def test_without_a_provider_children_use_the_default_one(self, recording: Recording) -> None:
        """With no provider given, no child names one (the ambient kubeconfig applies)."""
        assert {r.provider for r in recording.resources} == {None}


class TestDaemonSet:
    def test_environment_configures_log_collection(self, recording: Recording) -> None:
        """The agent collects every container's logs from the kubelet's files and ships them to the site."""
        env = env_of(agent_container(recording))
        assert env["DD_API_KEY"] == {"secretKeyRef": {"name": "datadog-agent-api-key", "key": "api-key"}}
        assert env["DD_KUBERNETES_KUBELET_HOST"] == {"fieldRef": {"fieldPath": "status.hostIP"}}
        assert {name: env[name] for name in env if name not in {"DD_API_KEY", "DD_KUBERNETES_KUBELET_HOST"}} == {
            "DD_SITE": "datadoghq.eu",
            "DD_CLUSTER_NAME": "payments-prod",
            "DD_ENV": "prod",
            "KUBERNETES": "yes",
            "DD_LOGS_ENABLED": "true",
            "DD_LOGS_CONFIG_CONTAINER_COLLECT_ALL": "true",
            "DD_LOGS_CONFIG_K8S_CONTAINER_USE_FILE": "true",
            "DD_CONTAINER_EXCLUDE_LOGS": "name:^agent$",
            "DD_HEALTH_PORT": "5555",
            "DD_REMOTE_CONFIGURATION_ENABLED": "false",
            "DD_APM_ENABLED": "false",
            "DD_USE_DOGSTATSD": "false",
            "DD_ORCHESTRATOR_EXPLORER_ENABLED": "false",
            "DD_ENABLE_PAYLOADS_SERIES": "false",
            "DD_ENABLE_PAYLOADS_EVENTS": "false",
            "DD_ENABLE_PAYLOADS_SERVICE_CHECKS": "false",
            "DD_ENABLE_PAYLOADS_SKETCHES": "false",
        }

    def test_api_key_reference_names_the_recorded_secret(self, recording: Recording) -> None:
        """DD_API_KEY reads the key field of the Secret the component creates, in the same namespace."""
        secret = one(recording, "Secret")
        reference = env_of(agent_container(recording))["DD_API_KEY"]["secretKeyRef"]
        assert (secret["metadata"]["name"], secret["metadata"]["namespace"]) == (
            reference["name"],
            "observability",
        )
        assert one(recording, "DaemonSet")["metadata"]["namespace"] == "observability"

    @pytest.mark.parametrize("site", ["us5.datadoghq.com", "ap1.datadoghq.com", "ddog-gov.com"])
    def test_site_and_environment_follow_the_settings(self, site: str) -> None:
        """DD_SITE, DD_ENV and DD_CLUSTER_NAME come from the stack settings."""
        stack = stack_settings().model_copy(
            update={"datadog_site": site, "environment": "staging", "cluster_name": "eks-staging"}
        )
        env = env_of(agent_container(run(stack)))
        assert (env["DD_SITE"], env["DD_ENV"], env["DD_CLUSTER_NAME"]) == (site, "staging", "eks-staging")

    @pytest.mark.parametrize(
        ("container_name", "excluded"),
        [("agent", True), ("user-agent", False), ("agent-sidecar", False), ("payments-api", False)],
    )
    def test_own_log_exclusion_matches_only_the_agent_container(
        self, recording: Recording, container_name: str, excluded: bool
    ) -> None:
        """The `name:` filter (a regex searched in container names) matches the agent container, no other."""
        rule = env_of(agent_container(recording))["DD_CONTAINER_EXCLUDE_LOGS"]
        kind, _, pattern = rule.partition(":")
        assert kind == "name"
        assert (re.search(pattern, container_name) is not None) is excluded
        assert re.search(pattern, agent_container(recording)["name"])

    def test_host_directories_are_mounted_as_log_collection_needs(self, recording: Recording) -> None:
        """Pod log directories and host state are read-only; only the pointer directory is writable."""
        volumes = {volume["name"]: volume for volume in pod_spec(recording)["volumes"]}
        mounts = {
            mount["mountPath"]: (volumes[mount["name"]].get("hostPath"), mount["readOnly"])
            for mount in agent_container(recording)["volumeMounts"]
            if "hostPath" in volumes[mount["name"]]
        }
        assert mounts == {
            "/opt/datadog-agent/run": (
                {"path": "/var/lib/datadog-agent/logs", "type": "DirectoryOrCreate"},
                False,
            ),
            "/var/log/pods": ({"path": "/var/log/pods", "type": "Directory"}, True),
            "/var/log/containers": ({"path": "/var/log/containers", "type": "Directory"}, True),
            "/var/lib/docker/containers": (
                {"path": "/var/lib/docker/containers", "type": "DirectoryOrCreate"},
                True,
            ),
            "/host/proc": ({"path": "/proc", "type": "Directory"}, True),
            "/host/sys/fs/cgroup": ({"path": "/sys/fs/cgroup", "type": "Directory"}, True),
            "/host/var/run": ({"path": "/var/run", "type": "Directory"}, True),
        }

    def test_root_filesystem_is_read_only_with_empty_dirs_where_the_agent_writes(self, recording: Recording) -> None:
        """Every container's root is read-only; config, the agent's own log and /tmp are empty directories."""
        spec = pod_spec(recording)
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        for container in spec["initContainers"] + spec["containers"]:
            assert container["securityContext"] == {"readOnlyRootFilesystem": True}
        scratch = {
            mount["mountPath"]
            for mount in agent_container(recording)["volumeMounts"]
            if volumes[mount["name"]].get("emptyDir") == {} and mount["readOnly"] is False
        }
        assert scratch == {"/etc/datadog-agent", "/var/log/datadog", "/tmp"}

    def test_init_containers_prepare_the_config_volume(self, recording: Recording) -> None:
        """Init containers copy the image's configuration into the writable config volume first."""
        init = {container["name"]: container for container in pod_spec(recording)["initContainers"]}
        assert list(init) == ["init-volume", "init-config"]
        assert init["init-volume"]["volumeMounts"][0] == {
            "name": "config",
            "mountPath": "/opt/datadog-agent",
            "readOnly": False,
        }
        assert {"name": "config", "mountPath": "/etc/datadog-agent", "readOnly": False} in init["init-config"][
            "volumeMounts"
        ]

    @pytest.mark.parametrize(
        ("probe", "path"), [("liveness", "/live"), ("readiness", "/ready"), ("startup", "/startup")]
    )
    def test_probes_use_the_health_port(self, recording: Recording, probe: str, path: str) -> None:
        """Liveness, readiness and startup probes call the agent's health endpoints on port 5555."""
        check = agent_container(recording)[f"{probe}Probe"]
        assert check["httpGet"] == {"path": path, "port": 5555, "scheme": "HTTP"}
        assert check["failureThreshold"] >= 3

    def test_rolling_update_replaces_a_tenth_of_the_nodes_at_a_time(self, recording: Recording) -> None:
        """Upgrades roll over the nodes with at most 10% of the agents unavailable."""
        strategy = one(recording, "DaemonSet")["spec"]["updateStrategy"]
        assert strategy == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}}

    def test_resources_come_from_the_settings(self, recording: Recording) -> None:
        """Requests and limits are the stack's, on the agent and on the init containers."""
        spec = pod_spec(recording)
        expected = {"requests": {"cpu": "250m", "memory": "300Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
        assert [c["resources"] for c in spec["initContainers"] + spec["containers"]] == [expected] * 3

    def test_default_resources_are_requested_and_limited(self) -> None:
        """Without settings the agent still has requests and limits (200m/256Mi, 500m/512Mi)."""
        resources = agent_container(run(stack_settings()))["resources"]
        assert resources == {
            "requests": {"cpu": "200m", "memory": "256Mi"},
            "limits": {"cpu": "500m", "memory": "512Mi"},
        }

    def test_tolerations_come_from_the_settings(self, recording: Recording) -> None:
        """The stack's tolerations reach the pod spec unchanged."""
        assert pod_spec(recording)["tolerations"] == [
            {"key": "dedicated", "operator": "Equal", "value": "payments", "effect": "NoSchedule"},
            {"operator": "Exists"},
        ]

    def test_no_priority_class_or_toleration_unless_set(self) -> None:
        """Without settings, the pod spec has no priority class and no tolerations."""
        spec = pod_spec(run(stack_settings()))
        assert "priorityClassName" not in spec
        assert spec.get("tolerations", []) == []

    def test_every_container_runs_the_pinned_image(self, recording: Recording) -> None:
        """Agent and init containers run the image pinned in the settings, pulled only when absent."""
        spec = pod_spec(recording)
        assert {(c["image"], c["imagePullPolicy"]) for c in spec["initContainers"] + spec["containers"]} == {
            (IMAGE, "IfNotPresent")
        }

    def test_pods_run_as_the_service_account_on_linux_nodes(self, recording: Recording) -> None:
        """Pods use the component's ServiceAccount (with its token) and schedule on Linux nodes only."""
        spec = pod_spec(recording)
        assert spec["serviceAccountName"] == one(recording, "ServiceAccount")["metadata"]["name"]
        assert spec["automountServiceAccountToken"] is True
        assert spec["nodeSelector"] == {"kubernetes.io/os": "linux"}

    def test_selector_matches_the_pod_labels(self, recording: Recording) -> None:
        """The DaemonSet's selector selects its own pods."""
        daemonset = one(recording, "DaemonSet")["spec"]
        selector = daemonset["selector"]["matchLabels"]
        labels = daemonset["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items()
        assert selector


class TestRbac:
    def test_cluster_role_only_reads(self, recording: Recording) -> None:
        """No rule grants a verb other than get, list or watch."""
        verbs = {verb for rule in one(recording, "ClusterRole")["rules"] for verb in rule["verbs"]}
        assert verbs <= {"get", "list", "watch"}

    def test_cluster_role_grants_what_the_agent_reads(self, recording: Recording) -> None:
        """The role covers the objects, kubelet subresources and API paths the agent reads, nothing else."""
        granted = {
            (group, resource, tuple(rule["verbs"]))
            for rule in one(recording, "ClusterRole")["rules"]
            for group in rule.get("apiGroups", ["<url>"])
            for resource in rule.get("resources", rule.get("nonResourceURLs", []))
        }
        read = ("get", "list", "watch")
        assert granted == {
            *(
                ("", resource, read)
                for resource in (
                    "services",
                    "events",
                    "endpoints",
                    "pods",
                    "nodes",
                    "namespaces",
                    "componentstatuses",
                )
            ),
            ("discovery.k8s.io", "endpointslices", read),
            *(("", f"nodes/{sub}", ("get",)) for sub in ("metrics", "spec", "proxy", "stats")),
            *(("<url>", url, ("get",)) for url in ("/version", "/healthz", "/metrics")),
        }

    def test_binding_grants_the_role_to_the_service_account(self, recording: Recording) -> None:
        """The ClusterRoleBinding ties the ClusterRole to the agent's ServiceAccount in its namespace."""
        binding = one(recording, "ClusterRoleBinding")
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": one(recording, "ClusterRole")["metadata"]["name"],
        }
        account = one(recording, "ServiceAccount")["metadata"]
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
        ]

    def test_namespace_admits_host_path_pods(self, recording: Recording) -> None:
        """The namespace enforces the privileged Pod Security level, the only one that allows hostPath."""
        labels = one(recording, "Namespace")["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "privileged"


class TestKubeletAuthorization:
    @staticmethod
    def kubelet_rule(recording: Recording) -> dict[str, Any]:
        (rule,) = [r for r in one(recording, "ClusterRole")["rules"] if "nodes/stats" in r.get("resources", [])]
        return rule

    def test_fine_grained_subresources_replace_nodes_proxy(self) -> None:
        """With fine-grained authorization the role lists the chart's kubelet subresources and no nodes/proxy."""
        recorded = run(stack_settings(kubelet_fine_grained_authorization=True, kubelet_version="1.33"))
        rule = self.kubelet_rule(recorded)
        assert rule["resources"] == [
            "nodes/metrics",
            "nodes/spec",
            "nodes/pods",
            "nodes/healthz",
            "nodes/configz",
            "nodes/logs",
            "nodes/stats",
        ]
        assert rule["verbs"] == ["get"]
        roles = json.dumps([r.inputs for r in recorded.resources if r.type == KINDS["ClusterRole"]])
        assert "nodes/proxy" not in roles

    def test_nodes_proxy_is_granted_by_default(self, recording: Recording) -> None:
        """Without the setting the role keeps nodes/proxy, which every kubelet version honours."""
        assert "nodes/proxy" in self.kubelet_rule(recording)["resources"]
        assert "nodes/pods" not in self.kubelet_rule(recording)["resources"]

    def test_fine_grained_role_passes_strict_validation(self) -> None:
        """The fine-grained ClusterRole renders to a manifest the Kubernetes schemas accept."""
        recorded = run(stack_settings(kubelet_fine_grained_authorization=True, kubelet_version="1.36"))
        assert validate(manifests(recorded.resources)) == []

    @pytest.mark.parametrize("version", ["1.33", "1.36", "1.100"])
    def test_kubelets_from_1_33_allow_it(self, version: str) -> None:
        """Kubelets 1.33 and later check the fine-grained subresources by default, so the setting is accepted."""
        agent = stack_settings(kubelet_fine_grained_authorization=True, kubelet_version=version).agent
        assert agent.kubelet_fine_grained_authorization

    @pytest.mark.parametrize("version", ["1.32", "1.9", "1.28"])
    def test_older_kubelets_are_refused_with_the_reason(self, version: str) -> None:
        """Before 1.33 the feature gate is off by default: the setting is refused, naming the version."""
        message = refusal(kubelet_fine_grained_authorization=True, kubelet_version=version)
        assert f"kubelet_version is {version}" in message
        assert "1.33 or later" in message
        assert "nodes/proxy" in message

    def test_an_unknown_kubelet_version_is_refused(self) -> None:
        """Fine-grained authorization without a kubelet version is refused: it says which setting to add."""
        message = refusal(kubelet_fine_grained_authorization=True)
        assert "needs `kubelet_version`" in message

    @pytest.mark.parametrize("version", ["1.33.2", "v1.33", "2.0", "1."])
    def test_a_malformed_kubelet_version_is_refused(self, version: str) -> None:
        """The kubelet version is a `1.<minor>` string."""
        assert "kubelet_version" in refusal(kubelet_version=version)


class TestPriorityClass:
    def test_created_class_has_the_charts_defaults(self, recording: Recording) -> None:
        """The created PriorityClass has the chart's value (1e9) and preemption, and is nobody's default."""
        priority_class = one(recording, "PriorityClass")
        assert priority_class["metadata"]["name"] == "logs-critical"
        assert "namespace" not in priority_class["metadata"]
        assert (priority_class["value"], priority_class["preemptionPolicy"], priority_class["globalDefault"]) == (
            1_000_000_000,
            "PreemptLowerPriority",
            False,
        )

    def test_pods_use_the_created_class(self, recording: Recording) -> None:
        """The DaemonSet's pods name the class the component created."""
        assert pod_spec(recording)["priorityClassName"] == one(recording, "PriorityClass")["metadata"]["name"]

    def test_created_class_is_named_after_the_component_by_default(self) -> None:
        """Without a name, the created class takes the component's name, as the chart takes its release's."""
        recorded = run(stack_settings(priority_class_create=True, priority_class_value=900))
        assert one(recorded, "PriorityClass")["metadata"]["name"] == "datadog-agent"
        assert one(recorded, "PriorityClass")["value"] == 900
        assert pod_spec(recorded)["priorityClassName"] == "datadog-agent"

    def test_an_existing_class_is_used_without_creating_one(self) -> None:
        """A named class without `priority_class_create` is used as it is; nothing is created."""
        recorded = run(stack_settings(priority_class_name="system-node-critical"))
        assert recorded.of_type(KINDS["PriorityClass"]) == []
        assert pod_spec(recorded)["priorityClassName"] == "system-node-critical"

    def test_created_class_passes_strict_validation(self, recording: Recording) -> None:
        """The PriorityClass renders to a manifest the Kubernetes schemas accept."""
        (document,) = [d for d in manifests(recording.resources) if d["kind"] == "PriorityClass"]
        assert document["apiVersion"] == "scheduling.k8s.io/v1"
        assert validate([document]) == []

    def test_a_system_name_cannot_be_created(self) -> None:
        """Creating a class under Kubernetes' reserved `system-` prefix is refused with the way out."""
        message = refusal(priority_class_create=True, priority_class_name="system-node-critical")
        assert "`system-` prefix" in message
        assert "priority_class_create: false" in message

    @pytest.mark.parametrize("value", [1_000_000_001, -1])
    def test_a_value_outside_the_user_range_is_refused(self, value: int) -> None:
        """Priorities above one billion belong to system classes; negative ones would rank below workloads."""
        assert "priority_class_value" in refusal(priority_class_create=True, priority_class_value=value)


class TestApiKeyChecksum:
    @staticmethod
    def checksum(recording: Recording) -> str:
        annotations = one(recording, "DaemonSet")["spec"]["template"]["metadata"]["annotations"]
        value: str = annotations["checksum/api_key"]
        return value

    def test_pod_template_carries_the_keys_sha256(self, recording: Recording) -> None:
        """The pod template's `checksum/api_key` is the SHA-256 of the key the Secret holds."""
        assert self.checksum(recording) == hashlib.sha256(API_KEY.encode()).hexdigest()

    def test_a_new_key_changes_only_the_checksum(self, recording: Recording) -> None:
        """Rotating the key changes the pod template (so the pods roll) and nothing else in the DaemonSet."""
        rotated = run(stack_settings(**PROD_AGENT), configured_key="0" * 32)
        before, after = copy.deepcopy(one(recording, "DaemonSet")), copy.deepcopy(one(rotated, "DaemonSet"))
        assert self.checksum(rotated) != self.checksum(recording)
        for daemonset in (before, after):
            del daemonset["spec"]["template"]["metadata"]["annotations"]
        assert before == after

    def test_the_same_key_gives_the_same_checksum(self, recording: Recording) -> None:
        """Another run with the same key leaves the template alone, so an unrelated `up` rolls nothing."""
        assert self.checksum(run(stack_settings(**PROD_AGENT))) == self.checksum(recording)

    def test_checksum_is_shown_in_plain_text(self, recording: Recording) -> None:
        """The checksum is deliberately not a secret: previews show that a rotation rolls the pods."""
        assert re.fullmatch(r"[0-9a-f]{64}", self.checksum(recording))

    def test_a_plain_key_gets_the_same_checksum(self) -> None:
        """A key passed as a plain string is checksummed like the secret one."""
        recorded = run(stack_settings(), api_key=lambda: API_KEY)
        assert self.checksum(recorded) == hashlib.sha256(API_KEY.encode()).hexdigest()


class TestApiKey:
    def test_api_key_never_appears_in_the_recording(self, recording: Recording) -> None:
        """No recorded input or output holds the API key; the Secret shows the placeholder."""
        dump = json.dumps([(r.type, r.name, r.inputs) for r in recording.resources] + [recording.outputs])
        assert API_KEY not in dump
        assert one(recording, "Secret")["stringData"] == SECRET_PLACEHOLDER

    def test_a_plain_api_key_is_kept_secret_too(self) -> None:
        """An API key passed as a plain string is still recorded only as the placeholder."""
        recorded = run(stack_settings(), api_key=lambda: "not-a-pulumi-secret-0123456789")
        assert "not-a-pulumi-secret" not in json.dumps([r.inputs for r in recorded.resources])
        assert recorded.one(KINDS["Secret"]).inputs["stringData"] == SECRET_PLACEHOLDER

    def test_api_key_never_appears_in_the_manifests(self, recording: Recording) -> None:
        """The rendered YAML carries the placeholder under the key the DaemonSet reads, never the value."""
        rendered = to_yaml(manifests(recording.resources))
        assert API_KEY not in rendered
        (secret,) = [doc for doc in yaml.safe_load_all(rendered) if doc["kind"] == "Secret"]
        assert secret["stringData"] == {"api-key": SECRET_PLACEHOLDER}


class TestArgs:
    def test_from_settings_carries_the_agent_settings(self) -> None:
        """Every field of the args comes from the stack settings, the API key from the caller."""
        args = DatadogAgentArgs.from_settings(stack_settings(**PROD_AGENT), "key")
        assert (args.namespace, args.image, args.cluster_name, args.datadog_site, args.environment) == (
            "observability",
            IMAGE,
            "payments-prod",
            "datadoghq.eu",
            "prod",
        )
        assert (args.api_key, args.logs_only, args.kubelet_fine_grained_authorization) == ("key", True, False)
        assert (args.priority_class_create, args.priority_class_name, args.priority_class_value) == (
            True,
            "logs-critical",
            1_000_000_000,
        )
        assert [t.key for t in args.tolerations] == ["dedicated", None]
        assert args.resources.limits.memory == "1Gi"

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("image", "gcr.io/datadoghq/agent", "not pinned"),
            ("image", "gcr.io/datadoghq/agent:latest", "not pinned"),
            ("namespace", "Datadog", "not a Kubernetes namespace name"),
            ("datadog_site", "datadoghq.co", "not a Datadog site"),
            ("cluster_name", "", "cluster_name is empty"),
        ],
    )
    def test_bad_args_are_refused_with_the_fix(self, field: str, value: str, message: str) -> None:
        """Args that would deploy a broken agent are refused, naming the field and what to give instead."""
        good: dict[str, Any] = {
            "namespace": "datadog",
            "image": IMAGE,
            "cluster_name": "c",
            "datadog_site": "datadoghq.com",
            "environment": "dev",
            "api_key": "k",
        }
        with pytest.raises(ValueError, match=message) as raised:
            DatadogAgentArgs(**{**good, field: value})
        assert f"DatadogAgentArgs.{field}" in str(raised.value)

    def test_component_name_must_suit_kubernetes_objects(self) -> None:
        """A component name that cannot name Kubernetes objects is refused before anything is registered."""
        args = DatadogAgentArgs.from_settings(stack_settings(), "key")
        with pytest.raises(ValueError, match="lower-case letters"):
            DatadogAgent("Datadog_Agent", args)

    def test_metrics_can_be_turned_back_on(self) -> None:
        """With logs_only off, the payload switches are absent and the agent sends metrics as usual."""
        stack = stack_settings()

        def program() -> None:
            args = DatadogAgentArgs.from_settings(stack, "key")
            DatadogAgent("datadog-agent", dataclasses.replace(args, logs_only=False))

        recorded = record(program, config={}, project="logmon", stack="dev")
        assert not any(name.startswith("DD_ENABLE_PAYLOADS") for name in env_of(agent_container(recorded)))


class TestManifests:
    def test_manifests_come_in_apply_order(self, recording: Recording) -> None:
        """The Namespace comes first and the DaemonSet last, so one `kubectl apply -f` pass works."""
        kinds = [manifest["kind"] for manifest in manifests(recording.resources)]
        assert kinds == [
            "Namespace",
            "PriorityClass",
            "ServiceAccount",
            "Secret",
            "ClusterRole",
            "ClusterRoleBinding",
            "DaemonSet",
        ]

    def test_manifests_pass_strict_schema_validation(self, recording: Recording) -> None:
        """Every rendered manifest is valid against the Kubernetes schemas in strict mode."""
        assert validate(manifests(recording.resources)) == []

    def test_yaml_reads_back_as_the_same_manifests(self, recording: Recording) -> None:
        """The multi-document YAML parses back to exactly the manifests, integers and strings alike."""
        documents = manifests(recording.resources)
        rendered = to_yaml(documents)
        assert rendered.startswith("---\napiVersion: v1\nkind: Namespace\n")
        assert list(yaml.safe_load_all(rendered)) == documents
        probe = agent_container_of(documents)["livenessProbe"]["httpGet"]
        assert probe["port"] == 5555
        assert isinstance(probe["port"], int)

    def test_a_misspelt_field_fails_validation(self, recording: Recording) -> None:
        """A typo in a field name is reported with the manifest and the path to it."""
        documents = manifests(recording.resources)
        broken = copy.deepcopy(documents)
        container = agent_container_of(broken)
        container["imagePullPolicyy"] = container.pop("imagePullPolicy")
        (problem,) = validate(broken)
        assert problem.startswith("manifest 7 (DaemonSet observability/datadog-agent): ")
        assert "spec.template.spec.containers[0]" in problem
        assert "imagePullPolicyy" in problem

    def test_a_wrong_type_fails_validation(self, recording: Recording) -> None:
        """A value of the wrong type is reported at its path."""
        broken = copy.deepcopy(manifests(recording.resources))
        agent_container_of(broken)["env"] = "DD_SITE=datadoghq.eu"
        (problem,) = validate(broken)
        assert "spec.template.spec.containers[0].env" in problem

    def test_a_manifest_without_kind_or_with_an_unknown_kind_is_a_problem(self) -> None:
        """A manifest that cannot be checked is reported, not passed."""
        problems = validate(
            [
                {"apiVersion": "v1", "metadata": {"name": "x"}},
                {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
            ]
        )
        assert problems[0] == "manifest 1 (? x): has no apiVersion or kind; every manifest needs both"
        assert problems[1].startswith("manifest 2 (Widget w): Couldn't find schema for kind Widget")

    def test_an_unsupported_kubernetes_version_is_refused(self) -> None:
        """Asking for a Kubernetes version without schemas fails with the supported range."""
        with pytest.raises(ValueError, match=r"no schemas for Kubernetes 9\.99; use one of 1\.\d+ to 1\.\d+"):
            validate([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}], "9.99")

    def test_default_version_is_the_newest_shipped(self) -> None:
        """The default Kubernetes version is the newest one kubernetes-validate has schemas for."""
        from kubernetes_validate.utils import latest_version

        assert latest_version().startswith(f"{KUBERNETES_VERSION}.")

    def test_only_kubernetes_objects_become_manifests(self) -> None:
        """Components, providers, other clouds' resources and patches are left out."""
        resources = [
            RecordedResource(TOKEN, "agent", {}, custom=False),
            RecordedResource("pulumi:providers:kubernetes", "cluster", {"kubeconfig": "{}"}, custom=True),
            RecordedResource("aws:s3/bucket:Bucket", "archive", {"bucket": "b"}, custom=True),
            RecordedResource("kubernetes:core/v1:ConfigMapPatch", "patch", {"data": {"a": "b"}}, custom=True),
            RecordedResource("kubernetes:helm.sh/v3:Release", "chart", {"chart": "datadog"}, custom=True),
            RecordedResource("kubernetes:core/v1:ConfigMap", "settings", {"data": {"a": "b"}}, custom=True),
        ]
        assert manifests(resources) == [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "b"}}
        ]

    def test_secret_data_placeholders_move_to_string_data(self) -> None:
        """Hidden values of `data` (base64) are shown under `stringData`, so the manifest stays valid."""
        resources = [
            RecordedResource(
                "kubernetes:core/v1:Secret",
                "creds",
                {"metadata": {"name": "creds"}, "data": {"user": "YWRtaW4=", "password": SECRET_PLACEHOLDER}},
                custom=True,
            ),
            RecordedResource(
                "kubernetes:core/v1:Secret",
                "whole",
                {"metadata": {"name": "whole"}, "data": SECRET_PLACEHOLDER},
                True,
            ),
        ]
        creds, whole = manifests(resources)
        assert (creds["data"], creds["stringData"]) == (
            {"user": "YWRtaW4="},
            {"password": SECRET_PLACEHOLDER},
        )
        assert "data" not in whole
        assert whole["stringData"] == {SECRET_PLACEHOLDER: SECRET_PLACEHOLDER}
        assert validate([creds, whole]) == []

    @settings(max_examples=50, deadline=None)
    @given(
        data=st.dictionaries(
            st.from_regex(r"[-._a-zA-Z0-9]{1,20}", fullmatch=True),
            st.one_of(st.text(max_size=30), st.sampled_from(["true", "no", "10%", "5555", "1e3", "~", "null"])),
            max_size=5,
        )
    )
    def test_yaml_keeps_every_string_a_string(self, data: dict[str, str]) -> None:
        """Values that look like booleans, numbers or null survive the YAML round trip as the same strings."""
        documents = manifests([RecordedResource("kubernetes:core/v1:ConfigMap", "c", {"data": data}, custom=True)])
        assert list(yaml.safe_load_all(to_yaml(documents))) == documents


def agent_container_of(documents: list[dict[str, Any]]) -> dict[str, Any]:
    (daemonset,) = [document for document in documents if document["kind"] == "DaemonSet"]
    container: dict[str, Any] = daemonset["spec"]["template"]["spec"]["containers"][0]
    return container
