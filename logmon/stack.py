"""Stacks in the Pulumi backend: created once by a person (`logmon stack init`), checked before CI uses one.

CI never creates a stack: a deploy that silently created an empty stack would try to create every resource,
the `main` index first, in an organization that already has them. So the bootstrap is a deliberate, documented
step (docs/ci.md) and every CI job runs `logmon stack check` first, which names that step when something is
missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from logmon.diagnostics import Location, RulesInvalid
from logmon.rules.source import LocatedDict, load_yaml_file

DATADOG_SECRETS = {"datadog:apiKey": "DATADOG_API_KEY", "datadog:appKey": "DATADOG_APP_KEY"}
"""The stack's secret config keys, and the environment variables the bootstrap reads them from."""
PASSPHRASE_VARIABLES = ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")
SETTINGS_KEY = "logmon:settings"


def bootstrap_hint(stack: str) -> str:
    return f"`make stack-init STACK={stack}`"


class StackProblem(Exception):
    """Something a person must set up before the stack can be used; each message says what and how."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    stdin: str | None = field(default=None, repr=False)
    """Secret values go to the CLI on standard input, never on the command line (visible in `ps`)."""
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Added to the environment of this command only (secret values too, hence no repr)."""


# --- the stack file ------------------------------------------------------------------------------------------


def stack_file(project: Path, stack: str) -> Path:
    return project / f"Pulumi.{stack}.yaml"


def read_stack_file(project: Path, stack: str) -> LocatedDict:
    path = stack_file(project, stack)
    if not path.is_file():
        raise StackProblem([f"no stack file {path.name}: every stack starts from a committed Pulumi.<stack>.yaml"])
    try:
        document = load_yaml_file(path, path.name)
    except RulesInvalid as invalid:
        raise StackProblem([f"{f.location}: {f.message}" for f in invalid.findings]) from None
    if not isinstance(document, LocatedDict) or not isinstance(document.get("config"), LocatedDict):
        raise StackProblem([f"{path.name}:1:1: expected a mapping with a `config:` section"])
    return document


def _settings(document: LocatedDict, stack: str) -> LocatedDict:
    config: LocatedDict = document["config"]
    settings = config.get(SETTINGS_KEY)
    if not isinstance(settings, LocatedDict):
        raise StackProblem([f"{config.location}: Pulumi.{stack}.yaml has no `{SETTINGS_KEY}` mapping"])
    return settings


def uses_passphrase(document: Mapping[str, Any]) -> bool:
    """Pulumi's passphrase provider is the default: no `secretsprovider`, or `passphrase` named explicitly."""
    return document.get("secretsprovider") in (None, "passphrase")


def secrets_problems(document: LocatedDict, stack: str) -> list[str]:
    """What the stack file lacks: its secrets provider's key material, or the Datadog keys as Pulumi secrets."""
    name = f"Pulumi.{stack}.yaml"
    problems = []
    has_key = "encryptionsalt" in document if uses_passphrase(document) else "encryptedkey" in document
    if not has_key:
        problems.append(
            f"{name}: no secrets provider is set up (no `encryptionsalt` or `encryptedkey`): the stack was "
            f"never bootstrapped; run {bootstrap_hint(stack)} and commit the stack file"
        )
    config: LocatedDict = document["config"]
    for key in DATADOG_SECRETS:
        value = config.get(key)
        if value is None:
            problems.append(
                f"{config.location}: {key} is not set; run {bootstrap_hint(stack)} for a new stack, or "
                f"`pulumi config set --secret --stack {stack} {key}` for an existing one, and commit {name}"
            )
        elif not (isinstance(value, Mapping) and "secure" in value):
            problems.append(
                f"{config.where(key)}: {key} is stored in plain text; remove it, rotate the key, and set it "
                f"with `pulumi config set --secret --stack {stack} {key}`"
            )
    return problems


@dataclass(frozen=True)
class Cluster:
    name: str
    context: str
    region: str
    kubeconfig: str | None

    def environment_lines(self) -> str:
        """`NAME=value` lines, the format of `$GITHUB_ENV`."""
        lines = {
            "LOGMON_CLUSTER": self.name,
            "LOGMON_KUBE_CONTEXT": self.context,
            "LOGMON_AWS_REGION": self.region,
            "LOGMON_KUBECONFIG": self.kubeconfig or "",
        }
        return "".join(f"{key}={value}\n" for key, value in lines.items())


def stack_cluster(project: Path, stack: str) -> Cluster:
    """The stack's cluster as its settings name it: the kubeconfig context defaults to the cluster's name."""
    settings = _settings(read_stack_file(project, stack), stack)
    values: dict[str, str | None] = {}
    kubernetes = settings.get("kubernetes")
    kube = kubernetes if isinstance(kubernetes, LocatedDict) else LocatedDict()
    for key, owner in (("cluster_name", settings), ("aws_region", settings), ("context", kube), ("kubeconfig", kube)):
        value = owner.get(key)
        where: Location | None = owner.where(key) if key in owner else None
        if value is not None and (not isinstance(value, str) or not value or any(c in value for c in "\r\n\0")):
            raise StackProblem([f"{where}: `{key}` must be a one-line, non-empty text"])
        values[key] = value
    for key in ("cluster_name", "aws_region"):
        if values[key] is None:
            raise StackProblem([f"{settings.location}: {SETTINGS_KEY}.{key} is missing in Pulumi.{stack}.yaml"])
    kubeconfig = values["kubeconfig"]
    return Cluster(
        name=str(values["cluster_name"]),
        context=str(values["context"] or values["cluster_name"]),
        region=str(values["aws_region"]),
        kubeconfig=os.path.expanduser(kubeconfig) if kubeconfig else None,
    )


