"""The Datadog Agent DaemonSet that ships every container's logs, from every node, to Datadog.

One agent pod per node tails the files the kubelet writes under `/var/log/pods`, keeps its read positions in
a host directory (so a replaced pod neither re-sends nor skips lines) and sends to the stack's Datadog site.
It runs the core agent only, for logs, without a Cluster Agent; `docs/agent.md` explains what is left out.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, get_args

import pulumi
import pulumi_kubernetes as k8s

from logmon.settings import DATADOG_SITES, HIGHEST_USER_PRIORITY, AgentResources, StackSettings, Toleration

TOKEN: Final = "logmon:kubernetes:DatadogAgent"

CONTAINER_NAME: Final = "agent"
"""The agent's container name: what the `name:` container filter matches (not the image, not the pod)."""
EXCLUDE_OWN_LOGS: Final = f"name:^{CONTAINER_NAME}$"
"""Anchored, because the filter is an unanchored regular expression: `agent` would match `user-agent`."""
HEALTH_PORT: Final = 5555
API_KEY_FIELD: Final = "api-key"
CONFIG_DIR: Final = "/etc/datadog-agent"
API_KEY_CHECKSUM: Final = "checksum/api_key"
"""The pod-template annotation, named as in Datadog's Helm chart, that changes whenever the API key does."""
PRIORITY_PREEMPTION: Final = "PreemptLowerPriority"
"""The chart's default: a pending agent may evict lower-priority pods to get onto its node."""

READ_VERBS: Final = ("get", "list", "watch")
KUBELET_PROXY: Final = ("nodes/proxy",)
KUBELET_FINE_GRAINED: Final = ("nodes/pods", "nodes/healthz", "nodes/configz", "nodes/logs")
"""As the chart renders `datadog.kubelet.fineGrainedAuthorization`. The kubelet checks `/logs/` against
`nodes/log` (singular), so `nodes/logs` grants nothing; the agent tails log files and never reads `/logs/`."""
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_PINNED_IMAGE = re.compile(r"^[^:@\s]+(:[A-Za-z0-9_.\-]+|@sha256:[0-9a-f]{64})$")
_OBJECT_NAME_MAX = 57
"""Pod names add `-` and 5 random characters to the DaemonSet's; 57 keeps them a 63-character DNS label."""


@dataclass(frozen=True)
class HostMount:
    """A node directory the agent reads (or, for the pointer directory, writes)."""

    volume: str
    host_path: str
    mount_path: str
    read_only: bool
    host_path_type: str
    """`Directory` where the kubelet guarantees the path; `DirectoryOrCreate` where a node may lack it."""


HOST_MOUNTS: Final = (
    # Read positions per file; on the host so that they outlive the pod.
    HostMount("pointer-dir", "/var/lib/datadog-agent/logs", "/opt/datadog-agent/run", False, "DirectoryOrCreate"),
    HostMount("pod-logs", "/var/log/pods", "/var/log/pods", True, "Directory"),
    HostMount("container-logs", "/var/log/containers", "/var/log/containers", True, "Directory"),
    # Docker-runtime nodes keep the files behind the /var/log/pods symlinks here; containerd nodes lack it.
    HostMount(
        "docker-container-logs",
        "/var/lib/docker/containers",
        "/var/lib/docker/containers",
        True,
        "DirectoryOrCreate",
    ),
    HostMount("host-proc", "/proc", "/host/proc", True, "Directory"),
    HostMount("host-cgroup", "/sys/fs/cgroup", "/host/sys/fs/cgroup", True, "Directory"),
    # The container runtime's socket, which maps a log file to its container's tags.
    HostMount("host-run", "/var/run", "/host/var/run", True, "Directory"),
)

SCRATCH_MOUNTS: Final = (
    # The root filesystem is read-only, so the places the agent writes are empty directories.
    ("config", CONFIG_DIR),
    ("agent-logs", "/var/log/datadog"),
    ("tmp", "/tmp"),
)

