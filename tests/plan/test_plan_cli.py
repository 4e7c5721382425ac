"""`logmon plan` and `logmon diff` as people and CI run them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from logmon.cli import app
from logmon.plan import aws as aws_artefacts
from logmon.plan import datadog as datadog_artefacts
from logmon.plan import kubernetes as kubernetes_artefacts
from logmon.plan.runner import stack_config
from tests.projects import ROOT, STACKS, copy_project

runner = CliRunner()

EXPECTED_COUNTS = {
    "datadog:index/monitor:Monitor": 6,
    "datadog:index/logsIndex:LogsIndex": 3,
    "datadog:index/logsIndexOrder:LogsIndexOrder": 1,
    "datadog:index/logsMetric:LogsMetric": 7,
    "datadog:index/logsCustomPipeline:LogsCustomPipeline": 2,
    "datadog:index/logsArchive:LogsArchive": 2,
    "datadog:index/logsArchiveOrder:LogsArchiveOrder": 1,
    "datadog:index/sensitiveDataScannerGroup:SensitiveDataScannerGroup": 1,
    "datadog:index/sensitiveDataScannerRule:SensitiveDataScannerRule": 9,
    "aws:s3/bucket:Bucket": 1,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 1,
    "aws:iam/role:Role": 1,
    "aws:iam/rolePolicy:RolePolicy": 1,
    "kubernetes:apps/v1:DaemonSet": 1,
    "kubernetes:core/v1:Secret": 1,
}


@cache
def planned(stack: str, directory: str) -> tuple[dict, Path]:
    out = Path(directory)
    result = runner.invoke(
        app,
        [
            "plan",
            "--stack",
            stack,
            "--project",
            str(ROOT),
            "--json",
            str(out / "plan.json"),
            "--out",
            str(out / "artefacts"),
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads((out / "plan.json").read_text()), out / "artefacts"


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict, Path]]:
    return {stack: planned(stack, str(tmp_path_factory.mktemp(stack))) for stack in STACKS}


@pytest.mark.parametrize("stack", STACKS)
class TestPlanDocument:
    def test_counts_by_type(self, plans: dict, stack: str) -> None:
        """The JSON summary counts every resource type the stack manages."""
        document, _ = plans[stack]
        by_type = document["summary"]["by_type"]
        for type_, count in EXPECTED_COUNTS.items():
            assert by_type[type_] == count, type_
        assert document["summary"]["resources"] == len(document["resources"]) == sum(by_type.values())

    def test_sorted_and_stable(self, plans: dict, stack: str, tmp_path: Path) -> None:
        """Resources are sorted by type and name, and a second plan writes the same bytes."""
        document, _ = plans[stack]
        keys = [(r["type"], r["name"]) for r in document["resources"]]
        assert keys == sorted(keys)
        again, _ = planned(stack, str(tmp_path))
        assert again == document

    def test_no_secret_value_anywhere(self, plans: dict, stack: str) -> None:
        """Secrets show as `[secret]`: the agent's key in the Secret, nothing decrypted in JSON or artefacts."""
        document, artefacts = plans[stack]
        (secret,) = [r for r in document["resources"] if r["type"] == "kubernetes:core/v1:Secret"]
        assert secret["inputs"]["stringData"] == "[secret]"
        texts = [json.dumps(document)] + [p.read_text() for p in artefacts.rglob("*") if p.is_file()]
        config, secrets, _ = stack_config(stack, "logmon", ROOT)
        assert secrets >= {"datadog:apiKey", "datadog:appKey"}
        assert all(config[key] == "[secret]" for key in secrets)
        assert "api-key: '[secret]'" in (artefacts / "kubernetes" / "agent.yaml").read_text()
        assert all("[secret]" in text or "stringData" not in text for text in texts)


