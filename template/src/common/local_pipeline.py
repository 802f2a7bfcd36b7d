"""Run the whole pipeline locally: features -> train -> evaluate/promote -> batch inference.

    python -m common.local_pipeline            # or: make pipeline

The same step code the jobs run on Databricks, on local PySpark with a SQLite MLflow store, in
one Spark session. If the volume folder has no training files yet, the bundled sample is written
there first. A challenger that fails the gate is reported and the champion keeps serving: the
batch inference still runs, as the separate inference job would. Run it twice: the second model
is promoted only if it is better, and the predictions table grows.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pyspark.sql import functions as F

from common import config, naming
from common.spark import get_spark, read_table

# Below this much training data, the JVM compiles with C1 only: it starts faster, and C2 would not
# pay back its compile time (measured by benchmarks/ in the template: 100k rows, ~20 MB of CSV, run
# ~7 s faster with C1 only; 1M rows, ~200 MB, ~8 s slower).
QUICK_START_MAX_BYTES = 100 * 2**20


def main(argv: Sequence[str] | None = None) -> int:
    defaults = config.LOCAL_DEFAULTS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("catalog", "schema", "model_name", "experiment_name"):
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, default=defaults[name])
    parser.add_argument(
        "--strict", action="store_true", help="exit with 1 when the gate rejects the challenger"
    )
    args = parser.parse_args(argv)
    if config.on_databricks():
        parser.error("this runs the pipeline locally; on Databricks run the bundle's jobs")

    env = config.current()
    input_path = naming.training_data_path(args.catalog, args.schema)
    local_input = Path(env.path(input_path))
    input_files = list(local_input.glob("*.csv"))
    input_bytes = sum(path.stat().st_size for path in input_files)
    # Starting the JVM takes seconds, and so do importing MLflow and scikit-learn and creating the
    # MLflow store: Spark starts in the background while this thread does the rest.
    with ThreadPoolExecutor(max_workers=1) as background:
        starting = background.submit(get_spark, quick_start=input_bytes < QUICK_START_MAX_BYTES)

        from common import problem
        from common.errors import PromotionRejected
        from common.sample_data import write_sample
        from common.tracking import alias_version, setup_mlflow
        from feature_engineering import features
        from inference import batch_inference
        from training import evaluate, train

        if not input_files:
            print(f"Sample training data written to {write_sample(local_input)}")
        setup_mlflow(args.experiment_name)
        spark = starting.result()

    rows = features.run(spark, args.catalog, args.schema, input_path)
    trained = train.run(spark, args.catalog, args.schema, args.model_name, args.experiment_name)
    try:
        evaluate.run(spark, args.catalog, args.schema, args.model_name, args.experiment_name)
        gate = f"version {trained.version} promoted to {naming.CHAMPION}"
    except PromotionRejected as rejection:
        gate = f"REJECTED: {rejection}"
    scored = batch_inference.run(spark, args.catalog, args.schema, args.model_name)

    client = setup_mlflow()
    champion = alias_version(client, trained.model_name, naming.CHAMPION)
    assert champion is not None
    run_id = client.get_model_version(trained.model_name, champion).run_id
    metric = problem.PRIMARY_METRIC
    champion_metric = client.get_run(run_id).data.metrics[f"test_{metric}"]
    total, batches = (
        read_table(spark, scored.table)
        .agg(F.count(F.lit(1)), F.count_distinct(naming.TIMESTAMP_COLUMN))
        .first()
    )

    print(
        "\n".join(
            [
                "",
                "Local pipeline summary",
                f"  features     {naming.feature_table(args.catalog, args.schema)}: {rows} rows",
                f"  challenger   {trained.model_name} version {trained.version}: "
                f"{metric} {trained.metrics[metric]:.4f}",
                f"  gate         {gate}",
                f"  champion     version {champion}: {metric} {champion_metric:.4f}",
                f"  predictions  {scored.table}: {total} rows ({batches} batches), "
                f"{scored.rows} added by version {scored.version}",
                f"  local store  {env.local_dir} (MLflow UI: mlflow ui --backend-store-uri "
                f"{env.tracking_uri})",
            ]
        )
    )
    return 1 if args.strict and gate.startswith("REJECTED") else 0


if __name__ == "__main__":
    raise SystemExit(main())
