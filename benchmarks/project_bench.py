"""The generated project: its local pipeline at several sizes, batch-inference throughput, and its
unit test suite.

The project is rendered with the default answers from the working tree and installed as its
README says (`make install`: `uv sync`, then the Spark class archive), and every command runs
through `uv run`, as its Makefile does. One deliberate difference: the environment is not the
project's own `.venv` but one kept in build/benchmarks/venvs/, per set of pins
(UV_PROJECT_ENVIRONMENT). The project is rendered afresh on every run, and a kept environment
means the class archive (~30 s) is written once, not per run; and it is not the environment the
template's tests share (build/venvs/), into which a `uv sync` here would install this project
under a test session running concurrently. `uv run --no-sync`: the environment was just synced.
The project's uv.lock is kept beside the environment and put back into each new rendering, as a
team commits its lock: without one, every sync resolves again, and resolving PySpark (an sdist)
downloads it (434 MB) for its metadata; on a network whose proxy strips the HTTP cache headers uv
revalidates with, as this machine's did in 2026-11, uv downloads it again each time.
The sync compiles the packages' bytecode (`--compile-bytecode`) and runs may write more, as in a
user's shell: no measure pays Python's one-time compilation of MLflow, PySpark & co., which only a
project's first run pays (time to first green, first_green.py, measures that). The smoke run
(CI, nothing timed) makes a new environment without either the bytecode or the class archive:
about a minute less on a fresh checkout; a later full run adds the archive.

Data for each size is written by the project's own `<package>.local.sample_data --rows N`: the
shipped sample's schema, resampled deterministically with a little noise.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import copier
import support  # noqa: F401 (imported first: it puts tests/ on sys.path)
import yaml
from project_env import UV, clean_env, environment_for, package_of
from support import BUILD, DRIVERS, log, median, read_report, run_measured
from template_repo import build_template_repo, head_version

ANSWERS: dict[str, str] = {}  # the default answers
VENVS = BUILD / "venvs"
INSTALL_TIMEOUT = 1800


class Project:
    """A rendered project, installed with uv, and a fresh local folder per run."""

    def __init__(self, root: Path, smoke: bool = False) -> None:
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        self.root = root
        template = build_template_repo(root, release_versions=[])
        self.path = root / "project"
        copier.run_copy(
            str(template), self.path, vcs_ref=head_version(), data=ANSWERS, defaults=True,
            unsafe=False, quiet=True,
        )  # fmt: skip
        self.answers = yaml.safe_load((self.path / ".copier-answers.yml").read_text())
        self.package = package_of(self.path)
        self.venv = environment_for(self.path, VENVS)
        self.python = str(self.venv / "bin" / "python")
        self._runs = 0
        # `make install`: uv sync, then the Spark class archive (once per kept environment).
        VENVS.mkdir(parents=True, exist_ok=True)
        self.lock = self.venv.with_name(f"{self.venv.name}.uv.lock")
        if self.lock.is_file():
            shutil.copyfile(self.lock, self.path / "uv.lock")
        install = [str(UV), "sync", "--quiet", *([] if smoke else ["--compile-bytecode"])]
        run_measured(
            install, self.path, self.env(root / "unused-local-dir"), timeout=INSTALL_TIMEOUT
        )
        shutil.copyfile(self.path / "uv.lock", self.lock)
        if not smoke and not (self.venv / "spark-classes.jsa").is_file():
            self.run(["-m", f"{self.package}.local.class_archive"], root / "unused-local-dir")

    def env(self, local_dir: Path) -> dict[str, str]:
        env = clean_env(
            self.path, UV_PROJECT_ENVIRONMENT=str(self.venv), MLOPS_LOCAL_DIR=str(local_dir)
        )
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # see above
        return env

    def fresh_local_dir(self) -> Path:
        self._runs += 1
        local = self.root / f"local-{self._runs}"
        shutil.rmtree(local, ignore_errors=True)
        return local

    def uv_run(self, args: list[str], local_dir: Path):
        """`uv run ARGS` in the project."""
        command = [str(UV), "run", "--no-sync", *args]
        return run_measured(command, cwd=self.path, env=self.env(local_dir))

    def run(self, args: list[str], local_dir: Path):
        """`uv run python ARGS` in the project."""
        return self.uv_run(["python", *args], local_dir)

    def driver(self, name: str, local_dir: Path, *args: str):
        """A benchmark driver (drivers/NAME), told the project's package name."""
        return self.run([str(DRIVERS / name), self.package, *args], local_dir)

    def describe(self) -> dict:
        return {
            "answers": "default",
            "package_name": self.package,
            "runtime": self.answers["runtime"],
            "installed_with": "uv sync (benchmark environment), uv run --no-sync",
        }