class TestEncryptedConfig:
    def test_secure_values_are_never_decrypted(self, tmp_path: Path) -> None:
        """A `secure:` value in the stack file enters the program as a placeholder; its ciphertext never shows."""
        project = copy_project(tmp_path / "project")
        stack_file = project / "Pulumi.prod.yaml"
        document = yaml.safe_load(stack_file.read_text())
        document["config"]["datadog:apiKey"] = {"secure": "v1:CIPHERTEXT-0123456789abcdef"}
        stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
        config, secrets, notes = stack_config("prod", "logmon", project)
        assert config["datadog:apiKey"] == "[secret]"
        assert "datadog:apiKey" in secrets
        assert not any("datadog:apiKey" in note for note in notes)
        result = plan_into(project, tmp_path)
        assert result.exit_code == 0, result.output
        texts = [(tmp_path / "p.json").read_text()] + [
            p.read_text() for p in (tmp_path / "out").rglob("*") if p.is_file()
        ]
        assert not any("CIPHERTEXT" in text for text in texts)


class TestProtectedInPlan:
    def test_prod_lists_protected_resources(self, plans: dict) -> None:
        """The prod plan names the bucket and every index as protected."""
        document, _ = plans["prod"]
        assert document["summary"]["protected"] == [
            "aws:s3/bucket:Bucket::archive-bucket",
            "datadog:index/logsIndex:LogsIndex::index-debug",
            "datadog:index/logsIndex:LogsIndex::index-main",
            "datadog:index/logsIndex:LogsIndex::index-security",
        ]

    @pytest.mark.parametrize("stack", ["dev", "staging"])
    def test_other_stacks_protect_nothing(self, plans: dict, stack: str) -> None:
        """Dev and staging plans protect nothing."""
        assert plans[stack][0]["summary"]["protected"] == []


@pytest.mark.parametrize("stack", STACKS)
class TestArtefacts:
    def test_kubernetes_yaml_is_valid(self, plans: dict, stack: str) -> None:
        """The written Kubernetes YAML passes kubernetes-validate in strict mode."""
        _, artefacts = plans[stack]
        documents = list(yaml.safe_load_all((artefacts / "kubernetes" / "agent.yaml").read_text()))
        assert kubernetes_artefacts.validate(documents) == []

    def test_datadog_json_loads_into_the_api_models(self, plans: dict, stack: str) -> None:
        """Every written Datadog document loads into its datadog-api-client model."""
        _, artefacts = plans[stack]
        models = {folder: model for folder, _, model in datadog_artefacts.DOCUMENTS.values()}
        written = 0
        for folder, model in models.items():
            for path in (artefacts / "datadog" / folder).glob("*.json"):
                assert datadog_artefacts.validate(json.loads(path.read_text()), model) == [], path
                written += 1
        assert written == 18
        archives = list((artefacts / "datadog" / "archives").glob("*.json"))
        assert len(archives) == 2
        for path in archives:
            assert aws_artefacts.validate_logs_archive_request(json.loads(path.read_text())) == []

    def test_aws_documents(self, plans: dict, stack: str) -> None:
        """The lifecycle, bucket policy and IAM policies are written as JSON, the lifecycle valid for S3."""
        _, artefacts = plans[stack]
        lifecycle = json.loads((artefacts / "aws" / "lifecycle.json").read_text())
        assert aws_artefacts.validate_lifecycle(lifecycle) == []
        policy = json.loads((artefacts / "aws" / "bucket-policy.json").read_text())
        assert any(s["Effect"] == "Deny" for s in policy["Statement"])
        assert len(list((artefacts / "aws" / "iam").glob("*.json"))) == 2


class TestPlanRefusals:
    def test_unknown_stack_exits_2(self) -> None:
        """An unknown stack is a usage error naming the stacks that exist."""
        result = runner.invoke(app, ["plan", "--stack", "qa", "--project", str(ROOT)])
        assert result.exit_code == 2
        assert "unknown stack 'qa'" in result.output

    def test_lint_failure_exits_1_and_writes_nothing(self, tmp_path: Path) -> None:
        """Rules that fail lint make the plan exit 1 with the findings, and nothing is written."""
        project = copy_project(tmp_path / "project")
        monitors = project / "rules" / "monitors.yaml"
        monitors.write_text(monitors.read_text().replace("window: 1m", "window: 3d"))
        result = plan_into(project, tmp_path)
        assert result.exit_code == 1
        assert "schema/value" in result.output or "monitor/window-range" in result.output
        assert not (tmp_path / "p.json").exists()
        assert not (tmp_path / "out").exists()


