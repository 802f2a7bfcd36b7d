"""Scoring records with a model: the columns of the predictions table, and of its baseline.

    record_id, <feature columns>,
    prediction,
    model_version, scored_at, <label>

The label column is empty until the record's label arrives (inference.ground_truth).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ml_project import naming, problem
from ml_project.errors import OutdatedTableError


def columns() -> list[str]:
    """The predictions table's columns, in order."""
    return [
        naming.RECORD_ID,
        *problem.FEATURE_COLUMNS,
        *problem.PREDICTION_COLUMNS,
        naming.MODEL_VERSION_COLUMN,
        naming.TIMESTAMP_COLUMN,
        problem.LABEL_COLUMN,
    ]


def score(records: DataFrame, model: Any, version: str) -> DataFrame:
    """`records` (record id, feature columns, and the label if known) scored by `model`, a
    version of the registered model, in Spark.

    The scikit-learn model, loaded once on the driver, travels to the workers with the scoring
    function: `mlflow.pyfunc.spark_udf` would give the class alone, not its probability."""
    known = [problem.LABEL_COLUMN] if problem.LABEL_COLUMN in records.columns else []
    inputs = records.select(naming.RECORD_ID, *problem.FEATURE_COLUMNS, *known)

    def predict(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            features = batch[problem.FEATURE_COLUMNS].astype("float64")
            yield pd.concat([batch, problem.predict(model, features)], axis=1)

    fields = [(field.name, field.dataType.simpleString()) for field in inputs.schema.fields]
    fields += problem.PREDICTION_COLUMNS.items()
    schema = ", ".join(f"`{name}` {kind}" for name, kind in fields)
    return _finish(inputs.mapInPandas(predict, schema), model, version)


def score_frame(spark: SparkSession, records: pd.DataFrame, model: Any, version: str) -> DataFrame:
    """The same for records already in memory (pandas), scored on the driver."""
    features = records[problem.FEATURE_COLUMNS].astype("float64")
    frame = pd.concat(
        [records.reset_index(drop=True), problem.predict(model, features).reset_index(drop=True)],
        axis=1,
    )
    return _finish(spark.createDataFrame(frame), model, version)


def _finish(scored: DataFrame, model: Any, version: str) -> DataFrame:
    known = problem.LABEL_COLUMN in scored.columns
    label = (F.col(problem.LABEL_COLUMN) if known else F.lit(None)).cast(problem.LABEL_TYPE)
    expressions = {
        naming.RECORD_ID: F.col(naming.RECORD_ID).cast("string"),
        **{column: F.col(column).cast("double") for column in problem.FEATURE_COLUMNS},
        **{column: F.col(column).cast(kind) for column, kind in problem.PREDICTION_COLUMNS.items()},
        naming.MODEL_VERSION_COLUMN: F.lit(version),
        naming.TIMESTAMP_COLUMN: F.current_timestamp(),
        problem.LABEL_COLUMN: label,
    }
    return scored.select(*[expressions[name].alias(name) for name in columns()])


def check_predictions_table(predictions: DataFrame, table: str) -> None:
    """OutdatedTableError if `table` is a predictions table of 0.2 (no record ids)."""
    if naming.RECORD_ID not in predictions.columns:
        raise OutdatedTableError(
            f"{table} has no {naming.RECORD_ID} column: an older version of this project wrote "
            "it (scoring the feature table again on every run). Rename it to keep its history "
            f"(ALTER TABLE {table} RENAME TO {table}_v0), or drop it; the next run then creates "
            "it anew. Nothing was changed."
        )
