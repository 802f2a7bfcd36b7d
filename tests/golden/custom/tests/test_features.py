"""Feature engineering: the feature table, and bad input that must stop the run cleanly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import SparkSession

from churn_forecast_europe_weekly_mdl import config, problem
from churn_forecast_europe_weekly_mdl.data import ROW_ID
from churn_forecast_europe_weekly_mdl.errors import InputDataError
from churn_forecast_europe_weekly_mdl.feature_engineering import features
from churn_forecast_europe_weekly_mdl.spark import read_table, table_exists


def test_feature_table_has_typed_columns_and_every_row(spark: SparkSession, trained, sample):
    table = read_table(spark, trained.project.feature_table)

    assert table.columns == [ROW_ID, *problem.FEATURE_COLUMNS, problem.LABEL_COLUMN]
    types = dict(table.dtypes)
    assert types[ROW_ID] == "bigint"
    assert {types[column] for column in problem.FEATURE_COLUMNS} == {"double"}
    assert types[problem.LABEL_COLUMN] == problem.LABEL_TYPE
    # A row that repeats another in every column is kept once.
    distinct_rows = len(sample.drop_duplicates())
    assert trained.feature_rows == table.count() == distinct_rows
    assert table.select(ROW_ID).distinct().count() == distinct_rows


def test_row_ids_do_not_depend_on_file_order(spark: SparkSession, project, sample):
    def row_ids(frame: pd.DataFrame) -> set[int]:
        project.write_input(frame)
        built = features.build_features(features.read_raw(spark, project.input_path))
        return {row[ROW_ID] for row in built.select(ROW_ID).collect()}

    assert row_ids(sample) == row_ids(sample.iloc[::-1])


def test_every_csv_file_under_the_folder_is_read_and_nothing_else(spark, project, sample):
    """Files land in sub-folders too (the file-arrival trigger fires for them); a file that is
    not CSV is skipped, not parsed as CSV."""
    half = len(sample) // 2
    project.write_input(sample.iloc[:half], "part-1.csv")
    project.write_input(sample.iloc[half:], "2026/11/30/part-2.CSV")
    (project.local_input / "README.txt").write_text("not, data\n1, 2\n")
    (project.local_input / "_SUCCESS").write_text("")

    rows = features.run(spark, project.catalog, project.schema, project.input_path)

    assert rows == len(sample.drop_duplicates())


def test_rows_repeated_in_every_column_are_kept_once_and_counted(spark, project, sample, capsys):
    project.write_input(sample, "part-1.csv")
    project.write_input(sample.iloc[:3], "uploaded-again.csv")

    rows = features.run(spark, project.catalog, project.schema, project.input_path)

    distinct = len(sample.drop_duplicates())
    assert rows == distinct == read_table(spark, project.feature_table).count()
    repeated = len(sample) + 3 - distinct
    message = f"{repeated} input row(s) repeated another row in every column"
    assert message in capsys.readouterr().out


def test_a_second_run_replaces_the_table(spark, project, sample):
    """Training files accumulate in the volume: each run rebuilds the table from all of them."""
    project.write_input(sample)
    features.run(spark, project.catalog, project.schema, project.input_path)
    features.run(spark, project.catalog, project.schema, project.input_path)
    assert read_table(spark, project.feature_table).count() == len(sample.drop_duplicates())


def test_a_changed_set_of_columns_replaces_the_table(spark, project, sample, monkeypatch):
    project.write_input(sample)
    features.run(spark, project.catalog, project.schema, project.input_path)
    kept = problem.FEATURE_COLUMNS[:-2]
    monkeypatch.setattr(problem, "FEATURE_COLUMNS", kept)

    features.run(spark, project.catalog, project.schema, project.input_path)

    assert read_table(spark, project.feature_table).columns == [ROW_ID, *kept, problem.LABEL_COLUMN]


def _bad_inputs(sample: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, str]]:
    null_labels = sample.copy()
    null_labels[problem.LABEL_COLUMN] = null_labels[problem.LABEL_COLUMN].astype("object")
    null_labels.loc[[0, 5], problem.LABEL_COLUMN] = None
    missing = problem.FEATURE_COLUMNS[1]
    text = sample.copy()
    text[problem.FEATURE_COLUMNS[2]] = "high"
    return {
        "missing column": (sample.drop(columns=[missing]), f"lack required column(s): {missing}"),
        "empty input": (sample.iloc[0:0], "have no data rows"),
        "null labels": (null_labels, f"2 of {len(sample)} rows have no valid label"),
        "text feature": (
            text,
            f"Feature column(s) {problem.FEATURE_COLUMNS[2]} in INPUT_PATH hold no number",
        ),
    }


@pytest.mark.parametrize("case", ["missing column", "empty input", "null labels", "text feature"])
def test_bad_input_fails_clearly_and_writes_nothing(spark, trained, project, sample, case):
    frame, message = _bad_inputs(sample)[case]
    message = message.replace("INPUT_PATH", project.input_path)
    project.write_input(frame)
    existing = trained.project.feature_table

    # A fresh schema: the feature table is not created.
    with pytest.raises(InputDataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        features.run(spark, project.catalog, project.schema, project.input_path)
    assert not table_exists(spark, project.feature_table)
    assert not Path(config.current().table(project.feature_table)).exists()  # not even a folder

    # An existing feature table (with a champion trained on it) is left as it was.
    with pytest.raises(InputDataError):
        features.run(spark, trained.project.catalog, trained.project.schema, project.input_path)
    assert read_table(spark, existing).count() == trained.feature_rows


def test_no_files_at_all_is_a_clear_error(spark, project):
    with pytest.raises(InputDataError, match="No training files could be read"):
        features.run(spark, project.catalog, project.schema, project.input_path)
