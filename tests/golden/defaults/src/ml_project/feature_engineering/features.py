"""Feature engineering.

Reads the raw training files that land in the input volume (every CSV file with a header row,
in sub-folders too; other files are skipped), checks them, builds the features with Spark and
overwrites the feature table `<catalog>.<schema>.features` (its schema too, when the feature
columns changed).

Nothing is written unless the input passes every check: required columns present, at least
one row, a label on every row, a number in every feature column. A row that repeats another in
every column is kept once, and the step says how many were.

Entry point `feature_engineering` (the task of that name in resources/jobs.yml; locally
`uv run feature_engineering --help`). Parameters: `catalog`, `schema`, `input_path`
(`/Volumes/<catalog>/<schema>/input/training_data`).
"""

from collections.abc import Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ml_project import naming, problem
from ml_project.data import (
    ROW_ID,
    read_csv_files,
    require_columns,
    typed,
    typed_features,
)
from ml_project.errors import InputDataError
from ml_project.params import get_params
from ml_project.spark import cached_locally, get_spark, write_table


def required_columns() -> list[str]:
    return [*problem.FEATURE_COLUMNS, problem.LABEL_COLUMN]


def read_raw(spark: SparkSession, input_path: str) -> DataFrame:
    """Every CSV file under `input_path`, as strings: build_features sets the types."""
    raw = read_csv_files(spark, input_path, "training files")
    assert raw is not None
    return raw


def build_features(raw: DataFrame) -> DataFrame:
    """Typed features, the label and a stable row id, one row per input row (run() keeps each
    distinct row once); raises InputDataError on a missing column."""
    required = required_columns()
    require_columns(raw, required, "training files")
    # A hash of the raw values: the same row gets the same id on every run, in any file order.
    row_id = F.xxhash64(*[F.col(f"`{column}`") for column in required])
    return raw.select(
        row_id.alias(ROW_ID),
        *typed_features(),
        typed(problem.LABEL_COLUMN, problem.LABEL_TYPE),
    )


def validate(features: DataFrame, input_path: str) -> tuple[int, int]:
    """Return the number of distinct rows and of repeated ones; raise InputDataError if there are
    none, a label is missing, or a feature column holds no number at all (text, or empty: the
    model needs numbers)."""
    counts = features.agg(
        F.count(F.lit(1)).alias("rows"),
        F.count_distinct(ROW_ID).alias("distinct"),
        F.count_if(F.col(problem.LABEL_COLUMN).isNull()).alias("null_labels"),
        *[F.count(column).alias(column) for column in problem.FEATURE_COLUMNS],
    ).first()
    assert counts is not None
    if counts["rows"] == 0:
        raise InputDataError(
            f"The training files in {input_path} have no data rows. Upload files with data."
        )
    if counts["null_labels"]:
        raise InputDataError(
            f"{counts['null_labels']} of {counts['rows']} rows have no valid label in column "
            f"'{problem.LABEL_COLUMN}' (empty or not a {problem.LABEL_TYPE}). Fix or remove those "
            "rows in the training files."
        )
    not_numeric = [column for column in problem.FEATURE_COLUMNS if counts[column] == 0]
    if not_numeric:
        raise InputDataError(
            f"Feature column(s) {', '.join(not_numeric)} in {input_path} hold no number in any "
            "row (text, or empty). The model takes numbers only: encode such a column as numbers "
            "in build_features (the feature_engineering.features module), or remove it from "
            "FEATURE_COLUMNS (the problem module). A value that is not a number in an otherwise "
            "numeric column is read as missing."
        )
    return int(counts["distinct"]), int(counts["rows"] - counts["distinct"])


def run(spark: SparkSession, catalog: str, schema: str, input_path: str) -> int:
    """Build and write the feature table; return its row count. Writes nothing on bad input."""
    table = naming.feature_table(catalog, schema)
    with cached_locally(build_features(read_raw(spark, input_path))) as features:
        rows, repeated = validate(features, input_path)
        # A row given twice (same values in every column, in one file or two) is one observation:
        # it is kept once, so that a file uploaded again does not weigh twice in training.
        distinct = features.dropDuplicates([ROW_ID])
        # A changed set of feature columns replaces the table's schema.
        write_table(distinct, table, mode="overwrite", replace_schema=True)
    print(f"Wrote {rows} rows to {table}")
    if repeated:
        print(
            f"{repeated} input row(s) repeated another row in every column and were kept once. "
            "Give rows that differ at least one differing value (an id column, for example)."
        )
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    params = get_params(
        ["catalog", "schema", "input_path"],
        "Build the feature table from the raw training files.",
        argv=argv,
        # Locally, the input volume's folder of the catalog and schema given.
        local_defaults={
            "input_path": lambda values: naming.training_data_path(
                values["catalog"], values["schema"]
            )
        },
    )
    run(get_spark(), params["catalog"], params["schema"], params["input_path"])


if __name__ == "__main__":
    main()
