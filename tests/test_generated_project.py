"""A generated project works: its own test suite and its local pipeline, for contrasting answers.

Each answer set is rendered and installed as its README says (`uv sync`: the runtime profile's
pins, the dev tools and the project; environments are shared per set of pins, see project_env),
and then:
- the project's own pytest suite must pass;
- `uv build --wheel` builds the wheel the bundle deploys: only the package, without its
  laptop-only code, with the entry points the jobs run;
- its local pipeline runs the whole loop: the first run promotes version 1 to champion and scores
  the sample's records; the second trains an identical version 2, which the gate keeps out (not
  better) without failing, and scores nothing twice; after a second batch of records arrives,
  the third scores only those and merges their labels.
"""

from __future__ import annotations

import configparser
import itertools
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import copier
import pytest
import yaml
from conftest import render_project
from project_env import UV, clean_env, install, package_of, run, uv_run
from template_repo import build_template_repo, git, head_version

pytestmark = pytest.mark.slow

ANSWER_SETS = {
    # Generated on 17.3 and switched as a team would, `copier update -d runtime=18` (UPDATED_FROM):
    # the newest runtime profile and the way to it. test_update.py checks that such an update
    # gives what a copy on 18 gives; 17.3 keeps its run there, a 0.1.x project updated.
    "regression-18-classic-from-17.3": {
        "problem_type": "regression",
        "runtime": "18",
        "compute": "classic",
    },
    "classification-16.4-serverless": {
        "problem_type": "classification",
        "runtime": "16.4",
        "compute": "serverless",
        "include_serving_endpoint": False,
        "schema": "churn",
        "dev_catalog": "ml_dev",
        "model_name": "churn_classifier",
    },
}
# Sets generated on another runtime first, then updated to theirs: {set: runtime generated on}.
UPDATED_FROM = {"regression-18-classic-from-17.3": "17.3"}
# Rows of the bundled sample the local pipeline scores: diabetes, breast cancer.
SAMPLE_ROWS = {"regression": 442, "classification": 569}
PRIMARY_METRIC = {"regression": "rmse", "classification": "roc_auc"}


def _summary(output: str) -> dict[str, str]:
    """The fields of the local pipeline's closing summary."""
    lines = output[output.index("Local pipeline summary") :].splitlines()[1:]
    fields = itertools.takewhile(lambda line: line.startswith("  "), lines)
    return {line.split()[0]: line.split(maxsplit=1)[1] for line in fields}


# What third parties print on a local run that is no news for it: MLflow creating its store
# (and alembic's migrations), MLflow's advice for environments without pip or about conda, and
# Spark's start-up lines about its log settings and Hadoop's native libraries.
THIRD_PARTY_NOISE = [
    "Creating initial MLflow database tables",
    "alembic",
    "Failed to resolve installed pip version",
    "env_manager=",
    "log4j profile",
    "Setting default log level",
    "NativeCodeLoader",
    # Not noise but a defect: a run that succeeds prints no traceback, even at exit.
    "Traceback (most recent call last)",
]
# What local runs may add to a project's folder: the local store, and uv's lock file (committed).
LOCAL_RUN_OUTPUTS = {".local", "uv.lock"}
# The top-level entries of each project as rendered.
RENDERED: dict[Path, set[str]] = {}


@pytest.fixture(scope="module", params=list(ANSWER_SETS))
def installed(request, copier_template: Path, tmp_path_factory) -> tuple[dict, Path, Path]:
    """(answers, rendered project, its environment), installed as `make install` does."""
    answers = ANSWER_SETS[request.param]
    project = tmp_path_factory.mktemp(request.param, numbered=False)
    if request.param in UPDATED_FROM:
        generate_then_update(tmp_path_factory, project, answers, UPDATED_FROM[request.param])
    else:
        render_project(copier_template, project, answers)
    RENDERED[project] = {entry.name for entry in project.iterdir()}
    return answers, project, install(project)


def generate_then_update(tmp_path_factory, project: Path, answers: dict, runtime: str) -> None:
    """`project` generated with `answers` on `runtime`, committed, then updated to the answers'
    runtime with `copier update -d runtime=...` (from a tagged template repo, as users update)."""
    template = build_template_repo(tmp_path_factory.mktemp("template"), release_versions=[])
    version = head_version()
    copier.run_copy(
        str(template), project, vcs_ref=version, data={**answers, "runtime": runtime},
        defaults=True, unsafe=False, quiet=True,
    )  # fmt: skip
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", f"Generated on {runtime}")
    copier.run_update(
        project, vcs_ref=version, data={"runtime": answers["runtime"]}, defaults=True,
        overwrite=True, unsafe=False, quiet=True,
    )  # fmt: skip
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert recorded["runtime"] == answers["runtime"], recorded


def assert_written_only_to_the_local_store(project: Path, tmp_path: Path) -> None:
    """Local runs add nothing to the project's folder but the local store (and the lock file),
    empty folders included, and the project's .gitignore covers what they add."""
    added = {entry.name for entry in project.iterdir()} - RENDERED[project]
    assert added <= LOCAL_RUN_OUTPUTS, sorted(added - LOCAL_RUN_OUTPUTS)
    # git needs a repository to apply .gitignore: one holding only that file.
    repo = tmp_path / "gitignore-check"
    repo.mkdir()
    shutil.copy(project / ".gitignore", repo / ".gitignore")
    subprocess.run(["git", "init", "--quiet"], cwd=repo, check=True)
    for name in sorted(added - {"uv.lock"}):
        checked = subprocess.run(
            ["git", "check-ignore", "--no-index", "--quiet", f"{name}/"], cwd=repo, check=False
        )
        assert checked.returncode == 0, f"{name}/ is not in the project's .gitignore"