LOGS_ONLY_ENV: Final = (
    # Datadog's switches for a logs-only agent: no metrics, events, service checks or sketches, so the nodes
    # are not billed as infrastructure hosts.
    ("DD_ENABLE_PAYLOADS_SERIES", "false"),
    ("DD_ENABLE_PAYLOADS_EVENTS", "false"),
    ("DD_ENABLE_PAYLOADS_SERVICE_CHECKS", "false"),
    ("DD_ENABLE_PAYLOADS_SKETCHES", "false"),
)


@dataclass(frozen=True)
class DatadogAgentArgs:
    """What the agent needs to know; build it from the stack settings with `from_settings`."""

    namespace: str
    image: str
    """Pinned by tag or digest, e.g. `gcr.io/datadoghq/agent:7.81.1`."""
    cluster_name: str
    datadog_site: str
    environment: str
    """Becomes the `env` tag on every log."""
    api_key: pulumi.Input[str]
    """Kept a Pulumi secret whatever is passed."""
    tolerations: tuple[Toleration, ...] = ()
    resources: AgentResources = field(default_factory=AgentResources)
    priority_class_name: str | None = None
    """An existing class for the pods, or the name of the created one (default: the component's name)."""
    priority_class_create: bool = False
    priority_class_value: int = HIGHEST_USER_PRIORITY
    kubelet_fine_grained_authorization: bool = False
    """Grant the kubelet's fine-grained subresources instead of `nodes/proxy` (kubelets 1.33 or later)."""
    logs_only: bool = True
    """Turn off metric payloads (see LOGS_ONLY_ENV); set False only if this agent should also be the
    infrastructure-monitoring agent."""

    def __post_init__(self) -> None:
        if not _DNS_LABEL.match(self.namespace) or len(self.namespace) > 63:
            raise ValueError(
                f"DatadogAgentArgs.namespace {self.namespace!r} is not a Kubernetes namespace name; "
                "use lower-case letters, digits and '-', at most 63 characters"
            )
        if not _PINNED_IMAGE.match(self.image) or self.image.endswith(":latest"):
            raise ValueError(
                f"DatadogAgentArgs.image {self.image!r} is not pinned; "
                "give a version tag or a digest, e.g. gcr.io/datadoghq/agent:7.81.1"
            )
        if self.datadog_site not in get_args(DATADOG_SITES):
            raise ValueError(
                f"DatadogAgentArgs.datadog_site {self.datadog_site!r} is not a Datadog site; "
                f"use one of {', '.join(get_args(DATADOG_SITES))}"
            )
        if not self.cluster_name:
            raise ValueError("DatadogAgentArgs.cluster_name is empty; give the cluster's name")

    @classmethod
    def from_settings(cls, settings: StackSettings, api_key: pulumi.Input[str]) -> DatadogAgentArgs:
        agent = settings.agent
        return cls(
            namespace=agent.namespace,
            image=agent.image,
            cluster_name=settings.cluster_name,
            datadog_site=settings.datadog_site,
            environment=settings.environment,
            api_key=api_key,
            tolerations=tuple(agent.tolerations),
            resources=agent.resources,
            priority_class_name=agent.priority_class_name,
            priority_class_create=agent.priority_class_create,
            priority_class_value=agent.priority_class_value,
            kubelet_fine_grained_authorization=agent.kubelet_fine_grained_authorization,
        )