def _write_data(project: Project, local_dir: Path, rows: int) -> None:
    project.run(["-m", f"{project.package}.local.sample_data", "--rows", str(rows)], local_dir)


def measure_pipeline(project: Project, rows: int, repeats: int) -> dict:
    """End to end, per step and peak memory of the local pipeline's first run on `rows` rows."""
    runs, local = [], None
    for _ in range(repeats):
        if local is not None:
            shutil.rmtree(local)  # only the last run's tables and model are kept
        local = project.fresh_local_dir()
        _write_data(project, local, rows)
        finished = project.driver("time_pipeline_steps.py", local)
        report = read_report(finished.output)
        if f": {rows} rows" not in finished.output:
            raise RuntimeError(f"the pipeline did not see {rows} rows:\n{finished.output[-3000:]}")
        runs.append(
            {
                "seconds": finished.seconds,
                "cpu_seconds": finished.cpu_seconds,
                "peak_rss": finished.peak_rss,
                "steps": report["seconds"],
            }
        )
    steps = runs[0]["steps"].keys()
    result = {
        "rows": rows,
        "runs": runs,
        "seconds": median([run["seconds"] for run in runs]),
        "peak_rss": max(run["peak_rss"] for run in runs),
        "steps": {step: median([run["steps"][step] for run in runs]) for step in steps},
        "local_dir": str(local),
    }
    log(f"pipeline {rows} rows: {result['seconds']:.1f} s, {result['peak_rss'] / 2**30:.2f} GiB")
    return result


def measure_inference(project: Project, local_dir: Path, repeats: int) -> dict:
    """spark_udf against the model's own predict, on the feature table of an earlier run."""
    finished = project.driver("time_batch_scoring.py", Path(local_dir), str(repeats))
    report = read_report(finished.output)
    log(f"inference {report['rows']} rows: spark_udf/predict = {report['ratio']:.2f}")
    return report


# The smoke runs one test module: it proves the measure works; the template's tests run the suite.
SMOKE_TESTS = ["tests/test_config.py"]


def measure_unit_tests(project: Project, repeats: int, smoke: bool = False) -> dict:
    """The generated project's own pytest suite, as `make test` runs it (`uv run pytest`; its
    fixtures make their own local folder), with pytest's report of the slowest steps."""
    runs = []
    for _ in range(repeats):
        args = ["pytest", "-q", "-p", "no:cacheprovider", "--durations=8"]
        args += SMOKE_TESTS if smoke else []
        finished = project.uv_run(args, project.root / "unused-local-dir")
        passed = re.search(r"(\d+) passed", finished.output)
        runs.append(
            {
                "seconds": finished.seconds,
                "cpu_seconds": finished.cpu_seconds,
                "peak_rss": finished.peak_rss,
                "passed": int(passed.group(1)) if passed else 0,
                "slowest": re.findall(r"^\s*([\d.]+)s (call|setup)\s+(\S+)", finished.output),
            }
        )
    result = {
        "runs": runs,
        "seconds": median([run["seconds"] for run in runs]),
        "peak_rss": max(run["peak_rss"] for run in runs),
        "passed": runs[0]["passed"],
    }
    log(f"unit tests: {result['passed']} passed, {result['seconds']:.1f} s")
    return result


def measure_tool_floor(project: Project, repeats: int) -> dict:
    """What the tools alone cost a run (drivers/tool_floor.py): Spark's start, an MLflow store and
    one model scored through spark_udf, in a fresh process as `make test` starts one."""
    runs = []
    for _ in range(repeats):
        local = project.fresh_local_dir()
        finished = project.driver("tool_floor.py", local)
        shutil.rmtree(local, ignore_errors=True)
        runs.append({"seconds": finished.seconds, "steps": read_report(finished.output)["seconds"]})
    result = {"runs": runs, "seconds": median([run["seconds"] for run in runs])}
    log(f"tool floor: {result['seconds']:.1f} s")
    return result


def open_project(smoke: bool = False) -> Project:
    return Project(BUILD / "project", smoke)
