"""The dependency runs one way: the Pulumi program (`infra/`) uses the engine (`logmon/`), never the reverse."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


class TestLayering:
    def test_no_engine_module_imports_the_program(self) -> None:
        """No module under `logmon/` imports `infra` (at module level or inside a function)."""
        offenders = {
            str(path.relative_to(ROOT)): sorted(
                name for name in imported_modules(path) if name.split(".")[0] == "infra"
            )
            for path in (ROOT / "logmon").rglob("*.py")
        }
        assert {path: names for path, names in offenders.items() if names} == {}

    def test_the_check_sees_an_import(self, tmp_path: Path) -> None:
        """The scan finds both `import infra.x` and `from infra.x import y` inside a function."""
        module = tmp_path / "m.py"
        module.write_text("def f():\n    import infra.gate\n    from infra.settings import X\n")
        assert {"infra.gate", "infra.settings"} <= imported_modules(module)

    def test_the_stack_settings_live_in_the_engine(self) -> None:
        """Lint, rule tests, the plan and the program read stacks through `logmon.settings`."""
        assert not (ROOT / "infra" / "settings.py").exists()
        assert "logmon.settings" in imported_modules(ROOT / "infra" / "gate.py")
        assert "logmon.settings" in imported_modules(ROOT / "logmon" / "ruletest" / "stacks.py")