class DatadogAgent(pulumi.ComponentResource):
    """Namespace, ServiceAccount, RBAC, the API key Secret, a PriorityClass if asked, and the DaemonSet."""

    namespace: pulumi.Output[str]
    daemonset_name: pulumi.Output[str]

    def __init__(self, name: str, args: DatadogAgentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        if not _DNS_LABEL.match(name) or len(name) > _OBJECT_NAME_MAX:
            raise ValueError(
                f"DatadogAgent name {name!r} also names its Kubernetes objects; use lower-case letters, "
                f"digits and '-', at most {_OBJECT_NAME_MAX} characters"
            )
        super().__init__(TOKEN, name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=_kubernetes_provider(opts))
        labels = _labels(name)

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.namespace,
                # hostPath volumes are refused under the baseline and restricted Pod Security levels.
                labels={**labels, "pod-security.kubernetes.io/enforce": "privileged"},
            ),
            opts=child,
        )
        namespace_name = namespace.metadata.name

        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=_metadata(name, namespace_name, labels),
            automount_service_account_token=True,
            opts=child,
        )
        cluster_role = k8s.rbac.v1.ClusterRole(
            f"{name}-cluster-role",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=name, labels=labels),
            rules=_cluster_role_rules(fine_grained_kubelet=args.kubelet_fine_grained_authorization),
            opts=child,
        )
        binding = k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-cluster-role-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=name, labels=labels),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=cluster_role.metadata.name
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(
                    kind="ServiceAccount", name=service_account.metadata.name, namespace=namespace_name
                )
            ],
            opts=child,
        )
        secret = k8s.core.v1.Secret(
            f"{name}-api-key",
            metadata=_metadata(f"{name}-api-key", namespace_name, labels),
            type="Opaque",
            string_data={API_KEY_FIELD: pulumi.Output.secret(args.api_key)},
            opts=child,
        )
        priority_class_name: pulumi.Input[str] | None = args.priority_class_name
        if args.priority_class_create:
            priority_class = k8s.scheduling.v1.PriorityClass(
                f"{name}-priority-class",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=args.priority_class_name or name, labels=labels),
                value=args.priority_class_value,
                preemption_policy=PRIORITY_PREEMPTION,
                global_default=False,
                description="Keeps a Datadog Agent on every node, ahead of ordinary workloads.",
                opts=child,
            )
            priority_class_name = priority_class.metadata.name
        daemonset = k8s.apps.v1.DaemonSet(
            f"{name}-daemonset",
            metadata=_metadata(name, namespace_name, labels),
            spec=_daemonset_spec(
                args,
                labels,
                service_account=service_account.metadata.name,
                secret=secret.metadata.name,
                priority_class_name=priority_class_name,
                annotations={API_KEY_CHECKSUM: api_key_checksum(args.api_key)},
            ),
            # Nothing in the pods names the binding; without this they could start before their permissions.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[binding])),
        )

        self.namespace = namespace_name
        self.daemonset_name = daemonset.metadata.name
        self.register_outputs({"namespace": self.namespace, "daemonset_name": self.daemonset_name})


def _kubernetes_provider(opts: pulumi.ResourceOptions | None) -> pulumi.ProviderResource | None:
    """The Kubernetes provider passed to the component, set on each child so that it shows in the plan."""
    if opts is None:
        return None
    candidates: list[pulumi.ProviderResource] = [opts.provider] if opts.provider is not None else []
    if isinstance(opts.providers, Mapping):
        candidates.extend(opts.providers.values())
    elif isinstance(opts.providers, Sequence):
        candidates.extend(opts.providers)
    return next((provider for provider in candidates if provider.package == "kubernetes"), None)


def api_key_checksum(api_key: pulumi.Input[str]) -> pulumi.Output[str]:
    """SHA-256 of the key the Secret holds, in hex: a new key changes the pod template, so the pods roll.

    Deliberately not a Pulumi secret. A SHA-256 cannot be reversed, and a Datadog API key (32 hex digits,
    128 random bits) cannot be guessed from it either; the chart shows the same checksum to anyone who can
    read pods. In plain text, a preview shows that a key rotation rolls the agents.
    """
    digest = pulumi.Output.from_input(api_key).apply(lambda key: hashlib.sha256(key.encode()).hexdigest())
    return pulumi.Output.unsecret(digest)


def _labels(name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "datadog-agent",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": "log-collector",
        "app.kubernetes.io/part-of": "logmon",
        "app.kubernetes.io/managed-by": "pulumi",
    }


def _metadata(name: str, namespace: pulumi.Input[str], labels: Mapping[str, str]) -> k8s.meta.v1.ObjectMetaArgs:
    return k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace, labels=dict(labels))


