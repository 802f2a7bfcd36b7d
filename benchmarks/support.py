"""What every measure shares: paths, repeated timing, medians, and a process tree's memory.

Benchmarks run with the template's dev tools (`.venv`); the generated project's code runs in its
own venv (PySpark, MLflow), so measures of the project start it as a subprocess and read a JSON
report back. Memory is the peak of the summed RSS of the whole process tree: the Python driver,
the JVM it starts and Spark's Python workers.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# tests/ holds the throwaway template repos and the cached project venvs: reuse them.
sys.path.insert(0, str(REPO_ROOT / "tests"))

BUILD = REPO_ROOT / "build" / "benchmarks"
DRIVERS = Path(__file__).resolve().parent / "drivers"
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def median(values: list[float]) -> float:
    return statistics.median(values)


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def log(message: str) -> None:
    print(f"[benchmarks {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- memory of a process tree, from /proc ----------------------------------------------------


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # Field 4 is the parent pid; field 2, the command, may hold spaces and parentheses.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def tree_sample(root: int) -> tuple[int, dict[int, int]]:
    """Bytes resident in `root` and all its descendants now, and each one's CPU clock ticks."""
    children = _children()
    rss, ticks, pending = 0, {}, [root]
    while pending:
        pid = pending.pop()
        pending.extend(children.get(pid, []))
        try:
            resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        rss += resident_pages * PAGE_SIZE
        ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
    return rss, ticks


@dataclass
class Finished:
    seconds: float
    cpu_seconds: float  # user + system time of the whole process tree
    peak_rss: int
    output: str


def run_measured(
    args: list[str], cwd: Path, env: dict[str, str], interval: float = 0.2, timeout: int = 1800
) -> Finished:
    """Run a command; return its wall and CPU time, its tree's peak RSS and its output.

    The tree is sampled every `interval` seconds: a process's CPU time counts up to its last
    sample, and one that lives less than an interval is missed (Spark's are long-lived).
    """
    peak, ticks = 0, {}
    start = time.perf_counter()
    process = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.extend(process.stdout), daemon=True)
    reader.start()
    while True:
        pid, status = os.waitpid(process.pid, os.WNOHANG)
        if pid:
            break
        rss, now = tree_sample(process.pid)
        peak = max(peak, rss)
        ticks.update(now)
        if time.perf_counter() - start > timeout:
            process.kill()
        time.sleep(interval)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    output = "".join(chunks)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({process.returncode}):\n{output[-6000:]}")
    return Finished(seconds, sum(ticks.values()) / CLOCK_TICKS, peak, output)


def read_report(output: str, marker: str = "BENCHMARK-REPORT ") -> dict:
    """The JSON a driver prints on a line starting with `marker`."""
    for line in reversed(output.splitlines()):
        if line.startswith(marker):
            return json.loads(line[len(marker) :])
    raise RuntimeError(f"no {marker.strip()} line in the output:\n{output[-4000:]}")
