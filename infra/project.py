"""Where the project's files are, found from this program's own location, never from the working directory.

`Pulumi.yaml` says `main: infra/`, and when `main` is a directory the engine makes it the program's working
directory (pulumi/pulumi `pkg/engine/project.go`, `getPwdMain`; the Python exec shim then `os.chdir`s to it).
A path resolved from the working directory would therefore point into `infra/`, not at `rules/`.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_FILE = "Pulumi.yaml"


def project_root(start: Path) -> Path:
    """The nearest directory at or above `start` that holds `Pulumi.yaml`."""
    for directory in (start, *start.parents):
        if (directory / PROJECT_FILE).is_file():
            return directory
    raise FileNotFoundError(f"no {PROJECT_FILE} at or above {start}; the program must stay inside its project")
