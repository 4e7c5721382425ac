"""Start a Pulumi program the way the engine and the Python language host do, so the offline plan sees what
a real `pulumi preview` would.

What is reproduced, from pulumi/pulumi (see docs/decisions.md, "The offline run and the engine"):
- the working directory and entry point from `Pulumi.yaml`'s `main` (`pkg/engine/project.go`, `getPwdMain`:
  a directory becomes the working directory and the entry point is `.`);
- configuration handed over in the environment as JSON, `PULUMI_CONFIG` and `PULUMI_CONFIG_SECRET_KEYS`
  (`sdk/python/cmd/pulumi-language-python/main.go`), read back by the exec shim
  (`sdk/python/cmd/pulumi-language-python-exec`: `set_all_config(get_config_env(), ...)`);
- `sys.argv` as the program and `runpy.run_path(entry, run_name="__main__")` after `os.chdir(pwd)`.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pulumi
import yaml


class ProjectUnreadable(Exception):
    """`Pulumi.yaml` is missing or malformed, or its `main` does not exist."""


@dataclass(frozen=True)
class ProgramLaunch:
    project: str
    root: Path
    """The project directory, where `Pulumi.yaml` and the stack files are."""
    pwd: Path
    """The working directory the engine gives the program."""
    entry: str
    """The program as the exec shim receives it, relative to `pwd` (`.` for a directory)."""

    @property
    def program(self) -> Path:
        path = self.pwd / self.entry
        return path / "__main__.py" if path.is_dir() else path


def read_project(root: Path) -> ProgramLaunch:
    """The project's name, working directory and entry point, resolved as `getPwdMain` does."""
    path = root / "Pulumi.yaml"
    try:
        project = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ProjectUnreadable(f"cannot read {path}: {error}") from None
    if not isinstance(project, dict) or "name" not in project:
        raise ProjectUnreadable(f"{path} has no project `name`")
    root = root.resolve()
    main = project.get("main")
    if not main:
        return ProgramLaunch(str(project["name"]), root, root, ".")
    target = (root / str(main)).resolve()
    if target.is_dir():
        return ProgramLaunch(str(project["name"]), root, target, ".")
    if target.is_file():
        return ProgramLaunch(str(project["name"]), root, target.parent, target.name)
    raise ProjectUnreadable(f"{path}: project 'main' could not be read: no {target}")


def engine_environment(config: Mapping[str, str], secret_keys: frozenset[str]) -> dict[str, str]:
    """The variables through which the language host passes a stack's configuration to the program."""
    return {
        "PULUMI_CONFIG": json.dumps(dict(config), sort_keys=True),
        "PULUMI_CONFIG_SECRET_KEYS": json.dumps(sorted(secret_keys)),
    }


def run_program(launch: ProgramLaunch, environment: Mapping[str, str]) -> None:
    """Run the program as the exec shim does, restoring this process's directory, environment and argv."""
    with _environment(environment), _working_directory(launch.pwd), _argv([launch.entry]):
        # The engine starts a new process per run; in this one, the import system's finder for `.` was
        # made for an earlier working directory and would find that directory's `__main__.py` again.
        sys.path_importer_cache.pop(launch.entry, None)
        pulumi.runtime.set_all_config(pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env())
        runpy.run_path(launch.entry, run_name="__main__")


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _working_directory(directory: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous)


@contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    previous = sys.argv
    sys.argv = argv
    try:
        yield
    finally:
        sys.argv = previous
