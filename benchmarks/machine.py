"""What a result depends on: the machine, its load, and the versions that ran."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

VERSIONS_SCRIPT = """
import json, platform
from importlib.metadata import version
names = ["pyspark", "mlflow", "scikit-learn", "pandas", "numpy", "pyarrow"]
print(json.dumps({"python": platform.python_version(), **{n: version(n) for n in names}}))
"""


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    return 0.0


def _java() -> str:
    result = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    lines = (result.stderr or result.stdout).splitlines()
    return lines[0].strip() if lines else "unknown"


def _template_commit() -> str:
    """The template repository's commit, `-dirty` when the working tree (what runs) differs."""
    result = subprocess.run(
        ["git", "describe", "--always", "--dirty", "--exclude=*"],
        cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return result.stdout.strip() or "unknown"


def load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def _uv() -> str:
    uv = Path(sys.executable).with_name("uv")
    result = subprocess.run([str(uv), "--version"], capture_output=True, text=True, check=False)
    return result.stdout.split()[1] if result.returncode == 0 else "missing"


def project_runtime(project_python: str) -> dict:
    """The versions installed in a generated project's environment."""
    project = subprocess.run(
        [project_python, "-c", VERSIONS_SCRIPT], capture_output=True, text=True, check=True
    )
    return json.loads(project.stdout)


def describe(project_python: str | None) -> dict:
    """The machine, the date and every version that matters, at the start of a run (the
    project's, when a measure runs the benchmark project)."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(_memory_gib(), 1),
        "os": f"{platform.system()} {platform.release()}",
        "java": _java(),
        "load_at_start": load(),
        "template_commit": _template_commit(),
        "template_tools": {
            "python": platform.python_version(),
            "copier": version("copier"),
            "uv": _uv(),
        },
        "project_runtime": project_runtime(project_python) if project_python else None,
        "benchmark_python": sys.executable,
    }
