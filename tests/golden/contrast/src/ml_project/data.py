"""Reading input files, typing their columns, and turning the feature table into model inputs
with the train/test split every step shares."""

from __future__ import annotations

import pandas as pd
from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from ml_project import config, naming, problem
from ml_project.errors import InputDataError
from ml_project.spark import read_table

ROW_ID = "row_id"
# One row in TEST_MODULO goes to the held-out set, decided by its stable row id: the same rows
# are held out in training and evaluation, and a row keeps its side when new data arrives.
TEST_MODULO = 5


def split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deterministic (train, test) split of a feature table read into pandas."""
    frame = frame.sort_values(ROW_ID, kind="stable").reset_index(drop=True)
    held_out = frame[ROW_ID] % TEST_MODULO == 0
    return frame[~held_out].reset_index(drop=True), frame[held_out].reset_index(drop=True)


def held_out_rows(features: DataFrame) -> DataFrame:
    """The rows `split` holds out, selected in Spark: evaluation reads a fifth of the table."""
    return features.where(F.col(ROW_ID) % TEST_MODULO == 0)


def features_and_label(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The model's input columns (float64, in a fixed order) and the label."""
    return frame[problem.FEATURE_COLUMNS].astype("float64"), frame[problem.LABEL_COLUMN]


# Spark's error classes for a folder that is missing, or holds no file the reader takes.
NO_FILES = {"PATH_NOT_FOUND", "UNABLE_TO_INFER_SCHEMA"}


def read_csv_files(
    spark: SparkSession, path: str, what: str, missing_ok: bool = False
) -> DataFrame | None:
    """Every CSV file (with a header row) under `path`, sub-folders included, as strings; other
    files are skipped. With `missing_ok`, None when there is none yet; otherwise InputDataError."""
    location = config.current().path(path)
    try:
        frame = (
            spark.read.option("header", "true")
            .option("recursiveFileLookup", "true")
            .option("pathGlobFilter", "*.[cC][sS][vV]")
            .csv(location)
        )
        # Spark Connect (serverless) only analyses a plan when asked: a missing folder must fail
        # here, not at the first use of the frame.
        frame.schema  # noqa: B018
    except AnalysisException as error:
        # getCondition since Spark 4.0, which deprecates getErrorClass (3.5 has only that).
        condition = getattr(error, "getCondition", error.getErrorClass)()
        if missing_ok and condition in NO_FILES:
            return None
        reason = str(error).strip().splitlines()[0]
        raise InputDataError(
            f"No {what} could be read from {path} ({reason}). Upload CSV files with a header row "
            "there (sub-folders are read too)."
        ) from error
    return frame


def read_source(spark: SparkSession, source: str, what: str) -> DataFrame | None:
    """What a step reads by its parameter: a `/Volumes/...` folder of CSV files (None while it
    holds no file yet), or a Unity Catalog table `catalog.schema.table`."""
    if source.startswith("/"):
        return read_csv_files(spark, source, what, missing_ok=True)
    return read_table(spark, source)


def record_id() -> Column:
    """The record id as the predictions table keeps it: text, without surrounding spaces."""
    return F.trim(F.col(naming.RECORD_ID).cast("string")).alias(naming.RECORD_ID)


def missing_record_id() -> Column:
    """True for a row whose record id is empty: it could never be matched with its label."""
    return F.col(naming.RECORD_ID).isNull() | (F.col(naming.RECORD_ID) == "")


def require_columns(frame: DataFrame, required: list[str], what: str) -> None:
    """InputDataError naming the columns of `required` that `frame` lacks."""
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise InputDataError(
            f"The {what} lack required column(s): {', '.join(missing)}. "
            f"Found: {', '.join(frame.columns) or 'none'}. Add the missing columns, or change "
            "FEATURE_COLUMNS / LABEL_COLUMN in the problem module "
            "(src/ml_project/problem.py)."
        )


def typed(column: str, spark_type: str) -> Column:
    """`column` as `spark_type`; a value that does not parse becomes NULL (try_cast: on Spark 3.5
    and 4 alike, where ANSI mode would fail the whole job)."""
    return F.expr(f"try_cast(`{column}` AS {spark_type.upper()})").alias(column)


def typed_features() -> list[Column]:
    """The feature columns as the model takes them: doubles."""
    return [typed(column, "double") for column in problem.FEATURE_COLUMNS]