def test_generated_project_tests_pass(installed, tmp_path):
    answers, project, _ = installed
    output = uv_run(project, "pytest", "-q", "-p", "no:cacheprovider")
    assert_written_only_to_the_local_store(project, tmp_path)

    passed = int(re.search(r"(\d+) passed", output).group(1))
    assert passed >= 20, output[-3000:]
    assert not re.search(r"\d+ (failed|error)", output), output[-3000:]
    serving_tests = (project / "tests" / "test_serving_endpoint.py").exists()
    assert serving_tests == answers.get("include_serving_endpoint", True)


def test_local_spark_loads_its_classes_from_the_archive(installed, tmp_path):
    """`make install`'s class archive is really mapped: Spark's classes come from it, not the jars
    (so a local session starts seconds sooner; see docs/benchmarks.md)."""
    _, project, venv = installed
    start = f"from {package_of(project)}.spark import get_spark; get_spark().range(3).count()"
    env = {
        **clean_env(project),
        "MLOPS_LOCAL_DIR": str(tmp_path / "local"),
        # Every JVM reads this; %p keeps the launcher's and the driver's logs apart.
        "JAVA_TOOL_OPTIONS": f"-Xlog:class+load=info:file={tmp_path}/classes-%p.log",
    }
    subprocess.run(
        [str(venv / "bin" / "python"), "-c", start], cwd=project, env=env, check=True,
        capture_output=True, timeout=600,
    )  # fmt: skip
    logs = "".join(path.read_text() for path in tmp_path.glob("classes-*.log"))
    spark_classes = re.findall(r"org\.apache\.spark\.SparkContext source: (.+)", logs)
    assert spark_classes == ["shared objects file (top)"], spark_classes or logs[-3000:]


def test_local_pipeline_runs_the_whole_loop(installed, tmp_path):
    """Train twice on unchanged data: one promotion, no failure. Score the same records twice:
    appended once. New records: only they are added. Their labels reach the predictions. All of
    it in the local store."""
    answers, project, _ = installed
    rows = SAMPLE_ROWS[answers["problem_type"]]
    metric = PRIMARY_METRIC[answers["problem_type"]]
    package = package_of(project)
    pipeline = ["python", "-m", f"{package}.local.pipeline"]
    shutil.rmtree(project / ".local", ignore_errors=True)
    table = f"{answers.get('dev_catalog', 'dev_catalog')}.{answers.get('schema', 'ml_data')}"

    output = uv_run(project, *pipeline)
    noise = [line for line in output.splitlines() if any(n in line for n in THIRD_PARTY_NOISE)]
    assert not noise, noise
    first = _summary(output)
    assert first["features"].endswith(f": {rows} rows")
    assert first["gate"] == "version 1 promoted to champion"
    assert first["champion"].startswith(f"version 1: {metric} ")
    assert first["predictions"] == f"{table}.predictions: {rows} rows, {rows} added by version 1"
    assert first["labels"] == f"{rows} of {rows} predictions labelled, {rows} newly"

    # --strict exits with 1 when a threshold fails; a tie is not one.
    second = _summary(uv_run(project, *pipeline, "--strict"))
    assert " version 2: " in second["challenger"]
    # Unchanged data, fixed seed: a tie, which keeps the champion and is no failure.
    assert second["gate"] == "kept version 1 (not better than the champion)"
    assert second["champion"] == first["champion"]
    # The same records: none scored twice, no label merged twice.
    assert second["predictions"] == f"{table}.predictions: {rows} rows, 0 added by version 1"
    assert second["labels"] == f"{rows} of {rows} predictions labelled, 0 newly"

    # A second batch of records arrives, with its labels: only its rows are added.
    uv_run(project, "python", "-m", f"{package}.local.sample_data", "--batch", "2")
    third = _summary(uv_run(project, *pipeline))
    assert (
        third["predictions"] == f"{table}.predictions: {2 * rows} rows, {rows} added by version 1"
    )
    assert third["labels"] == f"{2 * rows} of {2 * rows} predictions labelled, {rows} newly"
    assert_written_only_to_the_local_store(project, tmp_path)


def test_wheel_holds_the_package_and_the_jobs_entry_points(installed, tmp_path):
    """What `databricks bundle deploy` builds (artifacts: uv build --wheel) is what the jobs need:
    the package without its laptop-only code, and every entry point a task names."""
    _, project, _ = installed
    package = package_of(project)
    run([UV, "build", "--wheel", "--out-dir", tmp_path], project)
    (wheel,) = tmp_path.glob(f"{package}-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = configparser.ConfigParser()
        (metadata,) = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
        entry_points.read_string(archive.read(metadata).decode())
    code = [name for name in names if ".dist-info/" not in name]
    assert code and all(name.startswith(f"{package}/") for name in code), code
    assert not [name for name in code if name.startswith(f"{package}/local/")]
    assert f"{package}/training/train.py" in code
    jobs = yaml.safe_load((project / "resources" / "jobs.yml").read_text())["resources"]["jobs"]
    wanted = {
        task["python_wheel_task"]["entry_point"]
        for job in jobs.values()
        for task in job["tasks"]
        if "python_wheel_task" in task
    }
    assert wanted and wanted <= set(entry_points["console_scripts"]), entry_points.items(
        "console_scripts"
    )
