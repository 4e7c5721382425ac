"""paylog is its own distribution: it installs alone, without Pulumi or the rule engine."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

import paylog

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "paylog"

# What setuptools prints when it falls back to its import finder or finds a layout it dislikes.
SETUPTOOLS_WARNING = re.compile(
    r"Setuptools\w*Warning|BuildBackendWarning|editable_wheel|take precedence during imports"
)
# The editable root project needs these from the checkout; the rest of the tree is not part of any build.
PROJECT_FILES = ("pyproject.toml", "README.md", "logmon", "infra", "paylog")

PROBE = """
import importlib.util, io, json, sys
import paylog
assert paylog.__file__.startswith(sys.prefix), paylog.__file__
missing = [name for name in ("pulumi", "logmon", "infra", "yaml", "pydantic") if importlib.util.find_spec(name)]
assert not missing, f"importable beside paylog: {missing}"
sink = io.BytesIO()
paylog.configure(service="alone", env="prod", stream=sink, environ={})
paylog.get_logger("alone").info("installed", card="4242 4242 4242 4242")
print(json.dumps({"version": paylog.__version__, "line": json.loads(sink.getvalue())}))
"""


def outside_env() -> dict[str, str]:
    """The environment without this test run's import path or virtualenv, as a fresh shell would have it."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


class TestDistribution:
    def test_metadata_names_only_the_logger_dependencies(self) -> None:
        """paylog/pyproject.toml depends on structlog and orjson only; ddtrace and ASGI are extras."""
        project = tomllib.loads((PACKAGE / "pyproject.toml").read_text())["project"]
        assert project["name"] == "paylog"
        assert sorted(dep.split(">")[0] for dep in project["dependencies"]) == ["orjson", "structlog"]
        assert set(project["optional-dependencies"]) == {"trace", "asgi"}

    def test_engine_depends_on_the_versioned_logger(self) -> None:
        """The root distribution lists paylog as a dependency and no longer ships its modules."""
        root = tomllib.loads((ROOT / "pyproject.toml").read_text())
        assert any(dep.startswith("paylog>=") for dep in root["project"]["dependencies"])
        assert not any(p.startswith("paylog") for p in root["tool"]["setuptools"]["packages"]["find"]["include"])
        assert paylog.__version__.count(".") == 2

    @pytest.mark.slow
    def test_installs_alone_into_an_empty_virtualenv(self, tmp_path: Path) -> None:
        """`pip install ./paylog` into an empty virtualenv gives a working logger and no Pulumi."""
        source = tmp_path / "paylog"
        # A copy, so the build leaves no egg-info or build/ folder in the checkout.
        shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
        target = tmp_path / "venv"
        venv.create(target, with_pip=False)
        python = target / "bin" / "python"
        env = outside_env()
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", str(source)],
            check=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
        )
        result = subprocess.run(
            [str(python), "-c", PROBE], check=False, env=env, cwd=target, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["version"] == paylog.__version__
        assert report["line"]["card"] == "************4242"
        assert report["line"]["service"] == "alone"


def editable_install_output(checkout: Path, tmp_path: Path) -> tuple[Path, str]:
    """Install a checkout's two distributions editable (without their dependencies) into an empty
    virtualenv, the way `make venv` names them; returns the interpreter and everything pip printed."""
    target = tmp_path / "venv"
    venv.create(target, with_pip=False)
    python = target / "bin" / "python"
    env = outside_env()
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-e", "./paylog", "-e", "."],
        check=False,
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return python, output


class TestLayout:
    def test_the_package_sits_in_a_src_layout(self) -> None:
        """The logger's modules live in paylog/src/paylog; the distribution folder itself is no package."""
        assert (PACKAGE / "src" / "paylog" / "__init__.py").is_file()
        assert not (PACKAGE / "__init__.py").exists()
        setuptools = tomllib.loads((PACKAGE / "pyproject.toml").read_text())["tool"]["setuptools"]
        assert setuptools["package-dir"] == {"": "src"}

    def test_import_from_the_repository_root_finds_the_real_package(self) -> None:
        """From the root (where a folder named paylog exists) `import paylog` is the package, not a namespace."""
        assert paylog.__file__ == str(PACKAGE / "src" / "paylog" / "__init__.py")
        env = outside_env()
        result = subprocess.run(
            [sys.executable, "-c", "import paylog; print(paylog.__file__)"],
            check=True,
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.stdout.strip() == str(PACKAGE / "src" / "paylog" / "__init__.py")

    def test_the_warning_pattern_matches_what_setuptools_prints(self) -> None:
        """The pattern catches setuptools' editable-install warning and leaves pip's index notices alone."""
        assert SETUPTOOLS_WARNING.search("editable_wheel.py:354: BuildBackendWarning: Editable installation.")
        assert SETUPTOOLS_WARNING.search("name as your package as they may take precedence during imports.")
        assert not SETUPTOOLS_WARNING.search("WARNING: Location 'file:///opt/simple/pip/' is ignored")

    @pytest.mark.slow
    def test_a_fresh_editable_install_prints_no_setuptools_warning(self, tmp_path: Path) -> None:
        """`pip install -e ./paylog -e .` into an empty virtualenv prints no setuptools warning, and the
        installed paths lead to the checkout's packages."""
        checkout = tmp_path.resolve() / "checkout"
        ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
        for name in PROJECT_FILES:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, checkout / name, ignore=ignore)
            else:
                checkout.mkdir(exist_ok=True)
                shutil.copy2(source, checkout / name)
        python, output = editable_install_output(checkout, tmp_path)
        assert not [line for line in output.splitlines() if SETUPTOOLS_WARNING.search(line)], output
        probe = "import importlib.util as u; print(u.find_spec('paylog').origin); print(u.find_spec('logmon').origin)"
        env = outside_env()
        result = subprocess.run(
            [str(python), "-c", probe], check=True, env=env, cwd=checkout, capture_output=True, text=True, timeout=60
        )
        origins = result.stdout.split()
        assert origins == [
            str(checkout / "paylog" / "src" / "paylog" / "__init__.py"),
            str(checkout / "logmon" / "__init__.py"),
        ]