def _cluster_role_rules(*, fine_grained_kubelet: bool) -> list[k8s.rbac.v1.PolicyRuleArgs]:
    """What the agent reads to tag logs and to reach the kubelet; no verb but get, list and watch.

    Those verbs do not make the role read-only. `get` on `nodes/proxy` opens every kubelet endpoint that
    has no subresource of its own, and the kubelet authorizes a request by its HTTP method: the WebSocket
    upgrade that opens `/exec`, `/attach` or `/portForward` is a GET, so it needs only `get`. Whoever holds
    the agent's token can run commands in every container on every node. Older kubelets check `/pods` and
    `/healthz` against `nodes/proxy` alone; from 1.33 (KubeletFineGrainedAuthz on by default)
    `fine_grained_kubelet` grants `nodes/pods`, `nodes/healthz` and `nodes/configz` instead.
    """
    kubelet = KUBELET_FINE_GRAINED if fine_grained_kubelet else KUBELET_PROXY
    return [
        k8s.rbac.v1.PolicyRuleArgs(
            api_groups=[""],
            resources=["services", "events", "endpoints", "pods", "nodes", "namespaces", "componentstatuses"],
            verbs=list(READ_VERBS),
        ),
        k8s.rbac.v1.PolicyRuleArgs(
            api_groups=["discovery.k8s.io"], resources=["endpointslices"], verbs=list(READ_VERBS)
        ),
        k8s.rbac.v1.PolicyRuleArgs(
            api_groups=[""],
            resources=["nodes/metrics", "nodes/spec", *kubelet, "nodes/stats"],
            verbs=["get"],
        ),
        k8s.rbac.v1.PolicyRuleArgs(non_resource_urls=["/version", "/healthz", "/metrics"], verbs=["get"]),
    ]


def _daemonset_spec(
    args: DatadogAgentArgs,
    labels: Mapping[str, str],
    *,
    service_account: pulumi.Input[str],
    secret: pulumi.Input[str],
    priority_class_name: pulumi.Input[str] | None,
    annotations: Mapping[str, pulumi.Input[str]],
) -> k8s.apps.v1.DaemonSetSpecArgs:
    selector = {key: labels[key] for key in ("app.kubernetes.io/name", "app.kubernetes.io/instance")}
    env = _env(args, secret)
    resources = _resources(args.resources)
    read_only_root = k8s.core.v1.SecurityContextArgs(read_only_root_filesystem=True)
    return k8s.apps.v1.DaemonSetSpecArgs(
        selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
        update_strategy=k8s.apps.v1.DaemonSetUpdateStrategyArgs(
            type="RollingUpdate", rolling_update=k8s.apps.v1.RollingUpdateDaemonSetArgs(max_unavailable="10%")
        ),
        template=k8s.core.v1.PodTemplateSpecArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(labels=dict(labels), annotations=dict(annotations)),
            spec=k8s.core.v1.PodSpecArgs(
                service_account_name=service_account,
                automount_service_account_token=True,
                priority_class_name=priority_class_name,
                node_selector={"kubernetes.io/os": "linux"},
                tolerations=[_toleration(toleration) for toleration in args.tolerations],
                init_containers=[
                    # The image's default configuration, copied into the writable config directory.
                    k8s.core.v1.ContainerArgs(
                        name="init-volume",
                        image=args.image,
                        image_pull_policy="IfNotPresent",
                        command=["bash", "-c"],
                        args=[f"cp -r {CONFIG_DIR} /opt"],
                        volume_mounts=[_mount("config", "/opt/datadog-agent", read_only=False)],
                        resources=resources,
                        security_context=read_only_root,
                    ),
                    # The image's start-up scripts, which finish that configuration for this environment.
                    k8s.core.v1.ContainerArgs(
                        name="init-config",
                        image=args.image,
                        image_pull_policy="IfNotPresent",
                        command=["bash", "-c"],
                        args=['for script in /etc/cont-init.d/*.sh; do bash "$script"; done'],
                        env=env,
                        volume_mounts=[
                            _mount("config", CONFIG_DIR, read_only=False),
                            _mount("tmp", "/tmp", read_only=False),
                        ],
                        resources=resources,
                        security_context=read_only_root,
                    ),
                ],
                containers=[
                    k8s.core.v1.ContainerArgs(
                        name=CONTAINER_NAME,
                        image=args.image,
                        image_pull_policy="IfNotPresent",
                        # The core agent alone: no trace, process or security agents beside it.
                        command=["agent", "run"],
                        env=env,
                        resources=resources,
                        volume_mounts=[
                            *(_mount(volume, path, read_only=False) for volume, path in SCRATCH_MOUNTS),
                            *(_mount(m.volume, m.mount_path, read_only=m.read_only) for m in HOST_MOUNTS),
                        ],
                        liveness_probe=_probe("/live"),
                        readiness_probe=_probe("/ready"),
                        startup_probe=_probe("/startup"),
                        security_context=read_only_root,
                    )
                ],
                volumes=[
                    *(
                        k8s.core.v1.VolumeArgs(name=volume, empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs())
                        for volume, _ in SCRATCH_MOUNTS
                    ),
                    *(
                        k8s.core.v1.VolumeArgs(
                            name=m.volume,
                            host_path=k8s.core.v1.HostPathVolumeSourceArgs(path=m.host_path, type=m.host_path_type),
                        )
                        for m in HOST_MOUNTS
                    ),
                ],
            ),
        ),
    )


