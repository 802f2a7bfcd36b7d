"""The local job runner follows the bundle: what resources/ declares is what runs, and a job that
could not run on Databricks stops before any task runs, saying why."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from churn_forecast_europe_weekly_mdl import naming, problem
from churn_forecast_europe_weekly_mdl.local import jobs
from churn_forecast_europe_weekly_mdl.local.sample_data import write_batch
from churn_forecast_europe_weekly_mdl.spark import read_table

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture
def bundle(tmp_path: Path):
    """A copy of this project's bundle files, and a function that edits its jobs.yml."""
    shutil.copy(PROJECT / "databricks.yml", tmp_path)
    shutil.copytree(PROJECT / "resources", tmp_path / "resources")

    def edit(change) -> Path:
        path = tmp_path / "resources" / "jobs.yml"
        tree = yaml.safe_load(path.read_text())
        change(tree["resources"]["jobs"])
        path.write_text(yaml.safe_dump(tree, sort_keys=False))
        return tmp_path

    return tmp_path, edit


def task(job: dict, key: str) -> dict:
    (found,) = [t for t in job["tasks"] if t["task_key"] == key]
    return found


def stopped(root: Path, job: str = "training_pipeline") -> str:
    with pytest.raises(jobs.JobDefinitionError) as error:
        jobs.prepare(job, root=root)
    return str(error.value)


def test_the_jobs_run_as_declared(spark, sample, local_env):
    """The training job, then the inference job, from resources/ as they are: the Spark and
    scikit-learn tasks run, the workspace tasks are skipped, saying why."""
    training, training_params = jobs.prepare("training_pipeline", root=PROJECT)
    given = {t.key: t.parameters for t in training}
    inputs = Path(local_env.path(given["feature_engineering"]["input_path"]))
    inputs.mkdir(parents=True, exist_ok=True)
    sample.to_csv(inputs / "sample.csv", index=False)

    inference, inference_params = jobs.prepare("batch_inference", root=PROJECT)
    scoring = {t.key: t.parameters for t in inference}
    write_batch(
        local_env.path(scoring["batch_inference"]["input"]),
        local_env.path(scoring["merge_ground_truth"]["labels"]),
    )

    results = {r.key: r for r in jobs.run_job("training_pipeline", training, training_params)}
    scored = {r.key: r for r in jobs.run_job("batch_inference", inference, inference_params)}
    predictions = naming.predictions_table(given["train"]["catalog"], given["train"]["schema"])
    table = read_table(spark, predictions)
    assert table.count() == table.where(f"{problem.LABEL_COLUMN} IS NOT NULL").count() > 0

    ran = ["feature_engineering", "train", "evaluate", "batch_inference", "merge_ground_truth"]
    for key in ran:
        assert {**results, **scored}[key].state == jobs.SUCCESS, key
    for result in [*results.values(), *scored.values()]:
        if result.state == jobs.SKIPPED:
            assert result.message.startswith("needs a workspace"), result
    # The order is the bundle's: every task after the tasks it depends on.
    assert list(results) == [t.key for t in training]


def test_a_renamed_parameter_stops_the_job_before_any_task_runs(bundle):
    _, edit = bundle

    def rename(jobs_: dict) -> None:
        named = task(jobs_["training_pipeline"], "feature_engineering")["python_wheel_task"]
        named["named_parameters"]["input_folder"] = named["named_parameters"].pop("input_path")

    message = stopped(edit(rename))
    assert "Job training_pipeline, task feature_engineering" in message
    assert "--input_folder" in message and "Fix its named_parameters" in message


