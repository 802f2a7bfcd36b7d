"""The generated project: its local pipeline at several sizes, batch-inference throughput, and its
unit test suite.

The project is rendered with the default answers from the working tree, and runs with the venv of
its pinned runtime that tests/test_generated_project.py builds and caches (build/venvs/). The
project's code is put first on PYTHONPATH instead of being installed, so a benchmark never changes
a venv that a concurrent test run may be using.

Data for each size is written by the project's own `python -m common.sample_data --rows N`: the
shipped sample's schema, resampled deterministically with a little noise.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import copier
from support import BUILD, DRIVERS, log, median, read_report, run_measured
from template_repo import build_template_repo, head_version
from test_generated_project import _clean_env, _venv_for

ANSWERS = {"runtime": "17.3"}  # the defaults, named because the venv is chosen by runtime


class Project:
    """A rendered project, its interpreter, and a fresh local folder per run."""

    def __init__(self, root: Path) -> None:
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        self.root = root
        template = build_template_repo(root, release_versions=[])
        self.path = root / "project"
        copier.run_copy(
            str(template), self.path, vcs_ref=head_version(), data=ANSWERS, defaults=True,
            unsafe=False, quiet=True,
        )  # fmt: skip
        venv = _venv_for(self.path, ANSWERS["runtime"])
        self.python = str(venv / "bin" / "python")
        self._runs = 0
        # What `make install` leaves in the venv besides the packages: the Spark class archive.
        if not (venv / "spark-classes.jsa").is_file():
            self.run(["-m", "common.class_archive"], root / "unused-local-dir")

    def env(self, local_dir: Path) -> dict[str, str]:
        env = _clean_env()
        env["PYTHONPATH"] = str(self.path / "src")
        env["MLOPS_LOCAL_DIR"] = str(local_dir)
        return env

    def fresh_local_dir(self) -> Path:
        self._runs += 1
        local = self.root / f"local-{self._runs}"
        shutil.rmtree(local, ignore_errors=True)
        return local

    def run(self, args: list[str], local_dir: Path):
        return run_measured([self.python, *args], cwd=self.path, env=self.env(local_dir))


def _write_data(project: Project, local_dir: Path, rows: int) -> None:
    project.run(["-m", "common.sample_data", "--rows", str(rows)], local_dir)


def measure_pipeline(project: Project, rows: int, repeats: int) -> dict:
    """End to end, per step and peak memory of the local pipeline's first run on `rows` rows."""
    runs, local = [], None
    for _ in range(repeats):
        if local is not None:
            shutil.rmtree(local)  # only the last run's tables and model are kept
        local = project.fresh_local_dir()
        _write_data(project, local, rows)
        finished = project.run([str(DRIVERS / "time_pipeline_steps.py")], local)
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
    finished = project.run([str(DRIVERS / "time_batch_scoring.py"), str(repeats)], Path(local_dir))
    report = read_report(finished.output)
    log(f"inference {report['rows']} rows: spark_udf/predict = {report['ratio']:.2f}")
    return report


def measure_unit_tests(project: Project, repeats: int) -> dict:
    """The generated project's own pytest suite, as `make test` runs it (its fixtures make their
    own local folder), with pytest's report of the slowest steps."""
    runs = []
    for _ in range(repeats):
        args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=8"]
        finished = project.run(args, project.root / "unused-local-dir")
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
        finished = project.run([str(DRIVERS / "tool_floor.py")], local)
        shutil.rmtree(local, ignore_errors=True)
        runs.append({"seconds": finished.seconds, "steps": read_report(finished.output)["seconds"]})
    result = {"runs": runs, "seconds": median([run["seconds"] for run in runs])}
    log(f"tool floor: {result['seconds']:.1f} s")
    return result


def open_project() -> Project:
    return Project(BUILD / "project")
