"""Rules directories written for one test, and the shipped rules they are compared with."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def shipped_rules() -> Path:
    """The `rules/` directory the team edits."""
    return REPOSITORY / "rules"


@pytest.fixture
def write_rules(tmp_path: Path) -> Callable[[Mapping[str, str | bytes]], Path]:
    """Write files (name → text or raw bytes) into a fresh rules directory and return the directory."""

    def write(files: Mapping[str, str | bytes]) -> Path:
        directory = tmp_path / "rules"
        directory.mkdir(exist_ok=True)
        for name, content in files.items():
            path = directory / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return directory

    return write
