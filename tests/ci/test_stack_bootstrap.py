"""`logmon stack init|check|cluster`: the bootstrap's exact commands, and CI's refusal to use a stack not set up.

The Pulumi CLI (and `logmon adopt`) are replaced by a recorder on PATH that writes down each command line and
its standard input, and answers `pulumi stack ls --json` with a configurable list.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logmon.stack import StackProblem, check
from tests.conftest import invoke_logmon

ROOT = Path(__file__).resolve().parents[2]

RECORDER = """\
import json, os, sys
from pathlib import Path

name = Path(sys.argv[0]).name
argv = [name, *sys.argv[1:]]
stdin = sys.stdin.read() if sys.stdin is not None else None
with open(os.environ["RECORDER_LOG"], "a") as log:
    dd_keys = [os.environ.get("DD_API_KEY"), os.environ.get("DD_APP_KEY")]
    log.write(json.dumps({"argv": argv, "stdin": stdin or None, "dd_keys": dd_keys}) + "\\n")
code = int(os.environ.get("RECORDER_FAIL_" + argv[1].upper().replace("-", "_"), "0"))
if code:
    sys.stderr.write("error: recorded failure\\n")
    sys.exit(code)
if argv[1:3] == ["stack", "ls"]:
    sys.stdout.write(os.environ.get("RECORDER_STACKS", "[]"))
if argv[1:2] == ["adopt"]:
    out = argv[argv.index("--out") + 1]
    entry = {"type": "datadog:index/logsIndex:LogsIndex", "name": "index-main", "id": "main"}
    Path(out).write_text(json.dumps({"resources": [entry]}))
