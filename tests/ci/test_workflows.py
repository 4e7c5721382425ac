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
ACTIONS = sorted((ROOT / ".github" / "actions").glob("*/action.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+){0,2}$")


EXTRA_WRITE_SCOPES = {
    # The drift report opens and updates issues; the toolchain update pushes its branch.
    "drift.yml": {"issues"},
    "toolchain.yml": {"contents"},
}


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict)
    # YAML 1.1 reads the bare key `on` as true.
    if True in document:
        document["on"] = document.pop(True)
    return document


def workflow(name: str) -> dict[str, Any]:
    return load(ROOT / ".github" / "workflows" / name)


def absent(name: str, *snippets: str) -> list[str]:
    """The snippets that the workflow file `name` does not contain."""
    text = (ROOT / ".github" / "workflows" / name).read_text()
    return [snippet for snippet in snippets if snippet not in text]


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
            "drift.yml",
            "toolchain.yml",
        }

    @pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
    def test_parses_with_jobs(self, path: Path) -> None:
        """Each workflow is valid YAML with a trigger and jobs."""
        document = load(path)
        assert document["on"]
        assert document["jobs"]

    @pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.parent.name + "/" + p.name)
    def test_actions_are_pinned_to_full_commit_shas(self, path: Path) -> None:
        """Every action is pinned to a 40-character commit SHA with its version in a comment (local ones aside)."""
        for reference in uses_lines(path):
            assert reference.startswith("./") or PINNED.match(reference), reference

    @pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
    def test_default_permissions_are_read_only(self, path: Path) -> None:
        """The workflow-wide token can only read contents; jobs widen it only where they must."""
        document = load(path)
        assert document["permissions"] == {"contents": "read"}
        allowed = {"pull-requests", "id-token"} | EXTRA_WRITE_SCOPES.get(path.name, set())
        for job in document["jobs"].values():
            for scope, level in (job.get("permissions") or {}).items():
                assert level in ("read", "write")
                if level == "write":
                    assert scope in allowed, scope


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
        assert not absent(
            "pr-offline.yml",
            "logmon lint --format github",
            "logmon test --coverage",
            "make test",
            "for stack in dev staging prod",
            "logmon diff",
            "--format markdown",
        )

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
        """pulumi/actions previews dev and staging, comments and edits its comment, only when secrets exist."""
        document = workflow("pr-preview.yml")
        job = document["jobs"]["preview"]
        assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
        assert job["strategy"]["matrix"]["stack"] == ["dev", "staging"]
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
        assert workflow("deploy-stack.yml")["jobs"]["preview"]["concurrency"] == job["concurrency"]
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


# --- issue 10: per-stack identity, reviewed plans, one toolchain -----------------------------------------------

STACKS = ("dev", "staging", "prod")
SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository"
STACK_SESSION = "./.github/actions/stack-session"
# A Pulumi command that talks to a stack (not `pulumi version` or `pulumi login`).
PULUMI_COMMAND = re.compile(r"(^|[\s;&|(])pulumi\s+(?!login\b|version\b)\w")


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def pulumi_action_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).startswith("pulumi/actions@")]


def stack_targets(job: dict[str, Any]) -> list[str]:
    """The stack expression of every place the job runs Pulumi against a stack, as written in the workflow."""
    targets = []
    for step in steps(job):
        inputs = step.get("with") or {}
        if str(step.get("uses", "")).startswith("pulumi/actions@") and "command" in inputs:
            targets.append(str(inputs.get("stack-name", "<no stack-name>")))
        if step.get("uses") == STACK_SESSION:
            targets.append(str(inputs.get("stack", "<no stack>")))
        if PULUMI_COMMAND.search(str(step.get("run", ""))):
            run = str(step["run"])
            assert '--stack "$STACK"' in run, run
            targets.append(str((job.get("env") or {}).get("STACK", "<no STACK>")))
    return targets


def environment_name(job: dict[str, Any]) -> str | None:
    environment = job.get("environment")
    return str(environment["name"]) if isinstance(environment, dict) else environment


def environment_problems(document: dict[str, Any]) -> list[str]:
    """Jobs that run Pulumi against a stack without naming that stack's environment."""
    problems = []
    for name, job in document["jobs"].items():
        for target in stack_targets(job):
            if environment_name(job) != target:
                problems.append(f"{name}: runs Pulumi on {target} in environment {environment_name(job)}")
    return problems


