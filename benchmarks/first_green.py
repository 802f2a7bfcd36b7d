"""Time to first green (DESIGN §8): `copier copy` -> environment installed -> the project's own
tests pass, end to end, for pip + venv against uv, each with a cold and then a warm package cache.

Every variant starts from nothing but the template: a new project folder, copied with the copier
CLI (default answers) from a throwaway template repo (tests/template_repo.py, the working tree
tagged as the next version), then:

- uv, as the generated README says: `uv sync` (the project's `.venv`: the runtime and dev
  dependency groups, and the project, editable), then `uv run pytest` (`make install` and
  `make test`, without make).
- pip: `python -m venv --upgrade-deps .venv` (a current pip, not the one the interpreter bundles),
  then one `pip install -e . <the same pins>` (the requirements of the dependency groups uv
  installs, `[tool.uv] default-groups`), then `pytest` with the venv activated (on PATH,
  VIRTUAL_ENV).

Neither has a lock to start from: the rendered project has no uv.lock, so both resolve. Cold
cache: an empty cache folder of its own (UV_CACHE_DIR or PIP_CACHE_DIR), so everything is
downloaded and PySpark, an sdist, is built. Warm: the same folder, reused right after by a second
project. The operating system's file cache is not cleared (no root needed, and a user's is not
either).

A fifth run, uv with the warm cache and `--offline`, tells uv's own warm cost apart from the
network's: uv keys a built sdist to the HTTP revision of its download, and revalidates that
download when it resolves. PyPI serves its files as immutable, but a proxy that strips the cache
headers (this machine's, in 2026-11: no Cache-Control, ETag or Last-Modified) makes every
resolution download PySpark's 434 MB sdist again and build it again. `--offline` uses the cache as
it is. pip keys its built wheels to the file's URL and hash, so its warm run reuses the wheel
either way. Each run records what its installer built from source.

The commands run in a clean environment: no PIP_*/UV_* settings of this machine, no pip
configuration file (PIP_CONFIG_FILE=/dev/null; this machine's global pip.conf adds local indexes
that uv would not read), the same base interpreter for both (UV_PYTHON, and `python -m venv`),
and no Python downloads. The CA bundle (PIP_CERT) is kept: it selects no package.

`make install` also writes the Spark class archive (optional, the same for both tools, not a
package manager's work): it is left out of the totals, so the tests of both run without it, and
timed once after the warm uv run, for the record.

In smoke mode (CI) only uv runs, into the environment and with the lock the other measures use
(project_bench.py: installed already, so the sync only adds the project; no download), and its
test phase only collects the tests (`pytest --collect-only`: every test module and the package
import): the suite itself takes about a minute, and the smoke's `unit_tests` measure runs it. A
real first install would take minutes and gigabytes of cache, which CI does not need to spend to
keep this code working.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import project_bench
import support  # noqa: F401 (imported first: it puts tests/ on sys.path)
from project_env import UV, package_of
from support import BUILD, log, median, run_measured
from template_repo import build_template_repo, head_version

COPIER = Path(sys.executable).with_name("copier")
# The interpreter the dev venv was made from: both tools build their environment on it.
BASE_PYTHON = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
VARIANTS = (("pip", "cold"), ("pip", "warm"), ("uv", "cold"), ("uv", "warm"), ("uv", "offline"))
CACHE_STATES = {"pip": ("cold", "warm"), "uv": ("cold", "warm", "offline")}
PHASES = ("copy", "install", "tests")
INSTALL_TIMEOUT = 1800
TESTS_TIMEOUT = 900
INTERVAL = 0.1  # seconds between samples of a phase's process tree

VERSIONS_SCRIPT = """
import json, platform
from importlib.metadata import PackageNotFoundError, version
names = ["pip", "pyspark", "mlflow", "scikit-learn", "pandas", "numpy", "pyarrow", "pytest"]
found = {"python": platform.python_version()}
for name in names:
    try:
        found[name] = version(name)
    except PackageNotFoundError:
        pass