"""

API_KEY = "0123456789abcdef0123456789abcdef"
APP_KEY = "fedcba9876543210fedcba9876543210fedcba98"


class Recorder:
    def __init__(self, directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bin = directory / "bin"
        self.bin.mkdir()
        self.log = directory / "commands.jsonl"
        for name in ("pulumi", "logmon"):
            script = self.bin / name
            script.write_text(f"#!{sys.executable}\n{RECORDER}")
            script.chmod(0o755)
        git = shutil.which("git")
        monkeypatch.setenv("PATH", os.pathsep.join([str(self.bin), str(Path(git).parent) if git else "/usr/bin"]))
        monkeypatch.setenv("RECORDER_LOG", str(self.log))
        for variable in (
            "PULUMI_CONFIG_PASSPHRASE",
            "PULUMI_CONFIG_PASSPHRASE_FILE",
            "PULUMI_BACKEND_URL",
            "DD_API_KEY",
            "DD_APP_KEY",
        ):
            monkeypatch.delenv(variable, raising=False)

    def commands(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def argvs(self) -> list[list[str]]:
        return [command["argv"] for command in self.commands()]


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    return Recorder(tmp_path, monkeypatch)


@pytest.fixture
def keys(recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    """The keys and the passphrase, set after the recorder has cleared the environment."""
    monkeypatch.setenv("DATADOG_API_KEY", API_KEY)
    monkeypatch.setenv("DATADOG_APP_KEY", APP_KEY)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "correct horse battery staple")


def init(stack: str, import_file: Path, *extra: str) -> tuple[int, str, str]:
    return invoke_logmon(
        ["stack", "init", "--stack", stack, "--project", str(ROOT), "--import-file", str(import_file), *extra]
    )


def bootstrapped_project(tmp_path: Path, **changes: Any) -> Path:
    """A project whose dev stack file looks like `logmon stack init` left it (salt and encrypted keys)."""
    project = tmp_path / "project"
    project.mkdir()
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    document["encryptionsalt"] = "v1:c2FsdA==:v1:bm9uY2U=:Y2lwaGVy"
    document["config"]["datadog:apiKey"] = {"secure": "v1:AAAA"}
    document["config"]["datadog:appKey"] = {"secure": "v1:BBBB"}
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    (project / "Pulumi.dev.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return project


class TestBootstrap:
    @pytest.mark.usefixtures("keys")
    def test_runs_exactly_these_commands_for_a_new_stack(self, recorder: Recorder, tmp_path: Path) -> None:
        """A new stack: list, init with the secrets provider, both keys as secrets, adopt, then import the file."""
        import_file = tmp_path / "adopt" / "import-dev.json"
        code, _, stderr = init("dev", import_file)
        assert code == 0, stderr
        assert recorder.argvs() == [
            ["pulumi", "stack", "ls", "--json"],
            ["pulumi", "stack", "init", "dev", "--secrets-provider", "passphrase"],
            ["pulumi", "config", "set", "--secret", "--stack", "dev", "datadog:apiKey"],
            ["pulumi", "config", "set", "--secret", "--stack", "dev", "datadog:appKey"],
            ["logmon", "adopt", "--stack", "dev", "--out", str(import_file)],
            ["pulumi", "import", "--stack", "dev", "--file", str(import_file), "--generate-code=false", "--yes"],
        ]
        assert "commit Pulumi.dev.yaml" in stderr

    @pytest.mark.usefixtures("keys")
    def test_the_real_adoption_file_is_what_pulumi_imports(self, recorder: Recorder, tmp_path: Path) -> None:
        """With the real `logmon adopt` (only Pulumi recorded), the file handed to `pulumi import` adopts `main`."""
        (recorder.bin / "logmon").unlink()
        import_file = tmp_path / "import-prod.json"
        code, _, stderr = init("prod", import_file)
        assert code == 0, stderr
        assert recorder.argvs()[-1] == [
            "pulumi", "import", "--stack", "prod", "--file", str(import_file), "--generate-code=false", "--yes"
        ]  # fmt: skip
        document = json.loads(import_file.read_text())
        adopted = [entry for entry in document["resources"] if "id" in entry]
        assert {(entry["type"], entry["id"]) for entry in adopted} >= {("datadog:index/logsIndex:LogsIndex", "main")}

    @pytest.mark.usefixtures("keys")
    def test_keys_go_on_standard_input_never_on_the_command_line(self, recorder: Recorder, tmp_path: Path) -> None:
        """Each Datadog key reaches `pulumi config set` on stdin; no command line or log line shows it."""
        code, stdout, stderr = init("dev", tmp_path / "import.json")
        assert code == 0, stderr
        stdins = {tuple(c["argv"][-1:]): c["stdin"] for c in recorder.commands() if c["argv"][1:3] == ["config", "set"]}
        assert stdins == {("datadog:apiKey",): API_KEY, ("datadog:appKey",): APP_KEY}
        for command in recorder.commands():
            assert not {API_KEY, APP_KEY} & set(command["argv"])
        assert API_KEY not in stdout + stderr
        assert APP_KEY not in stdout + stderr

    @pytest.mark.usefixtures("keys")
    def test_only_the_import_gets_the_keys_in_its_environment(self, recorder: Recorder, tmp_path: Path) -> None:
        """`pulumi import` gets DD_API_KEY/DD_APP_KEY for the import file's provider; no other command does."""
        code, _, stderr = init("dev", tmp_path / "import.json")
        assert code == 0, stderr
        keyed = {command["argv"][1]: command["dd_keys"] for command in recorder.commands()}
        assert keyed["import"] == [API_KEY, APP_KEY]
        assert all(dd_keys == [None, None] for name, dd_keys in keyed.items() if name != "import")

    @pytest.mark.usefixtures("keys")
    def test_a_kms_secrets_provider_is_passed_through(
        self, recorder: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With a KMS key, the stack is created with it and no passphrase is needed."""
        monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE")
        provider = "awskms://alias/logmon-prod?region=us-east-1"
        code, _, stderr = init("prod", tmp_path / "import.json", "--secrets-provider", provider)
        assert code == 0, stderr
        assert ["pulumi", "stack", "init", "prod", "--secrets-provider", provider] in recorder.argvs()

    @pytest.mark.usefixtures("keys")
    def test_an_existing_stack_is_left_alone(
        self, recorder: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When the backend already has the stack, nothing is created or imported and the check is named."""
        monkeypatch.setenv("RECORDER_STACKS", json.dumps([{"name": "organization/logmon/dev"}]))
        code, _, stderr = init("dev", tmp_path / "import.json")
        assert code == 1
        assert "already exists" in stderr
        assert "logmon stack check --stack dev" in stderr
        assert recorder.argvs() == [["pulumi", "stack", "ls", "--json"]]

    def test_no_passphrase_stops_before_any_command(self, recorder: Recorder, tmp_path: Path) -> None:
        """The passphrase provider without PULUMI_CONFIG_PASSPHRASE fails first, naming the variable."""
        code, _, stderr = init("dev", tmp_path / "import.json")
        assert code == 1
        assert "PULUMI_CONFIG_PASSPHRASE" in stderr
        assert recorder.argvs() == []

    def test_missing_keys_off_a_terminal_are_named(
        self, recorder: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without the key variables and without a terminal to ask on, the variables are named; nothing is created."""
        monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "x")
        monkeypatch.delenv("DATADOG_API_KEY", raising=False)
        monkeypatch.setenv("DATADOG_APP_KEY", APP_KEY)
        code, _, stderr = init("dev", tmp_path / "import.json")
        assert code == 1
        assert "DATADOG_API_KEY" in stderr
        assert "DATADOG_APP_KEY" not in stderr
        assert recorder.argvs() == [["pulumi", "stack", "ls", "--json"]]

    @pytest.mark.usefixtures("keys")
    def test_a_failing_step_stops_the_bootstrap_and_is_named(
        self, recorder: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When adoption fails, the import never runs and the message names the failed command."""
        monkeypatch.setenv("RECORDER_FAIL_ADOPT", "2")
        code, _, stderr = init("dev", tmp_path / "import.json")
        assert code == 1
        assert "logmon adopt --stack dev" in stderr
        assert "failed (exit 2)" in stderr
        assert not [argv for argv in recorder.argvs() if argv[1] == "import"]

    @pytest.mark.usefixtures("keys")
    def test_an_unknown_stack_is_refused(self, recorder: Recorder, tmp_path: Path) -> None:
        """A stack without a committed stack file is refused before any command runs."""
        code, _, stderr = init("qa", tmp_path / "import.json")
        assert code == 1
        assert "no stack file Pulumi.qa.yaml" in stderr
        assert recorder.argvs() == []

    def test_without_the_pulumi_cli_the_install_is_named(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """No `pulumi` on PATH: a one-line error pointing at the pinned version, no traceback."""
        monkeypatch.setenv("PATH", str(tmp_path))
        monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "x")
        code, _, stderr = init("dev", tmp_path / "import.json")
        assert code == 1
        assert "Pulumi CLI is not on PATH" in stderr
        assert ".pulumi-version" in stderr
        assert "Traceback" not in stderr


class TestMakeTarget:
    def test_stack_init_runs_the_bootstrap_for_the_named_stack(self) -> None:
        """`make stack-init STACK=staging` runs `logmon stack init --stack staging`."""
        dry_run = subprocess.run(
            ["make", "-n", "stack-init", "STACK=staging"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        assert ".venv/bin/logmon stack init --stack staging" in dry_run.stdout

    def test_stack_init_needs_a_stack_named_on_the_command_line(self) -> None:
        """Without STACK, make stops with a message instead of bootstrapping the default stack."""
        dry_run = subprocess.run(["make", "-n", "stack-init"], cwd=ROOT, capture_output=True, text=True, check=False)
        assert dry_run.returncode != 0
        assert "make stack-init STACK=" in dry_run.stderr


class TestCheck:
    def test_a_stack_never_bootstrapped_names_the_bootstrap(self, recorder: Recorder) -> None:
        """The committed stack files carry no secrets yet: the check fails with `make stack-init STACK=…`."""
        code, _, stderr = invoke_logmon(["stack", "check", "--stack", "prod", "--project", str(ROOT)])
        assert code == 1
        assert "make stack-init STACK=prod" in stderr
        assert "datadog:apiKey is not set" in stderr
        assert "datadog:appKey is not set" in stderr
        assert recorder.argvs() == []

    def test_a_stack_missing_from_the_backend_names_the_bootstrap(
        self, recorder: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Stack file ready, backend without the stack: CI does not create it and says how to."""
        monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "x")
        monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://acme-pulumi-state-dev")
        project = bootstrapped_project(tmp_path)
        code, _, stderr = invoke_logmon(["stack", "check", "--stack", "dev", "--ci", "--project", str(project)])
        assert code == 1
        assert "stack dev does not exist in s3://acme-pulumi-state-dev" in stderr
        assert "CI never creates a stack" in stderr
        assert "make stack-init STACK=dev" in stderr
        assert recorder.argvs() == [["pulumi", "stack", "ls", "--json"]]

    def test_an_unreachable_backend_is_reported_with_the_cli_message(
        self, recorder: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When `pulumi stack ls` fails (no access to the state bucket), the check says so and exits 1."""
        monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "x")
        monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://acme-pulumi-state-dev")
        monkeypatch.setenv("RECORDER_FAIL_STACK", "255")
        project = bootstrapped_project(tmp_path)
        code, _, stderr = invoke_logmon(["stack", "check", "--stack", "dev", "--ci", "--project", str(project)])
        assert code == 1
        assert "cannot list the stacks in s3://acme-pulumi-state-dev: error: recorded failure" in stderr

    def test_a_ready_stack_passes(self, recorder: Recorder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Secrets in the stack file, passphrase and backend in the environment, stack in the backend: exit 0."""
        monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "x")
        monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://acme-pulumi-state-dev")
        monkeypatch.setenv("RECORDER_STACKS", json.dumps([{"name": "dev", "current": False}]))
        project = bootstrapped_project(tmp_path)
        code, stdout, stderr = invoke_logmon(["stack", "check", "--stack", "dev", "--ci", "--project", str(project)])
        assert code == 0, stderr
        assert "secrets set" in stdout

    def test_missing_ci_secrets_are_named_by_their_environment(self, recorder: Recorder, tmp_path: Path) -> None:
        """In CI, an empty passphrase or backend URL is named as the environment's secret."""
        project = bootstrapped_project(tmp_path)
        code, _, stderr = invoke_logmon(["stack", "check", "--stack", "dev", "--ci", "--project", str(project)])
        assert code == 1
        assert "PULUMI_CONFIG_PASSPHRASE" in stderr
        assert "PULUMI_BACKEND_URL is empty: add it to the `dev` environment's secrets" in stderr
        assert recorder.argvs() == []

    def test_a_kms_stack_needs_no_passphrase_but_its_key(self, recorder: Recorder, tmp_path: Path) -> None:
        """With `secretsprovider: awskms://…`, the check asks for `encryptedkey`, not for a passphrase."""
        project = bootstrapped_project(tmp_path, secretsprovider="awskms://alias/logmon-dev", encryptionsalt=None)
        with pytest.raises(StackProblem) as problem:
            check("dev", project, ci=False)
        assert len(problem.value.messages) == 1
        assert "no `encryptionsalt` or `encryptedkey`" in problem.value.messages[0]

    def test_a_plain_text_key_points_at_its_line(self, recorder: Recorder, tmp_path: Path) -> None:
        """A key written in clear text is an error at its file:line:col, with how to fix it."""
        project = bootstrapped_project(tmp_path)
        path = project / "Pulumi.dev.yaml"
        document = yaml.safe_load(path.read_text())
        document["config"]["datadog:appKey"] = "clear-text-key"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "datadog:appKey" in text)
        with pytest.raises(StackProblem) as problem:
            check("dev", project, ci=False)
        assert any(
            m.startswith(f"Pulumi.dev.yaml:{line}:") and "plain text" in m and "rotate" in m
            for m in problem.value.messages
        )

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(text=st.text(max_size=200))
    def test_any_stack_file_gives_a_finding_not_a_traceback(self, tmp_path: Path, text: str) -> None:
        """Whatever the stack file holds, the check ends in StackProblem messages (offline, before any CLI)."""
        (tmp_path / "Pulumi.fuzz.yaml").write_text(text, encoding="utf-8")
        with pytest.raises(StackProblem) as problem:
            check("fuzz", tmp_path, ci=True)
        assert problem.value.messages


class TestCluster:
    def test_prints_cluster_context_and_region_for_github_env(self) -> None:
        """NAME=value lines; the kubeconfig context defaults to the cluster's name."""
        code, stdout, _ = invoke_logmon(
            ["stack", "cluster", "--stack", "staging", "--expect", "payments-staging", "--project", str(ROOT)]
        )
        assert code == 0
        lines = dict(line.split("=", 1) for line in stdout.splitlines())
        assert lines["LOGMON_CLUSTER"] == "payments-staging"
        settings = yaml.safe_load((ROOT / "Pulumi.staging.yaml").read_text())["config"]["logmon:settings"]
        assert lines["LOGMON_KUBE_CONTEXT"] == (settings.get("kubernetes") or {}).get("context", "payments-staging")
        assert lines["LOGMON_AWS_REGION"] == settings["aws_region"]

    def test_the_stack_files_kubernetes_context_wins(self, tmp_path: Path) -> None:
        """A `kubernetes.context` in the settings (the program's explicit provider) names the kubeconfig context."""
        project = bootstrapped_project(tmp_path)
        path = project / "Pulumi.dev.yaml"
        document = yaml.safe_load(path.read_text())
        document["config"]["logmon:settings"]["kubernetes"] = {"context": "arn:aws:eks:ctx/dev", "kubeconfig": "/k"}
        path.write_text(yaml.safe_dump(document))
        code, stdout, _ = invoke_logmon(["stack", "cluster", "--stack", "dev", "--project", str(project)])
        assert code == 0
        assert "LOGMON_KUBE_CONTEXT=arn:aws:eks:ctx/dev\n" in stdout
        assert "LOGMON_KUBECONFIG=/k\n" in stdout

    def test_an_environment_wired_to_another_cluster_is_refused(self) -> None:
        """When the environment's EKS_CLUSTER_NAME disagrees with the stack file, the job stops."""
        code, stdout, stderr = invoke_logmon(
            ["stack", "cluster", "--stack", "prod", "--expect", "payments-dev", "--project", str(ROOT)]
        )
        assert code == 1
        assert stdout == ""
        assert "EKS_CLUSTER_NAME" in stderr

    def test_a_missing_cluster_name_points_at_the_settings(self, tmp_path: Path) -> None:
        """Without `cluster_name`, the error names the key and where the settings are."""
        project = bootstrapped_project(tmp_path)
        path = project / "Pulumi.dev.yaml"
        document = yaml.safe_load(path.read_text())
        del document["config"]["logmon:settings"]["cluster_name"]
        path.write_text(yaml.safe_dump(document))
        code, _, stderr = invoke_logmon(["stack", "cluster", "--stack", "dev", "--project", str(project)])
        assert code == 1
        assert "Pulumi.dev.yaml:" in stderr
        assert "logmon:settings.cluster_name is missing" in stderr
