"""What the table helpers send to Databricks (Delta), checked without a workspace: the options
and SQL statements, on a recording stand-in for Spark."""

from __future__ import annotations

from unittest import mock

import pytest

from ml_project import config
from ml_project import spark as tables


@pytest.fixture
def on_databricks(monkeypatch):
    monkeypatch.setattr(config, "current", config.databricks)


@pytest.mark.parametrize(
    ("mode", "option"), [("overwrite", "overwriteSchema"), ("append", "mergeSchema")]
)
def test_a_schema_change_is_allowed_only_when_asked(on_databricks, mode, option):
    frame = mock.MagicMock()
    tables.write_table(frame, "cat.sch.features", mode=mode, replace_schema=True)
    writer = frame.write.mode.return_value
    writer.option.assert_called_once_with(option, "true")
    writer.option.return_value.saveAsTable.assert_called_once_with("cat.sch.features")

    plain = mock.MagicMock()
    tables.write_table(plain, "cat.sch.features", mode=mode)
    plain.write.mode.return_value.option.assert_not_called()  # Delta's default: schema kept


@pytest.mark.parametrize("current", [None, "false"])
def test_change_data_feed_is_turned_on_when_it_is_not(on_databricks, current):
    session = mock.MagicMock()
    found = [] if current is None else [{"key": "delta.enableChangeDataFeed", "value": current}]
    session.sql.return_value.collect.return_value = found
    tables.enable_change_data_feed(session, "cat.my-sch.predictions")
    assert [c.args[0] for c in session.sql.call_args_list] == [
        "SHOW TBLPROPERTIES `cat`.`my-sch`.`predictions` ('delta.enableChangeDataFeed')",
        "ALTER TABLE `cat`.`my-sch`.`predictions` "
        "SET TBLPROPERTIES (delta.enableChangeDataFeed = true)",
    ]


def test_change_data_feed_already_on_is_left_alone(on_databricks):
    """Every inference run checks it: an ALTER on each would add a table version each time."""
    session = mock.MagicMock()
    session.sql.return_value.collect.return_value = [{"value": "true"}]
    tables.enable_change_data_feed(session, "cat.sch.predictions")
    assert session.sql.call_count == 1


def test_labels_are_merged_with_a_delta_merge_that_skips_unchanged_rows(on_databricks):
    session, updates = mock.MagicMock(), mock.MagicMock()
    tables.update_matching(session, "cat.sch.predictions", updates, "record_id", ["target"])

    (statement,), _ = session.sql.call_args
    view = updates.select.return_value.createOrReplaceTempView.call_args.args[0]
    assert statement == (
        f"MERGE INTO `cat`.`sch`.`predictions` AS t USING {view} AS s "
        "ON t.`record_id` = s.`record_id` "
        "WHEN MATCHED AND (NOT (t.`target` <=> s.`target`)) THEN UPDATE SET t.`target` = s.`target`"
    )
    session.catalog.dropTempView.assert_called_once_with(view)


def test_a_missing_folder_is_found_when_read_even_on_a_lazy_reader(spark_session_error):
    """Spark Connect (serverless) analyses a read only when asked: the folder check must not wait
    for the frame's first use."""
    from ml_project.data import read_csv_files
    from ml_project.errors import InputDataError

    lazy = mock.MagicMock()
    frame = lazy.read.option.return_value.option.return_value.option.return_value.csv.return_value
    type(frame).schema = mock.PropertyMock(side_effect=spark_session_error)

    assert read_csv_files(lazy, "/Volumes/c/s/input/x", "files", missing_ok=True) is None
    with pytest.raises(InputDataError, match="No files could be read from /Volumes/c/s/input/x"):
        read_csv_files(lazy, "/Volumes/c/s/input/x", "files")


@pytest.fixture
def spark_session_error(spark, tmp_path):
    """The error Spark raises for a folder that does not exist, as a real session raises it."""
    from pyspark.errors import AnalysisException

    with pytest.raises(AnalysisException) as missing:
        spark.read.csv(str(tmp_path / "missing")).schema  # noqa: B018
    return missing.value
