"""paylog is its own distribution: it installs alone, without Pulumi or the rule engine."""

from __future__ import annotations

import json
import os
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
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
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
