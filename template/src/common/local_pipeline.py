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
from pathlib import Path

from common import config, naming, problem
from common.errors import PromotionRejected
from common.sample_data import training_data_path, write_sample
from common.spark import get_spark, read_table
from common.tracking import alias_version, setup_mlflow
from feature_engineering import features
from inference import batch_inference
from training import evaluate, train


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
    input_path = training_data_path(args.catalog, args.schema)
    local_input = Path(env.path(input_path))
    if not any(local_input.glob("*.csv")):
        print(f"Sample training data written to {write_sample(local_input)}")

    spark = get_spark()
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
    total = read_table(spark, scored.table).count()
    batches = read_table(spark, scored.table).select("scored_at").distinct().count()

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