print(json.dumps(found))
"""


def _environment(
    tool: str, cache: Path | None, venv: Path | None, project_environment: Path | None = None
) -> dict[str, str]:
    """A fresh shell's environment, with this machine's package-tool settings left out."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_", "MLOPS_"))
        and key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE"}
    }
    if "PIP_CERT" in os.environ:
        env["PIP_CERT"] = os.environ["PIP_CERT"]
    env["PIP_CONFIG_FILE"] = os.devnull
    env["UV_PYTHON"] = str(BASE_PYTHON)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    if cache is not None:
        env["PIP_CACHE_DIR" if tool == "pip" else "UV_CACHE_DIR"] = str(cache)
    elif "UV_CACHE_DIR" in os.environ:  # this machine's own cache, wherever it is
        env["UV_CACHE_DIR"] = os.environ["UV_CACHE_DIR"]
    if project_environment is not None:
        env["UV_PROJECT_ENVIRONMENT"] = str(project_environment)
    if venv is not None:  # an activated venv
        env["VIRTUAL_ENV"] = str(venv)
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def _commands(tool: str, project: Path, offline: bool, smoke: bool) -> dict[str, list[list[str]]]:
    tests = ["--collect-only", "-q"] if smoke else []
    if tool == "uv":
        sync = [str(UV), "sync", *(["--offline"] if offline else [])]
        return {"install": [sync], "tests": [[str(UV), "run", "pytest", *tests]]}
    venv = project / ".venv"
    pins = default_group_pins(project)
    return {
        "install": [
            [str(BASE_PYTHON), "-m", "venv", "--upgrade-deps", str(venv)],
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-e", ".", *pins],
        ],
        "tests": [[str(venv / "bin" / "pytest"), *tests]],
    }


def default_group_pins(project: Path) -> list[str]:
    """The requirements of the dependency groups `uv sync` installs (`[tool.uv] default-groups`),
    for pip; the project's own dependencies come with the project."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    groups = pyproject.get("dependency-groups", {})
    default = pyproject.get("tool", {}).get("uv", {}).get("default-groups", ["dev"])
    names = list(groups) if default == "all" else default
    pins = [requirement for name in names for requirement in groups.get(name, [])]
    if not all(isinstance(pin, str) for pin in pins):
        raise RuntimeError(f"a group includes another ({pins}): expand it for pip here")
    return pins


def _size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink():
                total += path.stat().st_size
        except OSError:
            continue
    return total


def _built_from_source(tool: str, output: str) -> list[str]:
    """The distributions the installer built (sdists), as it reports them."""
    pattern = r"Building wheel for (\S+) \(" if tool == "pip" else r"^\s*Built (\S+?)==\S+"
    return sorted(set(re.findall(pattern, output, re.M)))


def _phase(command: list[str], cwd: Path, env: dict[str, str], timeout: int, into: dict) -> str:
    """Run one command of a phase, add its times to the phase's, and return its output."""
    finished = run_measured(command, cwd, env, interval=INTERVAL, timeout=timeout)
    into["seconds"] = into.get("seconds", 0.0) + finished.seconds
    into["cpu_seconds"] = into.get("cpu_seconds", 0.0) + finished.cpu_seconds
    into["peak_rss"] = max(into.get("peak_rss", 0), finished.peak_rss)
    return finished.output


