"""Install and run a rendered project as its README says: `uv sync`, then `uv run ...`.

Projects with the same runtime pins share one environment (UV_PROJECT_ENVIRONMENT), cached in
build/venvs/ across test sessions: only the first sync of a set of pins installs PySpark & co.,
and the Spark class archive `make install` writes into it is written once. A later sync of another
project swaps only the project itself (uv keeps an environment exactly in step with the lock).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from answer_sets import REPO_ROOT

UV = Path(sys.executable).with_name("uv")
VENVS = REPO_ROOT / "build" / "venvs"
INSTALL_TIMEOUT = 1800
RUN_TIMEOUT = 600


def runtime_pins(project: Path) -> list[str]:
    """What the project installs besides itself: its dependencies and dependency groups."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    groups = [
        pyproject["project"].get("dependencies", []),
        *pyproject["dependency-groups"].values(),
    ]
    return sorted(requirement for group in groups for requirement in group)


def environment_for(project: Path, venvs: Path = VENVS) -> Path:
    """The shared environment of the project's pins in `venvs` (created on first use by uv
    sync)."""
    key = hashlib.sha256("\n".join([sys.version, *runtime_pins(project)]).encode()).hexdigest()
    return venvs / key[:12]


def package_of(project: Path) -> str:
    """The project's package (and distribution) name."""
    return tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"]


def clean_env(project: Path, **extra: str) -> dict[str, str]:
    """The environment a fresh shell would give, pointing uv at the shared environment."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"} and not key.startswith("MLOPS_")
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["UV_PROJECT_ENVIRONMENT"] = str(environment_for(project))
    # The interpreter running the tests: uv would otherwise look for (and download) another one.
    env["UV_PYTHON"] = sys.executable
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return {**env, **extra}


def run(args: list[str], project: Path, timeout: int = RUN_TIMEOUT, **extra_env: str) -> str:
    """Run a command in the project; fail with its output if it fails."""
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=project,
        env=clean_env(project, **extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} failed ({result.returncode}):\n{output[-6000:]}"
    )
    return output


def install(project: Path) -> Path:
    """`make install`: uv sync, then the Spark class archive (once per shared environment)."""
    VENVS.mkdir(parents=True, exist_ok=True)
    run([UV, "sync", "--quiet"], project, timeout=INSTALL_TIMEOUT)
    venv = environment_for(project)
    if not (venv / "spark-classes.jsa").is_file():
        run([UV, "run", "python", "-m", f"{package_of(project)}.local.class_archive"], project)
    return venv


def uv_run(project: Path, *args: str, **extra_env: str) -> str:
    """`uv run ARGS` in the project, as its Makefile does (--no-sync: install() synced it)."""
    return run([UV, "run", "--no-sync", *args], project, **extra_env)