def _env(args: DatadogAgentArgs, secret: pulumi.Input[str]) -> list[k8s.core.v1.EnvVarArgs]:
    plain = [
        ("DD_SITE", args.datadog_site),
        ("DD_CLUSTER_NAME", args.cluster_name),
        ("DD_ENV", args.environment),
        ("KUBERNETES", "yes"),
        ("DD_LOGS_ENABLED", "true"),
        ("DD_LOGS_CONFIG_CONTAINER_COLLECT_ALL", "true"),
        # Tail the kubelet's files rather than the runtime's API: positions survive restarts, nothing is lost.
        ("DD_LOGS_CONFIG_K8S_CONTAINER_USE_FILE", "true"),
        ("DD_CONTAINER_EXCLUDE_LOGS", EXCLUDE_OWN_LOGS),
        ("DD_HEALTH_PORT", str(HEALTH_PORT)),
        # Configuration comes from this program only, never from the Datadog UI.
        ("DD_REMOTE_CONFIGURATION_ENABLED", "false"),
        ("DD_APM_ENABLED", "false"),
        ("DD_USE_DOGSTATSD", "false"),
        ("DD_ORCHESTRATOR_EXPLORER_ENABLED", "false"),
        *(LOGS_ONLY_ENV if args.logs_only else ()),
    ]
    return [
        k8s.core.v1.EnvVarArgs(
            name="DD_API_KEY",
            value_from=k8s.core.v1.EnvVarSourceArgs(
                secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret, key=API_KEY_FIELD)
            ),
        ),
        k8s.core.v1.EnvVarArgs(
            name="DD_KUBERNETES_KUBELET_HOST",
            value_from=k8s.core.v1.EnvVarSourceArgs(
                field_ref=k8s.core.v1.ObjectFieldSelectorArgs(field_path="status.hostIP")
            ),
        ),
        *(k8s.core.v1.EnvVarArgs(name=key, value=value) for key, value in plain),
    ]


def _resources(resources: AgentResources) -> k8s.core.v1.ResourceRequirementsArgs:
    return k8s.core.v1.ResourceRequirementsArgs(
        requests={"cpu": resources.requests.cpu, "memory": resources.requests.memory},
        limits={"cpu": resources.limits.cpu, "memory": resources.limits.memory},
    )


def _toleration(toleration: Toleration) -> k8s.core.v1.TolerationArgs:
    return k8s.core.v1.TolerationArgs(
        key=toleration.key, operator=toleration.operator, value=toleration.value, effect=toleration.effect
    )


def _mount(volume: str, path: str, *, read_only: bool) -> k8s.core.v1.VolumeMountArgs:
    return k8s.core.v1.VolumeMountArgs(name=volume, mount_path=path, read_only=read_only)


def _probe(path: str) -> k8s.core.v1.ProbeArgs:
    # The agent needs a while to start on a busy node; six failures 15 s apart before a restart.
    return k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port=HEALTH_PORT, scheme="HTTP"),
        initial_delay_seconds=15,
        period_seconds=15,
        timeout_seconds=5,
        success_threshold=1,
        failure_threshold=6,
    )
