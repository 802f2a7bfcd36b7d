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


def load() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def describe(project_python: str) -> dict:
    """The machine, the date and every version that matters, at the start of a run."""
    project = subprocess.run(
        [project_python, "-c", VERSIONS_SCRIPT], capture_output=True, text=True, check=True
    )
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(_memory_gib(), 1),
        "os": f"{platform.system()} {platform.release()}",
        "java": _java(),
        "load_at_start": load(),
        "template_tools": {"python": platform.python_version(), "copier": version("copier")},
        "project_runtime": json.loads(project.stdout),
        "benchmark_python": sys.executable,
    }