def job_text(node: Any) -> str:
    """Every key and value of a job, scripts verbatim, one per line."""
    if isinstance(node, dict):
        return "\n".join(f"{key}\n{job_text(value)}" for key, value in node.items())
    if isinstance(node, list):
        return "\n".join(job_text(item) for item in node)
    return str(node)


def fork_secret_problems(document: dict[str, Any]) -> list[str]:
    """Jobs a fork's pull request can start that name a secret, an environment or inherited secrets."""
    triggers = document["on"] if isinstance(document["on"], dict) else dict.fromkeys(document["on"])
    if "pull_request_target" in triggers:
        return ["pull_request_target runs with secrets in the base repository's context"]
    if "pull_request" not in triggers:
        return []
    problems = []
    for name, job in document["jobs"].items():
        needs_secrets = "secrets." in job_text(job) or "environment" in job or job.get("secrets") == "inherit"
        if needs_secrets and job.get("if") != SAME_REPOSITORY:
            problems.append(f"{name}: a fork's pull request reaches a job with secrets")
    return problems


def lock_pins() -> dict[str, str]:
    text = (ROOT / "requirements" / "deploy.lock").read_text()
    return {m[1].lower(): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", text, re.MULTILINE)}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class TestPerStackIdentity:
    @pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
    def test_every_pulumi_job_names_its_stacks_environment(self, path: Path) -> None:
        """A job that runs Pulumi against a stack names exactly that stack's GitHub environment."""
        assert environment_problems(load(path)) == []

    def test_the_environment_check_can_fail(self) -> None:
        """A job previewing prod inside dev's environment, or with no environment, is reported."""
        session = {"uses": STACK_SESSION, "with": {"stack": "prod"}}
        preview = {"uses": "pulumi/actions@x", "with": {"command": "preview", "stack-name": "prod"}}
        wrong = {"jobs": {"a": {"environment": "dev", "steps": [session, preview]}}}
        missing = {"jobs": {"b": {"env": {"STACK": "prod"}, "steps": [{"run": 'pulumi preview --stack "$STACK"'}]}}}
        assert len(environment_problems(wrong)) == 2
        assert len(environment_problems(missing)) == 1

    @pytest.mark.parametrize("name", ["pr-preview.yml", "deploy-stack.yml", "drift.yml"])
    def test_pulumi_workflows_run_pulumi_in_stack_environments(self, name: str) -> None:
        """The workflows that reach a stack really do run Pulumi in jobs with an environment."""
        document = workflow(name)
        assert any(stack_targets(job) and environment_name(job) for job in document["jobs"].values())

    def test_deploys_and_drift_cover_every_stack_and_pr_previews_never_prod(self) -> None:
        """Deploy and drift reach dev, staging and prod; pull requests never reach prod's environment."""
        deploy = workflow("deploy.yml")["jobs"]
        assert [deploy[s]["with"]["stack"] for s in STACKS] == list(STACKS)
        assert workflow("drift.yml")["jobs"]["preview"]["strategy"]["matrix"]["stack"] == list(STACKS)
        for path in WORKFLOWS:
            document = load(path)
            if "pull_request" not in document["on"]:
                continue
            for name, job in document["jobs"].items():
                environment = environment_name(job)
                if environment is None:
                    continue
                matrix = (job.get("strategy") or {}).get("matrix") or {}
                reachable = matrix.get("stack", []) if environment == "${{ matrix.stack }}" else [environment]
                assert "prod" not in reachable, f"{path.name}:{name}"
                assert "production" not in reachable, f"{path.name}:{name}"

    def test_previews_use_the_read_only_role_and_up_the_deploy_role(self) -> None:
        """Previews and drift assume AWS_PREVIEW_ROLE_ARN; only the `up` job assumes AWS_DEPLOY_ROLE_ARN."""
        roles = {}
        for path in WORKFLOWS:
            for name, job in load(path)["jobs"].items():
                for step in steps(job):
                    if step.get("uses") == STACK_SESSION:
                        roles[f"{path.name}:{name}"] = step["with"]["role-to-assume"]
        assert roles == {
            "deploy-stack.yml:preview": "${{ vars.AWS_PREVIEW_ROLE_ARN }}",
            "deploy-stack.yml:up": "${{ vars.AWS_DEPLOY_ROLE_ARN }}",
            "drift.yml:preview": "${{ vars.AWS_PREVIEW_ROLE_ARN }}",
            "pr-preview.yml:preview": "${{ vars.AWS_PREVIEW_ROLE_ARN }}",
        }

    def test_the_stack_session_checks_the_stack_and_its_cluster(self) -> None:
        """The shared setup checks the stack (never creating it) and takes region and cluster from the stack file."""
        text = (ROOT / ".github" / "actions" / "stack-session" / "action.yml").read_text()
        assert 'logmon stack check --stack "$STACK" --ci' in text
        assert 'logmon stack cluster --stack "$STACK" --expect "$EXPECTED_CLUSTER" >> "$GITHUB_ENV"' in text
        assert "aws-region: ${{ env.LOGMON_AWS_REGION }}" in text
        assert '--alias "$LOGMON_KUBE_CONTEXT"' in text
        for path in WORKFLOWS:
            assert "upsert" not in path.read_text(), path.name
            assert "stack init" not in path.read_text(), path.name
            assert "--create" not in path.read_text(), path.name


class TestForkPullRequestsGetNoSecret:
    @pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
    def test_no_job_a_fork_can_start_receives_a_secret(self, path: Path) -> None:
        """Pull-request jobs that name a secret or an environment run only for this repository's branches."""
        assert fork_secret_problems(load(path)) == []

    def test_the_fork_check_can_fail(self) -> None:
        """An unguarded secret, an unguarded environment, inherited secrets and pull_request_target are reported."""
        job = {"runs-on": "x", "steps": [{"run": "echo ${{ secrets.TOKEN }}"}]}
        assert fork_secret_problems({"on": {"pull_request": None}, "jobs": {"a": job}})
        assert fork_secret_problems({"on": ["pull_request"], "jobs": {"a": {"environment": "dev", "steps": []}}})
        assert fork_secret_problems(
            {"on": {"pull_request": None}, "jobs": {"a": {"uses": "./w.yml", "secrets": "inherit"}}}
        )
        assert fork_secret_problems({"on": {"pull_request_target": None}, "jobs": {}})
        assert not fork_secret_problems({"on": {"pull_request": None}, "jobs": {"a": {**job, "if": SAME_REPOSITORY}}})

    def test_workflow_run_jobs_hold_no_secret(self) -> None:
        """The comment workflow (base context, write token) names no secret and no environment."""
        text = (ROOT / ".github" / "workflows" / "pr-offline-comment.yml").read_text()
        assert "secrets." not in text
        assert "environment:" not in text


class TestReviewedPlans:
    def test_prod_up_consumes_the_plan_of_the_reviewed_preview(self) -> None:
        """preview saves a plan, the production reviewers approve, up applies that same plan file."""
        jobs = workflow("deploy-stack.yml")["jobs"]
        preview, approve, up = jobs["preview"], jobs["approve"], jobs["up"]
        (saved,) = pulumi_action_steps(preview)
        (applied,) = pulumi_action_steps(up)
        assert saved["with"]["command"] == "preview"
        assert applied["with"]["command"] == "up"
        assert saved["with"]["plan"] == applied["with"]["plan"] == "plan/update-plan.json"
        assert approve["environment"] == "${{ inputs.environment }}"
        assert set(up["needs"]) == {"preview", "approve"}
        assert approve["needs"] == "preview"
        assert workflow("deploy.yml")["jobs"]["prod"]["with"]["environment"] == "production"

    def test_up_applies_the_artifact_the_preview_uploaded_unchanged(self) -> None:
        """The plan travels as this run's artifact, and its digest is checked before `up`."""
        jobs = workflow("deploy-stack.yml")["jobs"]
        (upload,) = [s for s in steps(jobs["preview"]) if "upload-artifact@" in str(s.get("uses"))]
        (download,) = [s for s in steps(jobs["up"]) if "download-artifact@" in str(s.get("uses"))]
        assert upload["with"]["name"] == download["with"]["name"]
        assert upload["with"]["path"].rstrip("/") == download["with"]["path"] == "plan"
        assert "sha256sum --check" in job_text(jobs["up"])
        assert jobs["preview"]["outputs"]["plan-sha256"] == "${{ steps.digest.outputs.sha256 }}"

    def test_reviewers_see_the_preview_and_the_offline_diff(self) -> None:
        """The preview goes to the run summary, with `logmon diff` against the commit before the push."""
        preview = workflow("deploy-stack.yml")["jobs"]["preview"]
        (saved,) = pulumi_action_steps(preview)
        assert saved["with"]["comment-on-summary"] is True
        text = job_text(preview)
        assert "logmon diff plan/base.json plan/head.json --format markdown" in text
        assert "github.event.before" in text
        assert "GITHUB_STEP_SUMMARY" in text


class TestOneToolchain:
    def test_the_cli_pin_is_one_version(self) -> None:
        """.pulumi-version holds one exact version, the same release as the locked Pulumi SDK."""
        version = (ROOT / ".pulumi-version").read_text().strip()
        assert re.fullmatch(r"3\.\d+\.\d+", version)
        assert lock_pins()["pulumi"] == version

    @pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.parent.name + "/" + p.name)
    def test_every_pulumi_install_reads_the_pin(self, path: Path) -> None:
        """Every pulumi/actions step reads .pulumi-version; none names a version of its own."""
        document = load(path)
        step_lists = [steps(job) for job in document.get("jobs", {}).values()]
        step_lists.append(list((document.get("runs") or {}).get("steps") or []))
        for step_list in step_lists:
            for step in step_list:
                if str(step.get("uses", "")).startswith("pulumi/actions@"):
                    assert step["with"]["pulumi-version-file"] == ".pulumi-version"
                    assert "pulumi-version" not in step["with"]

    @pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
    def test_every_workflow_that_runs_pulumi_installs_the_pinned_cli(self, path: Path) -> None:
        """A job that runs Pulumi first goes through the stack session, which installs the pinned CLI."""
        for name, job in load(path)["jobs"].items():
            if stack_targets(job):
                uses = [s.get("uses") for s in steps(job)]
                assert STACK_SESSION in uses, name
                first_pulumi = min(
                    i
                    for i, s in enumerate(steps(job))
                    if s in pulumi_action_steps(job) or ("run" in s and PULUMI_COMMAND.search(s["run"]))
                )
                assert uses.index(STACK_SESSION) < first_pulumi, name

    def test_deploy_jobs_install_from_the_lock_without_dev_extras(self) -> None:
        """The stack session runs `make deploy-venv`: hash-checked lock, the project without deps, no `[dev]`."""
        session = yaml.safe_load((ROOT / ".github" / "actions" / "stack-session" / "action.yml").read_text())
        runs = [s.get("run", "") for s in session["runs"]["steps"]]
        assert "make deploy-venv" in runs
        assert not any("make venv" in r or "[dev]" in r or "pip install" in r for r in runs)
        makefile = (ROOT / "Makefile").read_text()
        recipe = makefile.split("$(VENV)/.deployed:", 1)[1].split("\n\n", 1)[0]
        assert "--require-hashes --no-deps -r $(LOCK)" in recipe
        assert "--no-deps --no-build-isolation --no-index -e ." in recipe
        assert "[dev]" not in recipe
        assert "LOCK := requirements/deploy.lock" in makefile
        for path in WORKFLOWS:
            for name, job in load(path)["jobs"].items():
                if stack_targets(job):
                    assert "make venv" not in job_text(job), f"{path.name}:{name}"
                    assert "[dev]" not in job_text(job), f"{path.name}:{name}"

    def test_the_lock_pins_every_runtime_dependency_with_hashes_and_no_dev_tool(self) -> None:
        """Each pyproject dependency is pinned within its range (the logger comes from ./paylog, never an index);
        every pin carries hashes; dev tools stay out."""
        import tomllib

        from packaging.requirements import Requirement

        document = tomllib.loads((ROOT / "pyproject.toml").read_text())
        project = document["project"]
        local = set(document["tool"]["uv"]["sources"])
        pins = {canonical(name): version for name, version in lock_pins().items()}
        assert local == {"paylog"}
        assert "paylog" not in pins
        for line in project["dependencies"]:
            requirement = Requirement(line)
            if requirement.name in local:
                continue
            assert canonical(requirement.name) in pins, f"{requirement.name} is not locked: run `make lock`"
            assert requirement.specifier.contains(pins[canonical(requirement.name)]), requirement
        for tool in ("pytest", "hypothesis", "ruff", "mypy", "uv", "types-pyyaml"):
            assert tool not in pins, tool
        blocks = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "requirements" / "deploy.lock").read_text().split("\n", 2)[2])
        for block in blocks:
            if "==" in block:
                assert "--hash=sha256:" in block, block.splitlines()[0]
        assert "make lock" in (ROOT / "requirements" / "deploy.lock").read_text().splitlines()[1]

    def test_the_weekly_update_moves_lock_and_pin_and_shows_the_plan_diff(self) -> None:
        """A weekly schedule re-locks, moves the CLI pin with the SDK, diffs the offline plans, opens a PR."""
        document = workflow("toolchain.yml")
        (cron,) = [entry["cron"] for entry in document["on"]["schedule"]]
        assert cron.split()[4] != "*"
        assert not absent("toolchain.yml", "make lock UPGRADE=1", "> .pulumi-version", "logmon diff", "gh pr create")
        assert not absent("toolchain.yml", "gh pr edit")
        assert absent("toolchain.yml", "secrets.") == ["secrets."]