def run_variant(
    tool: str,
    cache_state: str,
    template: Path,
    root: Path,
    cache: Path | None,
    smoke_project: project_bench.Project | None = None,
) -> dict:
    """Copy, install and test one project; each phase's wall and CPU time and peak memory.

    With `smoke_project`, the install goes into that project's environment, with its lock."""
    smoke = smoke_project is not None
    project = root / f"{tool}-{cache_state}"
    phases: dict[str, dict] = {phase: {} for phase in PHASES}
    outputs = dict.fromkeys(PHASES, "")
    environment = smoke_project.venv if smoke else None
    env = _environment(tool, cache, None, environment)

    copy = [str(COPIER), "copy", "--quiet", "--defaults", "--vcs-ref", head_version()]
    outputs["copy"] = _phase(
        [*copy, str(template), str(project)], root, env, TESTS_TIMEOUT, phases["copy"]
    )
    if smoke and smoke_project.lock.is_file():
        shutil.copyfile(smoke_project.lock, project / "uv.lock")  # not timed
    # pip's pins are read from the copy, not timed.
    commands = _commands(tool, project, cache_state == "offline", smoke)
    for command in commands["install"]:
        outputs["install"] += _phase(command, project, env, INSTALL_TIMEOUT, phases["install"])
    if tool == "pip":
        env = _environment(tool, cache, project / ".venv")  # the venv, activated
    for command in commands["tests"]:
        outputs["tests"] += _phase(command, project, env, TESTS_TIMEOUT, phases["tests"])

    counted = r"(\d+) tests? collected" if smoke else r"(\d+) passed"
    passed = re.search(counted, outputs["tests"])
    failed = re.search(r"\d+ (failed|errors?)\b", outputs["tests"])
    if not passed or failed:
        raise RuntimeError(
            f"{tool}, {cache_state} cache: tests not green:\n{outputs['tests'][-4000:]}"
        )
    python = (environment or project / ".venv") / "bin" / "python"
    versions = subprocess.run(
        [str(python), "-c", VERSIONS_SCRIPT],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result = {
        "tool": tool,
        "cache": cache_state,
        "phases": phases,
        "seconds": sum(phases[phase]["seconds"] for phase in PHASES),
        "passed": int(passed.group(1)),
        "built_from_source": _built_from_source(tool, outputs["install"]),
        "cache_bytes_after_install": _size(cache) if cache is not None else None,
        "versions": json.loads(versions.stdout),
    }
    if tool == "uv" and cache_state == "offline":
        # `make install`'s second step, after the tests so that neither tool's tests use it.
        package = package_of(project)
        archive = [str(UV), "run", "python", "-m", f"{package}.local.class_archive"]
        finished = run_measured(archive, project, env, INTERVAL, timeout=INSTALL_TIMEOUT)
        result["class_archive_seconds"] = finished.seconds
    log(
        f"first green, {tool}, {cache_state} cache: {result['seconds']:.1f} s ("
        + ", ".join(f"{phase} {phases[phase]['seconds']:.1f} s" for phase in PHASES)
        + f"; {result['passed']} {'collected' if smoke else 'passed'})"
    )
    return result


def _uv_version() -> str:
    output = subprocess.run([str(UV), "--version"], capture_output=True, text=True).stdout
    return " ".join(output.split()[:2])  # "uv 0.13.9"


def measure(repeats: int, smoke_project: project_bench.Project | None = None) -> dict:
    """Every variant `repeats` times (cold, then warm on the same cache, per tool); medians.
    With `smoke_project`: the smoke's one uv variant (see above)."""
    BUILD.mkdir(parents=True, exist_ok=True)
    runs: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="first-green-", dir=BUILD) as scratch:
        root = Path(scratch)
        template = build_template_repo(root, release_versions=[])
        for index in range(repeats):
            if smoke_project is not None:
                runs.append(run_variant("uv", "warm", template, root, None, smoke_project))
                shutil.rmtree(root / "uv-warm")
                continue
            # The tools take turns going first, so that a drift in load weighs on both.
            tools = ["pip", "uv"] if index % 2 == 0 else ["uv", "pip"]
            for tool in tools:
                cache = root / f"{tool}-cache"
                cache.mkdir()  # empty: the cold run fills it, the warm runs reuse it
                for cache_state in CACHE_STATES[tool]:
                    runs.append(run_variant(tool, cache_state, template, root, cache))
                    shutil.rmtree(root / f"{tool}-{cache_state}")
                shutil.rmtree(cache)
    return summarize(runs, smoke_project is not None)


def summarize(runs: list[dict], smoke: bool = False) -> dict:
    variants: dict[str, dict] = {}
    for tool, cache_state in VARIANTS:
        mine = [run for run in runs if run["tool"] == tool and run["cache"] == cache_state]
        if not mine:
            continue
        variants[f"{tool}_{cache_state}"] = {
            "seconds": median([run["seconds"] for run in mine]),
            "phases": {
                phase: median([run["phases"][phase]["seconds"] for run in mine]) for phase in PHASES
            },
        }
    # uv's offline run against pip's warm one: both with a warm cache.
    pairs = {"cold": ("uv_cold", "pip_cold"), "warm": ("uv_warm", "pip_warm"),
             "offline": ("uv_offline", "pip_warm")}  # fmt: skip
    ratios = {
        name: variants[uv]["seconds"] / variants[pip]["seconds"]
        for name, (uv, pip) in pairs.items()
        if uv in variants and pip in variants
    }
    return {
        "smoke": smoke,
        "python": str(BASE_PYTHON),
        "uv": _uv_version(),
        "runs": runs,
        "variants": variants,
        "uv_over_pip": ratios,
    }