# --- the backend, through the Pulumi CLI ---------------------------------------------------------------------


def executable(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if name == "pulumi":
            raise StackProblem(
                [
                    "the Pulumi CLI is not on PATH; install the version in .pulumi-version "
                    "(https://www.pulumi.com/docs/install/)"
                ]
            )
        raise StackProblem([f"`{name}` is not on PATH"])
    return found


def logmon_command() -> list[str]:
    """`logmon` from PATH, else this interpreter's: `make stack-init` runs without the venv on PATH."""
    found = shutil.which("logmon")
    return [found] if found else [sys.executable, "-m", "logmon.cli"]


def run(command: Command, project: Path, capture: bool = False) -> subprocess.CompletedProcess[str]:
    # Nothing waits on a prompt: a command without input reads an empty standard input.
    stdin = {"input": command.stdin} if command.stdin is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run(
        command.argv,
        **stdin,
        env={**os.environ, **command.env} if command.env else None,
        cwd=project,
        text=True,
        capture_output=capture,
        check=False,
    )


def backend_name() -> str:
    return os.environ.get("PULUMI_BACKEND_URL") or "the backend `pulumi login` selected"


def stack_exists(stack: str, project: Path) -> bool:
    """Whether the backend holds the stack, from `pulumi stack ls --json` (names may carry org/project)."""
    listing = run(Command((executable("pulumi"), "stack", "ls", "--json")), project, capture=True)
    if listing.returncode != 0:
        detail = (listing.stderr or listing.stdout).strip().splitlines()
        raise StackProblem(
            [f"cannot list the stacks in {backend_name()}: {detail[-1] if detail else f'exit {listing.returncode}'}"]
        )
    try:
        stacks = json.loads(listing.stdout or "[]")
    except json.JSONDecodeError:
        raise StackProblem(["`pulumi stack ls --json` did not answer JSON; check the Pulumi CLI version"]) from None
    names = [entry.get("name", "") for entry in stacks if isinstance(entry, dict)]
    return any(name == stack or name.endswith(f"/{stack}") for name in names)


# --- bootstrap ------------------------------------------------------------------------------------------------


def bootstrap_commands(
    stack: str, secrets_provider: str, import_file: Path, keys: Mapping[str, str], pulumi: str, logmon: Sequence[str]
) -> list[Command]:
    """Every command that creates a stack, in order: the stack, its secrets, then the adoption step."""
    commands = [Command((pulumi, "stack", "init", stack, "--secrets-provider", secrets_provider))]
    commands += [
        Command((pulumi, "config", "set", "--secret", "--stack", stack, key), stdin=keys[key])
        for key in DATADOG_SECRETS
    ]
    commands.append(Command((*logmon, "adopt", "--stack", stack, "--out", str(import_file))))
    # The import file's Datadog provider carries only the site's URL (issue 9's `logmon adopt`); for this one
    # step the provider takes the keys from its environment variables, as the README's checklist does.
    provider_keys = {"DD_API_KEY": keys["datadog:apiKey"], "DD_APP_KEY": keys["datadog:appKey"]}
    commands.append(
        Command(
            (pulumi, "import", "--stack", stack, "--file", str(import_file), "--generate-code=false", "--yes"),
            env=provider_keys,
        )
    )
    return commands


def datadog_keys(stack: str) -> dict[str, str]:
    """The keys from DATADOG_API_KEY / DATADOG_APP_KEY, or asked for (hidden) on a terminal."""
    keys = {}
    missing = []
    for key, variable in DATADOG_SECRETS.items():
        value = os.environ.get(variable, "").strip()
        if not value and sys.stdin.isatty():
            value = str(typer.prompt(f"{key} for {stack}", hide_input=True)).strip()
        if value:
            keys[key] = value
        else:
            missing.append(variable)
    if missing:
        raise StackProblem([f"set {' and '.join(missing)} (the {stack} organization's keys) or run on a terminal"])
    return keys


def passphrase_problem(secrets_provider: str, stack: str) -> str | None:
    if secrets_provider == "passphrase" and not any(os.environ.get(v) for v in PASSPHRASE_VARIABLES):
        return (
            f"set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to {stack}'s passphrase: it encrypts "
            f"the stack's secrets, and CI reads it from the `{stack}` environment's secret of that name"
        )
    return None


def bootstrap(stack: str, project: Path, secrets_provider: str, import_file: Path) -> None:
    """Create the stack in the backend, store its secrets, and adopt what the organization already has."""
    _settings(read_stack_file(project, stack), stack)
    problem = passphrase_problem(secrets_provider, stack)
    if problem:
        raise StackProblem([problem])
    pulumi = executable("pulumi")
    if stack_exists(stack, project):
        raise StackProblem(
            [
                f"stack {stack} already exists in {backend_name()}; `logmon stack init` only creates stacks. "
                f"Check it with `logmon stack check --stack {stack}`; set a missing key with "
                f"`pulumi config set --secret --stack {stack} datadog:apiKey`"
            ]
        )
    keys = datadog_keys(stack)
    import_file.parent.mkdir(parents=True, exist_ok=True)
    for command in bootstrap_commands(stack, secrets_provider, import_file, keys, pulumi, logmon_command()):
        shown = " ".join(command.argv) + (" < (secret)" if command.stdin is not None else "")
        typer.echo(f"$ {shown}", err=True)
        completed = run(command, project)
        if completed.returncode != 0:
            raise StackProblem(
                [
                    f"`{shown}` failed (exit {completed.returncode}); fix the cause above and finish by hand "
                    f"from this step (docs/ci.md, 'Bootstrapping a stack')"
                ]
            )
    typer.echo(f"stack {stack} is ready: commit Pulumi.{stack}.yaml (its encrypted keys), then deploy", err=True)


def check(stack: str, project: Path, ci: bool) -> None:
    """Fail, naming the bootstrap, unless the stack exists with its secrets and CI has what it needs."""
    document = read_stack_file(project, stack)
    problems = secrets_problems(document, stack)
    if uses_passphrase(document):
        problem = passphrase_problem("passphrase", stack)
        if problem:
            problems.append(problem)
    if ci and not os.environ.get("PULUMI_BACKEND_URL"):
        problems.append(
            f"PULUMI_BACKEND_URL is empty: add it to the `{stack}` environment's secrets (docs/ci.md); "
            "CI never falls back to another backend"
        )
    if problems:
        raise StackProblem(problems)
    if not stack_exists(stack, project):
        raise StackProblem(
            [
                f"stack {stack} does not exist in {backend_name()}; CI never creates a stack: run "
                f"{bootstrap_hint(stack)} once with {stack}'s deploy credentials (docs/ci.md)"
            ]
        )


# --- the commands ---------------------------------------------------------------------------------------------

stack_app = typer.Typer(
    help="Create a stack in the Pulumi backend (once), and check one before CI uses it.", no_args_is_help=True
)
StackOption = Annotated[str, typer.Option("--stack", help="The stack: Pulumi.<stack>.yaml supplies its settings.")]
ProjectOption = Annotated[Path, typer.Option("--project", help="The Pulumi project directory.")]


def _fail(problem: StackProblem, command: str) -> typer.Exit:
    for message in problem.messages:
        typer.echo(f"logmon stack {command}: {message}", err=True)
    return typer.Exit(1)


@stack_app.command(name="init")
def init_command(
    stack: StackOption,
    secrets_provider: Annotated[
        str,
        typer.Option(
            "--secrets-provider", help="`passphrase` (PULUMI_CONFIG_PASSPHRASE) or e.g. `awskms://alias/logmon-prod`."
        ),
    ] = "passphrase",
    import_file: Annotated[
        Path | None, typer.Option("--import-file", help="Where `logmon adopt` writes the bulk-import file.")
    ] = None,
    project: ProjectOption = Path(),
) -> None:
    """Create the stack, set its secrets provider and Datadog keys, and import what the org already has."""
    try:
        bootstrap(stack, project, secrets_provider, import_file or project / ".logmon" / f"adopt-{stack}.json")
    except StackProblem as problem:
        raise _fail(problem, "init") from None


@stack_app.command(name="check")
def check_command(
    stack: StackOption,
    ci: Annotated[bool, typer.Option("--ci", help="Also require PULUMI_BACKEND_URL, as CI must.")] = False,
    project: ProjectOption = Path(),
) -> None:
    """Exit 1, naming the bootstrap command, when the stack or one of its secrets is missing."""
    try:
        check(stack, project, ci)
    except StackProblem as problem:
        raise _fail(problem, "check") from None
    typer.echo(f"stack {stack}: exists in {backend_name()}, secrets set")


@stack_app.command(name="cluster")
def cluster_command(
    stack: StackOption,
    expect: Annotated[
        str | None, typer.Option("--expect", help="Fail unless the settings name this cluster (CI's variable).")
    ] = None,
    project: ProjectOption = Path(),
) -> None:
    """Print the stack's cluster, kubeconfig context and region as NAME=value lines (for $GITHUB_ENV)."""
    try:
        cluster = stack_cluster(project, stack)
    except StackProblem as problem:
        raise _fail(problem, "cluster") from None
    if expect is not None and expect != cluster.name:
        typer.echo(
            f"logmon stack cluster: the `{stack}` environment says cluster {expect!r} but Pulumi.{stack}.yaml "
            f"says {cluster.name!r}; fix the environment's EKS_CLUSTER_NAME variable or the stack file",
            err=True,
        )
        raise typer.Exit(1)
    sys.stdout.write(cluster.environment_lines())
