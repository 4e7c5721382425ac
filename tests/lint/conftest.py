"""Lint runs over a copy of the shipped rules that a test changes file by file."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
SHIPPED_RULES = REPOSITORY / "rules"

RulesCopy = Callable[[Mapping[str, str]], Path]


@pytest.fixture
def rules_copy(tmp_path: Path) -> RulesCopy:
    """Copy the shipped rules, replace or add the given files (name → text), and return the directory."""

    def copy(files: Mapping[str, str]) -> Path:
        directory = tmp_path / "rules"
        if not directory.exists():
            shutil.copytree(SHIPPED_RULES, directory)
        for name, text in files.items():
            (directory / name).write_text(text, encoding="utf-8")
        return directory

    return copy