def plan_into(project: Path, directory: Path) -> Result:
    """`logmon plan --stack prod` of `project`, writing p.json and out/ under `directory`."""
    arguments = ["plan", "--stack", "prod", "--project", str(project), "--json", str(directory / "p.json")]
    return runner.invoke(app, [*arguments, "--out", str(directory / "out")])


def plan_of(project: Path, stack: str, out: Path) -> Path:
    result = runner.invoke(app, ["plan", "--stack", stack, "--project", str(project), "--json", str(out)])
    assert result.exit_code == 0, result.output
    return out


class TestDiffOfRuleChanges:
    def test_threshold_change_is_one_changed_monitor(self, tmp_path: Path) -> None:
        """Raising one threshold shows as exactly one updated monitor, old → new."""
        base = plan_of(ROOT, "prod", tmp_path / "base.json")
        project = copy_project(tmp_path / "head")
        monitors = project / "rules" / "monitors.yaml"
        monitors.write_text(monitors.read_text().replace("critical: 20\n", "critical: 30\n"))
        head = plan_of(project, "prod", tmp_path / "head.json")
        result = runner.invoke(app, ["diff", str(base), str(head), "--format", "json"])
        assert result.exit_code == 0
        report = json.loads(result.output)
        assert report["summary"] == {"add": 0, "update": 1, "replace": 0, "retain": 0, "remove": 0}
        (change,) = report["resources"]
        assert change["name"] == "monitor-authentication_failures"
        critical = next(p for p in change["changes"] if p["path"] == "monitorThresholds.critical")
        assert (critical["old"], critical["new"]) == ("100", "150")

    def test_index_rename_is_a_protected_replacement(self, tmp_path: Path) -> None:
        """Renaming a prod index is flagged as the replacement of a protected resource."""
        base = plan_of(ROOT, "prod", tmp_path / "base.json")
        project = copy_project(tmp_path / "head")
        indexes = project / "rules" / "indexes.yaml"
        indexes.write_text(indexes.read_text().replace("  security:\n", "  audit:\n"))
        head = plan_of(project, "prod", tmp_path / "head.json")
        as_json = runner.invoke(app, ["diff", str(base), str(head), "--format", "json"])
        report = json.loads(as_json.output)
        assert report["protected_deletions"] == ["datadog:index/logsIndex:LogsIndex::index-security"]
        (replaced,) = [r for r in report["resources"] if r["action"] == "replace"]
        assert replaced["renamed_from"] == "datadog:index/logsIndex:LogsIndex::index-security"
        markdown = runner.invoke(app, ["diff", str(base), str(head), "--format", "markdown"]).output
        assert "[!CAUTION]" in markdown
        assert "index-security" in markdown

    def test_exit_code_flag(self, tmp_path: Path) -> None:
        """`--exit-code` makes differences exit 1; identical plans still exit 0."""
        base = plan_of(ROOT, "dev", tmp_path / "base.json")
        assert runner.invoke(app, ["diff", str(base), str(base), "--exit-code"]).exit_code == 0
        staging = plan_of(ROOT, "staging", tmp_path / "staging.json")
        assert runner.invoke(app, ["diff", str(base), str(staging)]).exit_code == 0
        assert runner.invoke(app, ["diff", str(base), str(staging), "--exit-code"]).exit_code == 1

    def test_bad_plan_files_are_usage_errors(self, tmp_path: Path) -> None:
        """A missing or non-plan file is reported, not a traceback."""
        bogus = tmp_path / "bogus.json"
        bogus.write_text("[1, 2]")
        for arguments in (["diff", str(tmp_path / "none.json"), str(bogus)], ["diff", str(bogus), str(bogus)]):
            result = runner.invoke(app, arguments)
            assert result.exit_code != 0
            assert "Traceback" not in result.output


class TestBrokenStackFile:
    def test_malformed_stack_file_is_a_usage_error_with_its_line(self, tmp_path: Path) -> None:
        """A stack file that is not YAML is reported at its line and column, exit 2, no traceback."""
        project = copy_project(tmp_path / "project")
        (project / "Pulumi.qa.yaml").write_text("config:\n  logmon:settings: [\n")
        result = runner.invoke(app, ["plan", "--stack", "qa", "--project", str(project)])
        assert result.exit_code == 2
        assert "Pulumi.qa.yaml:3:1: malformed YAML" in result.output
        assert "Traceback" not in result.output
