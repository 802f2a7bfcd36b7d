"""Batch inference: new records scored once by the champion, appended with their id, the model's
output, model_version and a timestamp; bad input stops it before anything is appended."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import functions as F

from ml_project import config, naming, problem, scoring
from ml_project.errors import (
    ChampionFeaturesError,
    InputDataError,
    NoChampionError,
    OutdatedTableError,
)
from ml_project.feature_engineering import features
from ml_project.inference import batch_inference
from ml_project.spark import read_table, table_exists


def records(sample: pd.DataFrame, batch: str, rows: slice = slice(None)) -> pd.DataFrame:
    """Records to score, with ids unique to `batch`."""
    frame = sample[problem.FEATURE_COLUMNS].iloc[rows].reset_index(drop=True)
    frame.insert(0, naming.RECORD_ID, [f"{batch}-{i}" for i in range(len(frame))])
    return frame


def score(spark, trained, source: str):
    p = trained.project
    return batch_inference.run(spark, p.catalog, p.schema, p.model_name, source)


def predictions(spark, trained) -> int:
    table = trained.project.predictions_table
    return read_table(spark, table).count() if table_exists(spark, table) else 0


@pytest.fixture
def inputs(tmp_path_factory, trained):
    """A volume folder of its own for this test's records (the predictions table is shared)."""
    p = trained.project
    folder = tmp_path_factory.mktemp("records").name
    return naming.input_folder(p.catalog, p.schema, f"inference_{folder}")


def test_new_records_are_scored_once(spark, trained, sample, inputs):
    p = trained.project
    first = records(sample, "once", slice(0, 40))
    p.write_file(inputs, first, "first.csv")
    before = predictions(spark, trained)

    scored = score(spark, trained, inputs)
    again = score(spark, trained, inputs)  # the same input: nothing to add

    assert (scored.rows, scored.skipped) == (40, 0)
    assert (again.rows, again.skipped) == (0, 40)
    assert predictions(spark, trained) == before + 40

    # A new file adds only its records, even next to the old one (in a sub-folder here).
    p.write_file(inputs, records(sample, "once-new", slice(40, 65)), "2026/11/new.csv")
    more = score(spark, trained, inputs)
    assert (more.rows, more.skipped) == (25, 40)
    assert predictions(spark, trained) == before + 65


def test_predictions_carry_id_output_version_timestamp_and_an_empty_label(
    spark, trained, sample, inputs
):
    p = trained.project
    p.write_file(inputs, records(sample, "columns", slice(0, 30)), "records.csv")
    result = score(spark, trained, inputs)

    table = read_table(spark, p.predictions_table)
    assert table.columns == scoring.columns()
    mine = table.where(F.col(naming.RECORD_ID).startswith("columns-"))
    assert mine.count() == result.rows == 30
    types = dict(table.dtypes)
    assert types[naming.TIMESTAMP_COLUMN] == "timestamp"
    for column, kind in problem.PREDICTION_COLUMNS.items():
        assert types[column] == kind
    assert {row[0] for row in mine.select(naming.MODEL_VERSION_COLUMN).distinct().collect()} == {
        trained.training.version
    }
    assert mine.where(F.col(problem.LABEL_COLUMN).isNotNull()).count() == 0
    assert mine.where(F.col(naming.PREDICTION_COLUMN).isNull()).count() == 0
    # The probability of class 1, consistent with the class, and as a map for the monitor.
    rows = mine.select(
        naming.PREDICTION_COLUMN, naming.PROBABILITY_COLUMN, naming.PROBABILITIES_COLUMN
    ).collect()
    for prediction, probability, probabilities in rows:
        assert 0.0 <= probability <= 1.0
        assert prediction == int(probability > 0.5)
        assert probabilities[1] == pytest.approx(probability)
        assert probabilities[0] == pytest.approx(1 - probability)


def test_predictions_are_the_champions_own(spark, trained, sample, inputs, mlflow_client):
    import mlflow

    p = trained.project
    frame = records(sample, "same", slice(0, 20))
    p.write_file(inputs, frame, "records.csv")
    score(spark, trained, inputs)

    model = mlflow.sklearn.load_model(f"models:/{p.full_model_name}@{naming.CHAMPION}")
    expected = problem.predict(model, frame[problem.FEATURE_COLUMNS].astype("float64"))
    got = (
        read_table(spark, p.predictions_table)
        .where(F.col(naming.RECORD_ID).startswith("same-"))
        .toPandas()
        .set_index(naming.RECORD_ID)
        .loc[frame[naming.RECORD_ID]]
    )
    for column in problem.PREDICTION_COLUMNS:
        assert got[column].to_numpy() == pytest.approx(expected[column].to_numpy())


