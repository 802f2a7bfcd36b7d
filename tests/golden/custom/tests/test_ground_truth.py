"""Ground truth: labels that arrive after scoring reach the predictions table by record id."""

from __future__ import annotations

import pandas as pd
import pytest
from pyspark.sql import functions as F

from churn_forecast_europe_weekly_mdl import naming, problem
from churn_forecast_europe_weekly_mdl.errors import InputDataError
from churn_forecast_europe_weekly_mdl.inference import batch_inference, ground_truth
from churn_forecast_europe_weekly_mdl.spark import read_table


@pytest.fixture
def scored(spark, trained, sample, tmp_path_factory):
    """30 records of a batch of their own, scored by the shared champion: (ids, their labels,
    the labels' folder)."""
    p = trained.project
    batch = tmp_path_factory.mktemp("batch").name
    frame = sample.iloc[100:130].reset_index(drop=True)
    frame.insert(0, naming.RECORD_ID, [f"{batch}-{i}" for i in range(len(frame))])
    records = naming.input_folder(p.catalog, p.schema, f"records_{batch}")
    p.write_file(records, frame[[naming.RECORD_ID, *problem.FEATURE_COLUMNS]], "records.csv")
    batch_inference.run(spark, p.catalog, p.schema, p.model_name, records)
    labels_path = naming.input_folder(p.catalog, p.schema, f"labels_{batch}")
    return frame[[naming.RECORD_ID, problem.LABEL_COLUMN]], labels_path


def labels_of(spark, trained, ids) -> dict[str, object]:
    rows = (
        read_table(spark, trained.project.predictions_table)
        .where(F.col(naming.RECORD_ID).isin(list(ids)))
        .select(naming.RECORD_ID, problem.LABEL_COLUMN)
        .collect()
    )
    return {row[0]: row[1] for row in rows}


def merge(spark, trained, labels_path):
    p = trained.project
    return ground_truth.run(spark, p.catalog, p.schema, labels_path)


def test_labels_arriving_later_reach_their_predictions(spark, trained, scored):
    p = trained.project
    labels, labels_path = scored
    ids = labels[naming.RECORD_ID]
    assert set(labels_of(spark, trained, ids).values()) == {None}  # scored, not labelled yet
    rows = read_table(spark, p.predictions_table).count()

    # The first ten labels arrive, then the rest in another file.
    p.write_file(labels_path, labels.iloc[:10], "day-1.csv")
    first = merge(spark, trained, labels_path)
    p.write_file(labels_path, labels.iloc[10:], "day-2.csv")
    second = merge(spark, trained, labels_path)

    assert (first.labels, first.updated) == (10, 10)
    assert (second.labels, second.updated) == (30, 20)  # every file read; only new labels set
    expected = dict(zip(ids, labels[problem.LABEL_COLUMN], strict=True))
    assert labels_of(spark, trained, ids) == pytest.approx(expected)
    assert read_table(spark, p.predictions_table).count() == rows  # labels, not new rows
    assert merge(spark, trained, labels_path).updated == 0  # merging again changes nothing


def test_a_corrected_label_replaces_the_old_one(spark, trained, scored):
    p = trained.project
    labels, labels_path = scored
    p.write_file(labels_path, labels.iloc[:3], "labels.csv")
    merge(spark, trained, labels_path)
    corrected = labels.iloc[:3].copy()
    corrected[problem.LABEL_COLUMN] = corrected[problem.LABEL_COLUMN] + 1
    p.write_file(labels_path, corrected, "labels.csv")  # the file, rewritten

    assert merge(spark, trained, labels_path).updated == 3
    got = labels_of(spark, trained, corrected[naming.RECORD_ID])
    expected = zip(corrected[naming.RECORD_ID], corrected[problem.LABEL_COLUMN], strict=True)
    assert got == pytest.approx(dict(expected))


def test_labels_of_unknown_records_are_reported_not_dropped(spark, trained, scored, capsys):
    p = trained.project
    labels, labels_path = scored
    unknown = pd.DataFrame(
        {naming.RECORD_ID: ["never-scored-1", "never-scored-2"], problem.LABEL_COLUMN: [1, 0]}
    )
    p.write_file(labels_path, pd.concat([labels.iloc[:5], unknown]), "labels.csv")

    result = merge(spark, trained, labels_path)

    assert (result.updated, result.unknown) == (5, 2)
    assert sorted(result.unknown_examples) == ["never-scored-1", "never-scored-2"]
    out = capsys.readouterr().out
    assert "2 label(s) match no scored record yet" in out and "never-scored-1" in out


@pytest.mark.parametrize("case", ["no id", "no label", "conflicting labels", "no label column"])
def test_bad_labels_are_named_and_nothing_is_merged(spark, trained, scored, case):
    p = trained.project
    labels, labels_path = scored
    bad = labels.iloc[:6].copy().astype(object)
    if case == "no id":
        bad.iloc[1, 0] = None
        message = r"1 row\(s\) .* have no record_id or no valid label"
    elif case == "no label":
        bad.iloc[2, 1] = "unknown"
        message = r"1 row\(s\) .* have no record_id or no valid label"
    elif case == "conflicting labels":
        twice = bad.iloc[[0]].copy()
        twice.iloc[0, 1] = twice.iloc[0, 1] + 1
        bad = pd.concat([bad, twice])
        message = "two different labels"
    else:
        bad = bad.drop(columns=[problem.LABEL_COLUMN])
        message = f"lack required column\\(s\\): {problem.LABEL_COLUMN}"
    p.write_file(labels_path, bad, "labels.csv")

    with pytest.raises(InputDataError, match=message):
        merge(spark, trained, labels_path)
    assert set(labels_of(spark, trained, labels[naming.RECORD_ID]).values()) == {None}


def test_no_labels_yet_is_nothing_to_merge(spark, trained, scored, capsys):
    _, labels_path = scored
    assert merge(spark, trained, labels_path).labels == 0
    assert "nothing to merge" in capsys.readouterr().out
