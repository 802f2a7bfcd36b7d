"""Batch inference.

Scores the **new records** of the inference input with the `champion` version of the model and
appends them to `<catalog>.<schema>.predictions` (its columns: the scoring module): the record
id, the feature values, the model's output, the `model_version` that made it, a `scored_at`
timestamp, and the label column, empty until the record's label arrives (the ground-truth step
merges it). This is the table the quality monitor watches.

The input is a folder of the input volume (every CSV file under it, with a header row: column
`record_id` and the feature columns) or a Unity Catalog table with those columns: `input` in
resources/jobs.yml. A record whose id is already in the predictions table is not scored again,
so a run over the same input adds nothing, and a new file adds only its records. No input yet
is no error: there is nothing to score.

Entry point `batch_inference` (the task of that name in resources/jobs.yml; locally
`uv run batch_inference --help`). Parameters: `catalog`, `schema`, `model_name` (bare), `input`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mlflow
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from churn_forecast_europe_weekly_mdl import naming, problem
from churn_forecast_europe_weekly_mdl.data import (
    missing_record_id,
    read_source,
    record_id,
    require_columns,
    typed_features,
)
from churn_forecast_europe_weekly_mdl.errors import (
    ChampionFeaturesError,
    InputDataError,
    NoChampionError,
)
from churn_forecast_europe_weekly_mdl.params import get_params
from churn_forecast_europe_weekly_mdl.scoring import check_predictions_table, score
from churn_forecast_europe_weekly_mdl.spark import (
    cached_locally,
    enable_change_data_feed,
    get_spark,
    read_table,
    table_exists,
    write_table,
)
from churn_forecast_europe_weekly_mdl.tracking import (
    alias_version,
    model_features,
    model_uri,
    setup_mlflow,
)

INPUT_COLUMNS = [naming.RECORD_ID, *problem.FEATURE_COLUMNS]


@dataclass(frozen=True)
class ScoringResult:
    model_name: str
    version: str
    rows: int  # records appended by this run
    skipped: int  # records of the input already scored by an earlier run
    table: str


def read_input(spark: SparkSession, source: str) -> DataFrame | None:
    """The records to score, typed: from a `/Volumes/...` folder of CSV files, or a
    Unity Catalog table `catalog.schema.table`. None when the folder holds no file yet."""
    raw = read_source(spark, source, "inference files")
    if raw is None:
        return None
    require_columns(raw, INPUT_COLUMNS, f"inference input {source}")
    return raw.select(record_id(), *typed_features())


def load_champion(model_name: str) -> tuple[str, Any]:
    """The champion's version, resolved once (so that model_version names exactly the version
    that scored even if a promotion lands meanwhile), and its model."""
    version = alias_version(setup_mlflow(), model_name, naming.CHAMPION)
    if version is None:
        raise NoChampionError(
            f"{model_name} has no '{naming.CHAMPION}' version yet: run the training pipeline until "
            "a model passes evaluation, then run batch inference again."
        )
    model = mlflow.sklearn.load_model(model_uri(model_name, version))
    expected = model_features(model)
    if expected is not None and expected != problem.FEATURE_COLUMNS:
        raise ChampionFeaturesError(
            f"{model_name} version {version} (the {naming.CHAMPION}) takes the features "
            f"{expected}, not this code's FEATURE_COLUMNS {problem.FEATURE_COLUMNS}. Run the "
            "training pipeline: a model trained on the new feature columns becomes the "
            "champion, and batch inference then scores with it."
        )
    return version, model


def run(
    spark: SparkSession, catalog: str, schema: str, model_name: str, input: str
) -> ScoringResult:
    full_name = naming.model_name(catalog, schema, model_name)
    table = naming.predictions_table(catalog, schema)
    version, model = load_champion(full_name)
    records = read_input(spark, input)
    if records is None:
        print(f"No inference files in {input} yet: nothing to score.")
        return ScoringResult(full_name, version, 0, 0, table)
    exists = table_exists(spark, table)
    with cached_locally(records) as records:
        counts = records.agg(
            F.count(F.lit(1)).alias("listed"),
            F.count_distinct(naming.RECORD_ID).alias("distinct"),
            F.count_if(missing_record_id()).alias("without_id"),
        ).first()
        assert counts is not None
        if counts["without_id"]:
            raise InputDataError(
                f"{counts['without_id']} record(s) in {input} have no {naming.RECORD_ID}. Every "
                "record needs a unique id (its label is matched to it later); nothing was scored."
            )
        listed, distinct = int(counts["listed"]), int(counts["distinct"])
        # A record listed twice is scored once.
        new = records.dropDuplicates([naming.RECORD_ID])
        if exists:
            scored = read_table(spark, table)
            check_predictions_table(scored, table)
            new = new.join(scored.select(naming.RECORD_ID), naming.RECORD_ID, "left_anti")
        with cached_locally(new) as new:
            rows = new.count()
            skipped = distinct - rows
            if rows:
                # Columns follow the feature set: a new feature column is added to the table.
                write_table(score(new, model, version), table, "append", replace_schema=True)
    if rows:
        # The quality monitor then refreshes from the changes alone.
        enable_change_data_feed(spark, table)
    print(
        f"Appended {rows} predictions of {full_name} version {version} to {table}"
        + (f"; {skipped} records of {input} were scored before" if skipped else "")
    )
    if listed > distinct:
        print(
            f"Note: {listed - distinct} row(s) of {input} repeat a {naming.RECORD_ID} listed "
            "before; each id was scored once, from one of its rows."
        )
    return ScoringResult(full_name, version, rows, skipped, table)


def main(argv: Sequence[str] | None = None) -> None:
    params = get_params(
        ["catalog", "schema", "model_name", "input"],
        "Score the new records of the inference input with the champion model.",
        argv=argv,
        # Locally, the input volume's folder of the catalog and schema given.
        local_defaults={
            "input": lambda values: naming.inference_data_path(values["catalog"], values["schema"])
        },
    )
    run(get_spark(), **params)


if __name__ == "__main__":
    main()