def test_a_missing_parameter_stops_the_job(bundle):
    _, edit = bundle

    def drop(jobs_: dict) -> None:
        del task(jobs_["training_pipeline"], "train")["python_wheel_task"]["named_parameters"][
            "schema"
        ]

    message = stopped(edit(drop))
    assert "Job training_pipeline, task train: Missing parameter(s): schema" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda j: task(j["training_pipeline"], "train")["python_wheel_task"].update(
                entry_point="trian"
            ),
            "entry point 'trian' is not one of this project's",
        ),
        (
            lambda j: task(j["training_pipeline"], "feature_engineering").update(
                depends_on=[{"task_key": "evaluate"}]
            ),
            "depends_on has a cycle",
        ),
        (
            lambda j: task(j["training_pipeline"], "train").update(
                depends_on=[{"task_key": "features"}]
            ),
            "depends_on names no task of the job: features",
        ),
        (
            lambda j: task(j["training_pipeline"], "train")["python_wheel_task"][
                "named_parameters"
            ].update(schema="${var.no_such_variable}"),
            "${var.no_such_variable}: no variable of that name",
        ),
    ],
    ids=["unknown entry point", "cycle", "unknown dependency", "unresolved reference"],
)
def test_a_job_that_cannot_run_stops_naming_the_fix(bundle, change, expected):
    _, edit = bundle
    assert expected in stopped(edit(change))


def test_an_unknown_job_is_named():
    assert "No job 'nightly'" in stopped(PROJECT, "nightly")


# What runs, and in which state, with the steps replaced by recorders (no Spark needed).


@pytest.fixture
def recorder(monkeypatch):
    """Entry points that record their calls; `fail` names the ones that raise."""
    calls: list[str] = []
    failing: set[str] = set()

    def fake(name: str):
        def run(argv: list[str]) -> None:
            calls.append(name)
            if name in failing:
                raise RuntimeError(f"{name} broke")

        return run

    monkeypatch.setattr(jobs, "entry_point", fake)
    return calls, failing


def states(root: Path, job: str = "training_pipeline") -> dict[str, str]:
    tree = jobs.load_bundle(root, "dev")
    tasks, job_params = jobs.job_tasks(tree, job)
    return {r.key: r.state for r in jobs.run_job(job, tasks, job_params)}


def test_a_failed_task_skips_its_dependants_unless_the_dependency_is_dropped(bundle, recorder):
    root, edit = bundle
    calls, failing = recorder
    failing.add("feature_engineering")

    assert states(root)["train"] == jobs.SKIPPED  # train depends on feature_engineering
    assert "train" not in calls

    calls.clear()
    edit(lambda j: task(j["training_pipeline"], "train").pop("depends_on"))
    result = states(root)
    assert result["feature_engineering"] == jobs.FAILED
    assert result["train"] == jobs.SUCCESS and "train" in calls


def test_run_if_all_done_runs_after_a_failure(bundle, recorder):
    root, edit = bundle
    _, failing = recorder
    failing.add("train")
    edit(lambda j: task(j["training_pipeline"], "evaluate").update(run_if="ALL_DONE"))
    result = states(root)
    assert (result["train"], result["evaluate"]) == (jobs.FAILED, jobs.SUCCESS)


@pytest.mark.parametrize(("value", "runs"), [("yes", True), ("no", False)])
def test_a_condition_task_decides_with_the_job_parameters(bundle, recorder, value, runs):
    """A condition in jobs.yml, as Databricks evaluates it: its outcome gates the task after it."""
    root, edit = bundle
    calls, _ = recorder

    def add_condition(jobs_: dict) -> None:
        job = jobs_["training_pipeline"]
        job["parameters"] = [{"name": "retrain", "default": value}]
        job["tasks"].insert(
            0,
            {
                "task_key": "should_retrain",
                "condition_task": {
                    "op": "EQUAL_TO",
                    "left": "{{job.parameters.retrain}}",
                    "right": "yes",
                },
            },
        )
        task(job, "feature_engineering")["depends_on"] = [
            {"task_key": "should_retrain", "outcome": "true"}
        ]

    edit(add_condition)
    result = states(root)
    assert result["should_retrain"] == jobs.SUCCESS
    assert (result["feature_engineering"] == jobs.SUCCESS) is runs
    if not runs:
        assert result["feature_engineering"] == jobs.EXCLUDED
        assert result["train"] == jobs.EXCLUDED and calls == []
