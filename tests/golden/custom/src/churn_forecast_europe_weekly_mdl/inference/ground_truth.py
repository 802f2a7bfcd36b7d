"""Ground truth.

Labels arrive after their records were scored (the outcome is known later). This step merges
them into `<catalog>.<schema>.predictions` by record id, in the label column, so that the quality
monitor computes model-quality metrics next to drift.

The labels are a folder of the input volume (every CSV file under it, with a header row: columns
`record_id` and the label column) or a Unity Catalog table with those columns: `labels` in
resources/jobs.yml. Every run reads them all and sets each scored record's label: merging the
same labels again changes nothing. A label whose record was not scored (yet) is reported, and
merged by a later run once the record is scored; no labels yet is no error.

Entry point `merge_ground_truth` (the task of that name in resources/jobs.yml; locally
`uv run merge_ground_truth --help`). Parameters: `catalog`, `schema`, `labels`.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from churn_forecast_europe_weekly_mdl import naming, problem
from churn_forecast_europe_weekly_mdl.data import (
    missing_record_id,
    read_source,
    record_id,
    require_columns,
    typed,
)
from churn_forecast_europe_weekly_mdl.errors import InputDataError
from churn_forecast_europe_weekly_mdl.params import get_params
from churn_forecast_europe_weekly_mdl.scoring import check_predictions_table
from churn_forecast_europe_weekly_mdl.spark import (
    cached_locally,
    get_spark,
    read_table,
    table_exists,
    update_matching,
)

# How many unknown record ids the report lists.
SHOWN_IDS = 5


@dataclass(frozen=True)
class GroundTruthResult:
    table: str
    labels: int  # distinct record ids with a label in the input
    updated: int  # predictions whose label this run set or changed
    unknown: int  # labels whose record has no prediction (yet)
    unknown_examples: list[str]  # the first SHOWN_IDS of their record ids


def read_labels(spark: SparkSession, source: str) -> DataFrame | None:
    """One typed label per record id, from a `/Volumes/...` folder of CSV files or a Unity
    Catalog table. None when the folder holds no file yet. InputDataError on a missing column,
    a row without id or valid label, or two different labels for one record."""
    raw = read_source(spark, source, "label files")
    if raw is None:
        return None
    require_columns(raw, [naming.RECORD_ID, problem.LABEL_COLUMN], f"labels {source}")
    labels = raw.select(record_id(), typed(problem.LABEL_COLUMN, problem.LABEL_TYPE))
    bad = labels.where(missing_record_id() | F.col(problem.LABEL_COLUMN).isNull()).count()
    if bad:
        raise InputDataError(
            f"{bad} row(s) of {source} have no {naming.RECORD_ID} or no valid label in column "
            f"'{problem.LABEL_COLUMN}' (empty or not a {problem.LABEL_TYPE}). Fix or remove them; "
            "nothing was merged."
        )
    per_id = labels.groupBy(naming.RECORD_ID).agg(
        F.min(problem.LABEL_COLUMN).alias(problem.LABEL_COLUMN),
        F.count_distinct(problem.LABEL_COLUMN).alias("values"),
    )
    conflicting = [row[naming.RECORD_ID] for row in per_id.where("values > 1").limit(5).collect()]
    if conflicting:
        raise InputDataError(
            f"Records with two different labels in {source}: {', '.join(conflicting)}. Keep one "
            "label per record; nothing was merged."
        )
    return per_id.drop("values")


def run(spark: SparkSession, catalog: str, schema: str, labels: str) -> GroundTruthResult:
    table = naming.predictions_table(catalog, schema)
    arrived = read_labels(spark, labels)
    if arrived is None:
        print(f"No label files in {labels} yet: nothing to merge.")
        return GroundTruthResult(table, 0, 0, 0, [])
    with cached_locally(arrived) as arrived:
        count = arrived.count()
        if table_exists(spark, table):
            predictions = read_table(spark, table)
            check_predictions_table(predictions, table)
            predictions = predictions.select(naming.RECORD_ID, problem.LABEL_COLUMN)
        else:
            predictions = arrived.limit(0)
        unknown_ids = arrived.join(predictions, naming.RECORD_ID, "left_anti")
        unknown_count = unknown_ids.count()
        unknown = [row[naming.RECORD_ID] for row in unknown_ids.limit(SHOWN_IDS).collect()]
        label = problem.LABEL_COLUMN
        changes = arrived.join(
            predictions.withColumnRenamed(label, "current"), naming.RECORD_ID
        ).where(~F.col("current").eqNullSafe(F.col(label)))
        updated = changes.count()
        if updated:
            update_matching(spark, table, changes.drop("current"), naming.RECORD_ID, [label])
    print(f"Merged {updated} new or changed label(s) of {count} in {labels} into {table}")
    if unknown_count:
        print(
            f"{unknown_count} label(s) match no scored record yet (for example: "
            f"{', '.join(unknown)}); they are merged once their records are scored."
        )
    return GroundTruthResult(table, count, updated, unknown_count, unknown)


def main(argv: Sequence[str] | None = None) -> None:
    params = get_params(
        ["catalog", "schema", "labels"],
        "Merge the labels that arrived into the predictions table.",
        argv=argv,
        # Locally, the input volume's folder of the catalog and schema given.
        local_defaults={
            "labels": lambda values: naming.ground_truth_path(values["catalog"], values["schema"])
        },
    )
    run(get_spark(), **params)


if __name__ == "__main__":
    main()
