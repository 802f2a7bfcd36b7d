"""Unity Catalog names of everything the pipeline reads and writes, in one place."""

from __future__ import annotations

from common.config import split_three_level

FEATURE_TABLE = "features"
PREDICTIONS_TABLE = "predictions"
INPUT_VOLUME = "input"
TRAINING_DATA_DIR = "training_data"

CHALLENGER = "challenger"
CHAMPION = "champion"


def uc_name(catalog: str, schema: str, name: str, what: str = "name") -> str:
    full = f"{catalog}.{schema}.{name}"
    split_three_level(full, what=what)
    return full


def feature_table(catalog: str, schema: str) -> str:
    return uc_name(catalog, schema, FEATURE_TABLE, what="table")


def predictions_table(catalog: str, schema: str) -> str:
    return uc_name(catalog, schema, PREDICTIONS_TABLE, what="table")


def training_data_path(catalog: str, schema: str) -> str:
    """The UC volume folder the training job reads (`input_path` in resources/jobs.yml)."""
    return f"/Volumes/{catalog}/{schema}/{INPUT_VOLUME}/{TRAINING_DATA_DIR}"


def model_name(catalog: str, schema: str, model: str) -> str:
    """The registered model's full name. `model` is the bare name the job passes."""
    if "." in model:
        raise ValueError(
            f"model_name {model!r} must be the bare model name; catalog and schema are separate "
            "parameters."
        )
    return uc_name(catalog, schema, model, what="model")


# Columns batch inference adds to the predictions table (the quality monitor reads them).
PREDICTION_COLUMN = "prediction"
MODEL_VERSION_COLUMN = "model_version"
TIMESTAMP_COLUMN = "scored_at"
