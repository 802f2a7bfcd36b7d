"""Turning the feature table into model inputs, and the train/test split every step shares."""

from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from common import problem

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
