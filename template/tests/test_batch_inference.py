"""Batch inference: champion predictions appended with model_version and a timestamp."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import functions as F

from common import config, naming, problem
from common.errors import NoChampionError
from common.spark import read_table, table_exists
from feature_engineering import features
from inference import batch_inference


def test_predictions_are_appended_with_version_and_timestamp(spark, trained):
    p = trained.project
    champion = trained.training.version

    first = batch_inference.run(spark, p.catalog, p.schema, p.model_name)
    second = batch_inference.run(spark, p.catalog, p.schema, p.model_name)
    table = read_table(spark, p.predictions_table)

    assert first.version == second.version == champion
    assert table.count() == first.rows + second.rows == 2 * trained.feature_rows
    assert {"prediction", "model_version", "scored_at"} <= set(table.columns)
    assert dict(table.dtypes)["scored_at"] == "timestamp"
    assert table.filter(F.col("prediction").isNull() | F.col("scored_at").isNull()).count() == 0
    assert {row.model_version for row in table.select("model_version").distinct().collect()} == {
        champion
    }
    assert table.select("scored_at").distinct().count() == 2
    assert problem.LABEL_COLUMN not in table.columns


def test_without_a_champion_nothing_is_written(spark, mlflow_client, project, sample):
    project.write_input(sample)
    features.run(spark, project.catalog, project.schema, project.input_path)

    with pytest.raises(NoChampionError, match=f"no '{naming.CHAMPION}' version yet"):
        batch_inference.run(spark, project.catalog, project.schema, project.model_name)
    assert not table_exists(spark, project.predictions_table)
    assert not Path(config.current().table(project.predictions_table)).exists()