class TestDrift:
    def test_previews_every_stack_expecting_no_changes(self) -> None:
        """A schedule previews each stack with a refresh and `--expect-no-changes`."""
        document = workflow("drift.yml")
        assert document["on"]["schedule"]
        text = job_text(document["jobs"]["preview"])
        assert 'pulumi preview --stack "$STACK" --refresh --expect-no-changes' in text

    def test_opens_updates_and_closes_one_issue_per_stack(self) -> None:
        """The report job finds its issue by a per-stack marker, creates or updates it, and closes it when clean."""
        report = workflow("drift.yml")["jobs"]["report"]
        assert report["permissions"] == {"issues": "write"}
        assert report["if"] == "always()"
        text = job_text(report)
        for call in ("issues.create(", "issues.update(", "state: 'closed'", "<!-- logmon drift: ${stack} -->"):
            assert call in text
        assert "no changes were expected" in text


# --- issue 15: the sample day replayed with the base and head rules, in the same comment ---------------------


def step_named(job: dict[str, Any], prefix: str) -> tuple[int, dict[str, Any]]:
    (found,) = [(n, s) for n, s in enumerate(steps(job)) if str(s.get("name", "")).startswith(prefix)]
    return found


class TestMonitorComparison:
    def test_replays_the_sample_day_with_base_and_head_rules(self) -> None:
        """After the plan diff, the job replays the shipped sample day with `--compare ../base/rules` as Markdown."""
        job = workflow("pr-offline.yml")["jobs"]["check"]
        plan_at, _ = step_named(job, "Plan every stack")
        replay_at, replay = step_named(job, "Replay the sample day")
        upload_at = next(
            n for n, s in enumerate(steps(job)) if str(s.get("uses", "")).startswith("actions/upload-artifact@")
        )
        assert plan_at < replay_at < upload_at
        run = " ".join(str(replay["run"]).replace("\\\n", " ").split())
        assert (
            "gunzip -c samples/day.ndjson.gz | .venv/bin/logmon replay - --rules rules --compare ../base/rules" in run
        )
        assert "--format markdown" in run
        assert (ROOT / "samples" / "day.ndjson.gz").is_file()

    def test_the_comparison_goes_into_the_posted_comment(self) -> None:
        """The Markdown is appended to plans/comment.md, the file the comment workflow posts."""
        replay = step_named(workflow("pr-offline.yml")["jobs"]["check"], "Replay the sample day")[1]
        assert ">> plans/comment.md" in str(replay["run"])
        assert "plans/comment.md" in (ROOT / ".github" / "workflows" / "pr-offline-comment.yml").read_text()

    @pytest.mark.parametrize("name", ["pr-offline.yml", "pr-offline-comment.yml"])
    def test_runs_with_no_secret(self, name: str) -> None:
        """Neither workflow reads a secret or enters an environment (where secrets live), so forks run them alike;
        the only token is the run's own `github.token`, and the replay job's is read-only."""
        text = (ROOT / ".github" / "workflows" / name).read_text()
        assert not re.search(r"secrets\s*\.|secrets\[", text)
        assert "secrets: inherit" not in text
        document = workflow(name)
        for job in document["jobs"].values():
            assert "environment" not in job
            for step in steps(job):
                for value in [*(step.get("with") or {}).values(), *(step.get("env") or {}).values()]:
                    for expression in re.findall(r"\$\{\{(.*?)\}\}", str(value)):
                        assert expression.strip().startswith(("github.", "steps.")), expression
        if name == "pr-offline.yml":
            assert all("permissions" not in job for job in document["jobs"].values())

    def test_the_no_secret_check_can_fail(self) -> None:
        """A workflow reading a secret is caught by the same pattern."""
        assert re.search(r"secrets\s*\.|secrets\[", "token: ${{ secrets.DATADOG_API_KEY }}")
        assert re.search(r"secrets\s*\.|secrets\[", "token: ${{ secrets['X'] }}")
