"""A generated project works: its own test suite and its local pipeline, for contrasting answers.

Each answer set is rendered, installed into a venv holding its runtime profile's pins (PySpark,
MLflow, pandas, numpy, scikit-learn, pyarrow and the dev tools), and then:
- the project's own pytest suite must pass;
- its local pipeline runs twice: the first run promotes version 1 to champion; the second trains
  an identical version 2, which the gate rejects (not better), while batch inference appends a
  second batch of predictions.

Venvs are cached in build/venvs/<runtime>-<hash of the pinned requirements>: only the first run of
a profile installs (PySpark is an sdist; a warm pip cache makes later cold installs fast).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import copier
import pytest
from answer_sets import REPO_ROOT

pytestmark = pytest.mark.slow

ANSWER_SETS = {
    "regression-17.3-classic": {
        "problem_type": "regression",
        "runtime": "17.3",
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
# Rows of the bundled sample the local pipeline scores: diabetes, breast cancer.
SAMPLE_ROWS = {"regression": 442, "classification": 569}
PRIMARY_METRIC = {"regression": "rmse", "classification": "roc_auc"}

VENVS = REPO_ROOT / "build" / "venvs"
INSTALL_TIMEOUT = 1800
RUN_TIMEOUT = 600


def _clean_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"} and not key.startswith("MLOPS_")
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(args: list[str], cwd: Path, timeout: int = RUN_TIMEOUT) -> str:
    result = subprocess.run(
        args,
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, (
        f"{' '.join(args)} failed ({result.returncode}):\n{output[-6000:]}"
    )
    return output


def _pinned_requirements(project: Path) -> list[str]:
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    return [*metadata["dependencies"], *metadata["optional-dependencies"]["dev"], "setuptools>=69"]


def _venv_for(project: Path, runtime: str) -> Path:
    """A venv with the project's pinned requirements, built once per set of pins."""
    requirements = _pinned_requirements(project)
    key = hashlib.sha256("\n".join([sys.version, *sorted(requirements)]).encode()).hexdigest()[:12]
    venv = VENVS / f"{runtime}-{key}"
    if not (venv / ".complete").exists():
        # Built in place (a venv's scripts name its path); the marker, written last, says the
        # install finished, so an interrupted one is rebuilt rather than used.
        shutil.rmtree(venv, ignore_errors=True)
        VENVS.mkdir(parents=True, exist_ok=True)
        _run([sys.executable, "-m", "venv", str(venv)], cwd=VENVS)
        _run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *requirements],
            cwd=VENVS,
            timeout=INSTALL_TIMEOUT,
        )
        (venv / ".complete").write_text("\n".join(requirements) + "\n")
    return venv


def _write_class_archive(venv: Path, project: Path) -> None:
    """The Spark class archive `make install` writes (into the venv, its sys.prefix), once per
    cached venv."""
    if not (venv / "spark-classes.jsa").is_file():
        _run([str(venv / "bin" / "python"), "-m", "common.class_archive"], cwd=project)


def _summary(output: str) -> dict[str, str]:
    """The fields of the local pipeline's closing summary."""
    lines = output[output.index("Local pipeline summary") :].splitlines()[1:]
    return {line.split()[0]: line.split(maxsplit=1)[1] for line in lines if line.startswith("  ")}


@pytest.fixture(scope="module", params=list(ANSWER_SETS))
def installed(request, copier_template: Path, tmp_path_factory) -> tuple[dict, Path, Path]:
    """(answers, rendered project, its venv with the project installed in editable mode)."""
    answers = ANSWER_SETS[request.param]
    project = tmp_path_factory.mktemp(request.param, numbered=False)
    copier.run_copy(
        str(copier_template), project, data=answers, defaults=True, unsafe=False, quiet=True
    )
    venv = _venv_for(project, answers["runtime"])
    python = str(venv / "bin" / "python")
    _run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", "."],
        cwd=project,
    )
    _write_class_archive(venv, project)
    return answers, project, venv


def test_generated_project_tests_pass(installed):
    answers, project, venv = installed
    python = str(venv / "bin" / "python")
    output = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)

    passed = int(re.search(r"(\d+) passed", output).group(1))
    assert passed >= 20, output[-3000:]
    assert not re.search(r"\d+ (failed|error)", output), output[-3000:]
    serving_tests = (project / "tests" / "test_serving_endpoint.py").exists()
    assert serving_tests == answers.get("include_serving_endpoint", True)


def test_local_spark_loads_its_classes_from_the_archive(installed, tmp_path):
    """`make install`'s class archive is really mapped: Spark's classes come from it, not the jars
    (so a local session starts seconds sooner; see docs/benchmarks.md)."""
    _, project, venv = installed
    start = "from common.spark import get_spark; get_spark().range(3).count()"
    env = {
        **_clean_env(),
        "MLOPS_LOCAL_DIR": str(tmp_path / "local"),
        # Every JVM reads this; %p keeps the launcher's and the driver's logs apart.
        "JAVA_TOOL_OPTIONS": f"-Xlog:class+load=info:file={tmp_path}/classes-%p.log",
    }
    subprocess.run(
        [str(venv / "bin" / "python"), "-c", start], cwd=project, env=env, check=True,
        capture_output=True, timeout=RUN_TIMEOUT,
    )  # fmt: skip
    logs = "".join(path.read_text() for path in tmp_path.glob("classes-*.log"))
    spark_classes = re.findall(r"org\.apache\.spark\.SparkContext source: (.+)", logs)
    assert spark_classes == ["shared objects file (top)"], spark_classes or logs[-3000:]


def test_local_pipeline_promotes_then_gates_and_appends(installed):
    answers, project, venv = installed
    rows = SAMPLE_ROWS[answers["problem_type"]]
    metric = PRIMARY_METRIC[answers["problem_type"]]
    pipeline = [str(venv / "bin" / "python"), "-m", "common.local_pipeline"]
    shutil.rmtree(project / ".local", ignore_errors=True)

    first = _summary(_run(pipeline, cwd=project))
    assert first["features"].endswith(f": {rows} rows")
    assert first["gate"] == "version 1 promoted to champion"
    assert first["champion"].startswith(f"version 1: {metric} ")
    assert first["predictions"].startswith(
        f"{answers.get('dev_catalog', 'dev_catalog')}.{answers.get('schema', 'ml_data')}"
        f".predictions: {rows} rows (1 batches)"
    )

    second = _summary(_run(pipeline, cwd=project))
    assert " version 2: " in second["challenger"]
    assert second["gate"].startswith("REJECTED: Challenger version 2 ")
    assert "does not beat the champion (version 1)" in second["gate"]
    assert second["champion"] == first["champion"]
    assert f": {2 * rows} rows (2 batches), {rows} added by version 1" in second["predictions"]