def _bad_records(sample: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, str]]:
    without_id = records(sample, "bad", slice(0, 10))
    without_id.loc[[2, 7], naming.RECORD_ID] = None
    missing = problem.FEATURE_COLUMNS[0]
    return {
        "record without id": (without_id, f"2 record\\(s\\) .* have no {naming.RECORD_ID}"),
        "missing feature column": (
            records(sample, "bad", slice(0, 10)).drop(columns=[missing]),
            f"lack required column\\(s\\): {missing}",
        ),
        "no id column": (
            records(sample, "bad", slice(0, 10)).drop(columns=[naming.RECORD_ID]),
            f"lack required column\\(s\\): {naming.RECORD_ID}",
        ),
    }


@pytest.mark.parametrize("case", ["record without id", "missing feature column", "no id column"])
def test_bad_input_is_named_and_nothing_is_appended(spark, trained, sample, inputs, case):
    p = trained.project
    frame, message = _bad_records(sample)[case]
    p.write_file(inputs, frame, "bad.csv")
    before = predictions(spark, trained)

    with pytest.raises(InputDataError, match=message):
        score(spark, trained, inputs)
    assert predictions(spark, trained) == before


def test_no_input_yet_is_nothing_to_score(spark, trained, inputs, capsys):
    result = score(spark, trained, inputs)
    assert result.rows == 0
    assert "nothing to score" in capsys.readouterr().out


def test_a_table_can_be_the_input(spark, trained, sample):
    """The one-line change resources/jobs.yml documents: `input: <catalog>.<schema>.<table>`."""
    from ml_project.spark import write_table

    p = trained.project
    source = f"{p.catalog}.{p.schema}.records_to_score"
    frame = records(sample, "table", slice(0, 15))
    write_table(spark.createDataFrame(frame), source, mode="overwrite")
    assert score(spark, trained, source).rows == 15
    assert score(spark, trained, source).rows == 0


def test_a_champion_on_other_features_stops_clearly(spark, trained, sample, inputs, monkeypatch):
    p = trained.project
    p.write_file(inputs, records(sample, "changed", slice(0, 5)), "records.csv")
    monkeypatch.setattr(problem, "FEATURE_COLUMNS", problem.FEATURE_COLUMNS[1:])
    with pytest.raises(ChampionFeaturesError, match="Run the training pipeline"):
        score(spark, trained, inputs)


def test_without_a_champion_nothing_is_written(spark, mlflow_client, project, sample):
    project.write_input(sample)
    features.run(spark, project.catalog, project.schema, project.input_path)
    project.write_file(project.records_path, records(sample, "none", slice(0, 5)), "r.csv")

    with pytest.raises(NoChampionError, match=f"no '{naming.CHAMPION}' version yet"):
        batch_inference.run(
            spark, project.catalog, project.schema, project.model_name, project.records_path
        )
    assert not table_exists(spark, project.predictions_table)
    assert not Path(config.current().table(project.predictions_table)).exists()


def test_a_predictions_table_of_an_older_version_is_named_not_mangled(
    spark, trained, sample, inputs
):
    """0.2 appended the feature table, without record ids: say what to do, score nothing."""
    from ml_project.spark import write_table

    p = trained.project
    location = Path(config.current().table(p.predictions_table))
    kept = location.with_name("predictions.kept")
    if location.exists():
        location.rename(kept)  # the shared table, set aside
    try:
        write_table(spark.createDataFrame(sample.iloc[:3]), p.predictions_table, "overwrite")
        p.write_file(inputs, records(sample, "old", slice(0, 3)), "records.csv")
        with pytest.raises(OutdatedTableError, match="RENAME TO"):
            score(spark, trained, inputs)
        assert read_table(spark, p.predictions_table).count() == 3
    finally:
        shutil.rmtree(location, ignore_errors=True)
        if kept.exists():
            kept.rename(location)


def test_probabilities_are_keyed_by_the_models_own_classes(spark, sample):
    """A team's labels need not be 0 and 1: the map's keys are the model's classes, and the
    probability is the second (greater) class's."""
    frame = sample.groupby(problem.LABEL_COLUMN).head(30).reset_index(drop=True)  # both classes
    labels = frame[problem.LABEL_COLUMN].map({0: 3, 1: 7})
    estimator = problem.make_estimator(problem.DEFAULT_PARAMS)
    model = estimator.fit(frame[problem.FEATURE_COLUMNS], labels)
    scored = scoring.score_frame(spark, records(frame, "classes"), model, "1").collect()

    expected = model.predict_proba(frame[problem.FEATURE_COLUMNS])[:, 1]
    for row, probability in zip(scored, expected, strict=True):
        assert set(row[naming.PROBABILITIES_COLUMN]) == {3, 7}
        assert row[naming.PROBABILITIES_COLUMN][7] == pytest.approx(probability)
        assert row[naming.PROBABILITY_COLUMN] == pytest.approx(probability)
        assert row[naming.PREDICTION_COLUMN] in {3, 7}
