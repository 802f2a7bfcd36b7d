"""Run the whole loop locally: the bundle's training job, then its inference job.

    uv run python -m ml_project.local.pipeline      # or: make pipeline

Both jobs run as resources/ declares them for the dev target (the local.jobs runner: tasks,
order, parameters), on local PySpark with a SQLite MLflow store, in one Spark session. If the
input volume has no files yet, the bundled sample is written there first: training data, a batch
of records to score, and their labels. The gate's decision is reported: a challenger that is not
better than the champion (a tie included) is kept out, as on Databricks, where that is no
failure; one that misses a threshold is REJECTED (the evaluate task fails, the rest of the
training job is skipped, and the inference job still runs, as it would; `--strict` exits with 1
when a task failed).

Run it twice: the second model is promoted only if it is better, and no record is scored twice.
New records (`make sample BATCH=2`: the local.sample_data module) are scored by the next run,
and their labels merged.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pyspark.sql import functions as F

from ml_project import config
from ml_project.local import jobs
from ml_project.spark import get_spark, read_table, table_exists

TRAINING_JOB, INFERENCE_JOB = "training_pipeline", "batch_inference"
# Below this much training data, the JVM compiles with C1 only: it starts faster, and C2 would not
# pay back its compile time (measured on a 2-core laptop: 100k rows, ~20 MB of CSV, ran ~7 s faster
# with C1 only; 1M rows, ~200 MB, ~8 s slower).
QUICK_START_MAX_BYTES = 100 * 2**20


def parameters(tasks: list[jobs.Task], key: str) -> dict[str, str]:
    """The named parameters a task of the job gets, as name -> value."""
    (task,) = [task for task in tasks if task.key == key]
    return task.parameters


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--strict", action="store_true", help="exit with 1 when a task fails (the job would)"
    )
    args = parser.parse_args(argv)
    if config.on_databricks():
        parser.error("this runs the pipeline locally; on Databricks run the bundle's jobs")
    env = config.current()
    bundle = jobs.load_bundle(jobs.project_root(), jobs.DEFAULT_TARGET)
    training, training_params = jobs.checked(bundle, TRAINING_JOB)
    inference, inference_params = jobs.checked(bundle, INFERENCE_JOB)
    step = parameters(training, "train")
    input_path = parameters(training, "feature_engineering")["input_path"]
    records_path = parameters(inference, "batch_inference")["input"]
    labels_path = parameters(inference, "merge_ground_truth")["labels"]

    local_input = Path(env.path(input_path))
    input_files = list(local_input.rglob("*.csv"))
    input_bytes = sum(path.stat().st_size for path in input_files)
    # Starting the JVM takes seconds, and so do importing MLflow and scikit-learn and creating the
    # MLflow store: Spark starts in the background while this thread does the rest.
    with ThreadPoolExecutor(max_workers=1) as background:
        starting = background.submit(get_spark, quick_start=input_bytes < QUICK_START_MAX_BYTES)

        from ml_project import naming, problem
        from ml_project.local.sample_data import write_batch, write_sample
        from ml_project.tracking import alias_version, setup_mlflow

        if not input_files:
            print(f"Sample training data written to {write_sample(local_input)}")
        local_records = Path(env.path(records_path))
        if not local_records.exists():
            records, labels = write_batch(local_records, env.path(labels_path))
            print(f"Sample records to score written to {records}, their labels to {labels}")
        client = setup_mlflow(step["experiment_name"])
        spark = starting.result()

    model = naming.model_name(step["catalog"], step["schema"], step["model_name"])
    predictions = naming.predictions_table(step["catalog"], step["schema"])

    def predictions_counts() -> tuple[int, int]:
        if not table_exists(spark, predictions):
            return 0, 0
        row = (
            read_table(spark, predictions)
            .agg(F.count(F.lit(1)), F.count(problem.LABEL_COLUMN))
            .first()
        )
        assert row is not None
        return int(row[0]), int(row[1])

    champion_before = alias_version(client, model, naming.CHAMPION)
    rows_before, labelled_before = predictions_counts()
    results = jobs.run_job(TRAINING_JOB, training, training_params)
    print(jobs.summary(TRAINING_JOB, jobs.DEFAULT_TARGET, results))
    inference_results = jobs.run_job(INFERENCE_JOB, inference, inference_params)
    print(jobs.summary(INFERENCE_JOB, jobs.DEFAULT_TARGET, inference_results))

    features_table = naming.feature_table(step["catalog"], step["schema"])
    feature_rows = read_table(spark, features_table).count()
    challenger = alias_version(client, model, naming.CHALLENGER)
    champion = alias_version(client, model, naming.CHAMPION)
    metric = problem.PRIMARY_METRIC

    def metric_of(version: str) -> float:
        run_id = client.get_model_version(model, version).run_id
        return client.get_run(run_id).data.metrics[f"test_{metric}"]

    evaluation = {result.key: result for result in results}["evaluate"]
    status = challenger and client.get_model_version(model, challenger).tags.get(
        "validation_status"
    )
    if evaluation.state != jobs.SUCCESS:
        gate = f"REJECTED: {evaluation.message or evaluation.state}"
    elif status == "not_better":
        gate = f"kept version {champion} (not better than the champion)"
    elif champion != champion_before:
        gate = f"version {champion} promoted to {naming.CHAMPION}"
    else:
        gate = f"version {champion} already is the {naming.CHAMPION}"
    rows, labelled = predictions_counts()
    champion_line = (
        f"version {champion}: {metric} {metric_of(champion):.4f}" if champion else "none"
    )
    challenger_line = (
        f"{model} version {challenger}: {metric} {metric_of(challenger):.4f}"
        if challenger
        else "none"
    )

    print(
        "\n".join(
            [
                "",
                "Local pipeline summary",
                f"  features     {features_table}: {feature_rows} rows",
                f"  challenger   {challenger_line}",
                f"  gate         {gate}",
                f"  champion     {champion_line}",
                f"  predictions  {predictions}: {rows} rows, {rows - rows_before} added by version "
                f"{champion}",
                f"  labels       {labelled} of {rows} predictions labelled, "
                f"{labelled - labelled_before} newly",
                f"  local store  {env.local_dir} (MLflow UI: uv run mlflow ui --backend-store-uri "
                f"{env.tracking_uri})",
            ]
        )
    )
    failed = [r for r in [*results, *inference_results] if r.state == jobs.FAILED]
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
