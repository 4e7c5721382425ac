"""What each stack file asks of the agent and the archive's Object Lock, as the stack's offline plan shows it."""

from __future__ import annotations

from typing import Any

import pytest

from infra.components.agent import TOKEN as AGENT_TOKEN
from logmon.plan.recorder import RecordedResource
from logmon.plan.runner import Plan
from tests.projects import STACKS, planned

BUCKET = "aws:s3/bucket:Bucket"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
DAEMONSET = "kubernetes:apps/v1:DaemonSet"
PRIORITY_CLASS = "kubernetes:scheduling.k8s.io/v1:PriorityClass"


def only(plan: Plan, type_: str) -> RecordedResource:
    (resource,) = [r for r in plan.resources if r.type == type_]
    return resource


def pod_spec(plan: Plan) -> dict[str, Any]:
    spec: dict[str, Any] = only(plan, DAEMONSET).inputs["spec"]["template"]["spec"]
    return spec


class TestObjectLock:
    def test_staging_locks_in_governance_mode_for_a_day(self) -> None:
        """Staging's bucket has prod's lock in GOVERNANCE mode with a one-day retention, so it can be undone."""
        plan = planned("staging")
        assert only(plan, BUCKET).inputs["objectLockEnabled"] is True
        assert only(plan, OBJECT_LOCK).inputs["rule"] == {"defaultRetention": {"mode": "GOVERNANCE", "days": 1}}

    def test_prod_keeps_its_compliance_lock_for_a_year(self) -> None:
        """Prod's lock stays COMPLIANCE for 365 days; staging's trial does not weaken it."""
        rule = only(planned("prod"), OBJECT_LOCK).inputs["rule"]
        assert rule == {"defaultRetention": {"mode": "COMPLIANCE", "days": 365}}

    def test_dev_has_no_lock(self) -> None:
        """Dev's bucket is created without Object Lock."""
        plan = planned("dev")
        assert only(plan, BUCKET).inputs["objectLockEnabled"] is False
        assert not [r for r in plan.resources if r.type == OBJECT_LOCK]


class TestAgent:
    def test_prod_tolerates_no_schedule_and_no_execute_taints(self) -> None:
        """Prod's agents tolerate every NoSchedule and every NoExecute taint, so no node goes without one."""
        assert pod_spec(planned("prod"))["tolerations"] == [
            {"operator": "Exists", "effect": "NoSchedule"},
            {"operator": "Exists", "effect": "NoExecute"},
        ]

    @pytest.mark.parametrize("stack", STACKS)
    def test_every_stack_gives_the_agents_their_own_priority_class(self, stack: str) -> None:
        """Each stack creates the chart's PriorityClass under the agent component, and its pods use it."""
        plan = planned(stack)
        priority_class = only(plan, PRIORITY_CLASS)
        assert priority_class.parent is not None
        assert priority_class.parent.startswith(f"{AGENT_TOKEN}::")
        assert (priority_class.inputs["value"], priority_class.inputs["preemptionPolicy"]) == (
            1_000_000_000,
            "PreemptLowerPriority",
        )
        assert pod_spec(plan)["priorityClassName"] == priority_class.inputs["metadata"]["name"]

    @pytest.mark.parametrize("stack", STACKS)
    def test_pods_roll_when_the_stacks_api_key_changes(self, stack: str) -> None:
        """Every stack's pod template carries the API key checksum, whatever key the deploy brings."""
        annotations = only(planned(stack), DAEMONSET).inputs["spec"]["template"]["metadata"]["annotations"]
        assert set(annotations) == {"checksum/api_key"}
