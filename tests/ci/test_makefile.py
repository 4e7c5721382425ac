"""The Makefile on a fresh or stale clone: it refuses an unsupported Python and rebuilds a foreign venv."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def fake_python(path: Path, version: str) -> Path:
    """An executable that answers like a Python of `version` and fails any 3.11 requirement."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'#!/bin/sh\necho "{version}"\nexit 1\n', encoding="utf-8")
    path.chmod(0o755)
    return path


class TestVenvInterpreter:
    def test_unsupported_python_is_refused_with_what_to_do(self, tmp_path: Path) -> None:
        """An interpreter older than 3.11 stops make with a message naming PYTHON= and a supported version."""
        old = fake_python(tmp_path / "python3.9", "3.9.18")
        result = make("venv-interpreter", f"PYTHON={old}", f"VENV={tmp_path / 'venv'}")
        assert result.returncode != 0
        assert "not Python 3.11 or newer" in result.stderr
        assert "make PYTHON=python3" in result.stderr

    def test_venv_built_by_another_python_is_removed(self, tmp_path: Path) -> None:
        """A venv whose python is another interpreter is dropped, so the next step rebuilds it."""
        venv = tmp_path / "venv"
        fake_python(venv / "bin" / "python", "3.9.18 (other)")
        result = make("venv-interpreter", f"PYTHON={sys.executable}", f"VENV={venv}")
        assert result.returncode == 0, result.stderr
        assert not venv.exists()
        assert "built by another Python" in result.stderr

    def test_venv_of_the_same_python_is_kept(self, tmp_path: Path) -> None:
        """A venv built by the requested interpreter stays as it is."""
        venv = tmp_path / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        result = make("venv-interpreter", f"PYTHON={sys.executable}", f"VENV={venv}")
        assert result.returncode == 0, result.stderr
        assert (venv / "bin" / "python").exists()
        assert result.stderr == ""


class TestClean:
    def test_clean_removes_egg_info(self) -> None:
        """`make clean` removes the `*.egg-info` an editable install leaves behind."""
        result = make("-n", "clean")
        assert "*.egg-info" in result.stdout


class TestEditableInstall:
    def test_packages_are_declared_at_the_root(self) -> None:
        """pyproject maps the root package dir to `.`, so setuptools installs editable with a plain .pth.

        Without it setuptools (>= 69) picks its import finder and prints "Editable installation ... be careful
        with folders in your working directory" on every fresh `pip install -e`.
        """
        setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
        assert setuptools["package-dir"] == {"": "."}
