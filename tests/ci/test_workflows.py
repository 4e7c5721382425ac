"""The CI workflows: they parse, pin every action to a commit, ask for little, and do what the README says."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+){0,2}$")


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    # YAML 1.1 reads the bare key `on` as true.
    if True in document:
        document["on"] = document.pop(True)
    return document


def workflow(name: str) -> dict[str, Any]:
    return load(ROOT / ".github" / "workflows" / name)


def uses_lines(path: Path) -> list[str]:
    return [line.split("uses:", 1)[1].strip() for line in path.read_text().splitlines() if "uses:" in line]


class TestEveryWorkflow:
    def test_there_are_workflows(self) -> None:
        """The repository ships its workflows."""
        assert {p.name for p in WORKFLOWS} >= {
            "pr-offline.yml",
            "pr-offline-comment.yml",
            "pr-preview.yml",
            "deploy.yml",
            "deploy-stack.yml",
        }

    @pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
    def test_parses_with_jobs(self, path: Path) -> None:
        """Each workflow is valid YAML with a trigger and jobs."""
        document = load(path)
        assert document["on"]
        assert document["jobs"]

    @pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
    def test_actions_are_pinned_to_full_commit_shas(self, path: Path) -> None:
        """Every action is pinned to a 40-character commit SHA with its version in a comment (local ones aside)."""
        for reference in uses_lines(path):
            assert reference.startswith("./") or PINNED.match(reference), reference

    @pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
    def test_default_permissions_are_read_only(self, path: Path) -> None:
        """The workflow-wide token can only read contents; jobs widen it only where they must."""
        document = load(path)
        assert document["permissions"] == {"contents": "read"}
        for job in document["jobs"].values():
            for scope, level in (job.get("permissions") or {}).items():
                assert level in ("read", "write")
                if level == "write":
                    assert scope in ("pull-requests", "id-token"), scope


class TestPinningCheckCanFail:
    @pytest.mark.parametrize(
        "reference",
        [
            "actions/checkout@v4",
            "actions/checkout@main",
            "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
            "actions/checkout@3d3c42e",
        ],
    )
    def test_unpinned_references_are_rejected(self, reference: str) -> None:
        """Tags, branches, short SHAs and SHAs without a version comment do not pass the check."""
        assert not PINNED.match(reference)


class TestPullRequestOffline:
    def test_runs_on_every_pull_request_without_secrets(self) -> None:
        """The offline job runs for forks too, so it uses no secret."""
        text = (ROOT / ".github" / "workflows" / "pr-offline.yml").read_text()
        assert "pull_request" in workflow("pr-offline.yml")["on"]
        assert "secrets." not in text

    def test_lints_tests_plans_and_diffs(self) -> None:
        """It lints as annotations, tests, plans every stack on head and base, and diffs them."""
        text = (ROOT / ".github" / "workflows" / "pr-offline.yml").read_text()
        assert "logmon lint --format github" in text
        assert "logmon test --coverage" in text
        assert "make test" in text
        assert "for stack in dev staging prod" in text
        assert "logmon diff" in text
        assert "--format markdown" in text

    def test_comment_is_posted_once_and_edited(self) -> None:
        """The comment workflow edits its previous comment (found by a marker) instead of adding one."""
        document = workflow("pr-offline-comment.yml")
        assert document["on"]["workflow_run"]["workflows"] == [workflow("pr-offline.yml")["name"]]
        text = (ROOT / ".github" / "workflows" / "pr-offline-comment.yml").read_text()
        assert "updateComment" in text
        assert "createComment" in text
        assert "actions/checkout" not in text


class TestPreview:
    def test_previews_each_stack_for_same_repository_pull_requests(self) -> None:
        """pulumi/actions previews every stack, comments and edits its comment, only when secrets exist."""
        document = workflow("pr-preview.yml")
        job = document["jobs"]["preview"]
        assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
        assert job["strategy"]["matrix"]["stack"] == ["dev", "staging", "prod"]
        (step,) = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
        assert step["with"]["command"] == "preview"
        assert step["with"]["comment-on-pr"] is True
        assert step["with"]["edit-pr-comment"] is True


class TestDeploy:
    def test_up_runs_dev_then_staging_then_prod(self) -> None:
        """Pushes to main deploy dev → staging → prod, prod behind the production environment."""
        document = workflow("deploy.yml")
        assert document["on"]["push"]["branches"] == ["main"]
        jobs = document["jobs"]
        assert jobs["dev"]["needs"] == "check"
        assert jobs["staging"]["needs"] == "dev"
        assert jobs["prod"]["needs"] == "staging"
        assert jobs["prod"]["with"] == {"stack": "prod", "environment": "production"}

    def test_a_deploy_in_progress_is_never_cancelled(self) -> None:
        """Neither the workflow nor a stack's job cancels a running deploy."""
        assert workflow("deploy.yml")["concurrency"]["cancel-in-progress"] is False
        job = workflow("deploy-stack.yml")["jobs"]["up"]
        assert job["concurrency"]["cancel-in-progress"] is False
        (step,) = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
        assert step["with"]["command"] == "up"


class TestPreCommit:
    def test_pre_commit_is_a_dev_tool(self) -> None:
        """`pre-commit install` from the README works after `make venv`: pre-commit is a dev dependency."""
        project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
        assert any(re.match(r"pre-commit\b", item) for item in project["optional-dependencies"]["dev"])

    def test_config_is_valid_for_pre_commit(self) -> None:
        """pre-commit itself accepts the hook config."""
        from pre_commit.clientlib import load_config

        config = load_config(str(ROOT / ".pre-commit-config.yaml"))
        assert [hook["id"] for repo in config["repos"] for hook in repo["hooks"]]

    def test_every_hook_runs_a_tool_the_venv_has(self) -> None:
        """Each `.venv/bin/<tool>` a hook runs is installed in the dev venv."""
        config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
        tools = {
            match.group(1)
            for repo in config["repos"]
            for hook in repo["hooks"]
            for match in re.finditer(r"\.venv/bin/([\w-]+)", hook["entry"])
        }
        assert tools
        bin_directory = Path(sys.executable).parent
        assert [tool for tool in sorted(tools) if not (bin_directory / tool).exists()] == []

    def test_file_patterns_match_the_files_they_guard(self) -> None:
        """Each hook's `files` pattern matches at least one file of the repository."""
        config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
        tracked = subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.splitlines()
        for repo in config["repos"]:
            for hook in repo["hooks"]:
                if "files" in hook:
                    assert any(re.search(hook["files"], path) for path in tracked), hook["id"]

    def test_lints_rules_on_commit(self) -> None:
        """pre-commit runs `logmon lint` whenever a rules file changes."""
        config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
        hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
        assert "logmon lint" in hooks["logmon-lint"]["entry"]
        assert re.search(hooks["logmon-lint"]["files"], "rules/monitors.yaml")
