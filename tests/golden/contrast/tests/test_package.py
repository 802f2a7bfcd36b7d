"""The package's shape: imports flow one way, and every module imports on Windows too."""

from __future__ import annotations

import ast
import graphlib
import subprocess
import sys
from pathlib import Path

import ml_project

PACKAGE = "ml_project"
ROOT = Path(ml_project.__file__).parent
# Modules that exist only on POSIX systems: importing one at module level breaks Windows.
POSIX_ONLY = ["fcntl", "termios", "tty", "pty", "pwd", "grp", "resource", "syslog", "crypt"]


def _modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    modules = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join((PACKAGE, *parts))] = path
    return modules


def _imports(path: Path) -> set[str]:
    """The package's modules that `path` imports, at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
            found.add(node.module)
    modules = _modules()
    # `from pkg import naming` names a module; `from pkg.naming import X` names its attribute.
    return {name if name in modules else name.rsplit(".", 1)[0] for name in found} & set(modules)


def _layer(module: str) -> str:
    """local (laptop-only), a step's subpackage, or shared (a module at the package root)."""
    parts = module.split(".")[1:]
    if not parts:
        return "shared"
    if parts[0] == "local":
        return "local"
    return f"step:{parts[0]}" if len(parts) > 1 or (ROOT / parts[0]).is_dir() else "shared"


def test_imports_flow_one_way():
    """local -> steps -> shared modules: the wheel (without local/) never needs laptop-only code,
    a step never needs another step, and shared modules need no step."""
    wrong = []
    for module, path in _modules().items():
        layer = _layer(module)
        for imported in _imports(path):
            target = _layer(imported)
            allowed = (
                layer == "local"
                or target == "shared"
                or (target == layer and layer.startswith("step:"))
            )
            if not allowed:
                wrong.append(f"{module} ({layer}) imports {imported} ({target})")
    assert not wrong, "\n".join(wrong)


def test_shared_modules_import_each_other_without_cycles():
    graph = {
        module: {imported for imported in _imports(path) if _layer(imported) == "shared"}
        for module, path in _modules().items()
        if _layer(module) == "shared"
    }
    graph = {module: imported - {module} for module, imported in graph.items()}
    list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError on a cycle


def test_every_module_imports_without_posix_only_modules():
    """What Windows lacks (fcntl, ...) may only be imported where it is used, behind a check."""
    script = (
        "import importlib, sys\n"
        f"for name in {POSIX_ONLY!r}:\n"
        "    sys.modules[name] = None  # makes `import name` raise ImportError\n"
        f"for module in {sorted(_modules())!r}:\n"
        "    importlib.import_module(module)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
