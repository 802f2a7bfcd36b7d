"""Unity Catalog names of everything the pipeline reads and writes, in one place."""

from __future__ import annotations

from ml_project.config import split_three_level

FEATURE_TABLE = "features"
PREDICTIONS_TABLE = "predictions"
# The champion's held-out rows, scored when it was promoted: the quality monitor's drift baseline.
BASELINE_TABLE = "predictions_baseline"
INPUT_VOLUME = "input"
# Folders of the input volume: files land there, CSV with a header row, in sub-folders too.
TRAINING_DATA_DIR = "training_data"  # feature columns and the label
INFERENCE_DATA_DIR = "inference_data"  # record id and feature columns: records to score
GROUND_TRUTH_DIR = "ground_truth"  # record id and the label, arriving after scoring

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


def baseline_table(catalog: str, schema: str) -> str:
    return uc_name(catalog, schema, BASELINE_TABLE, what="table")


def input_folder(catalog: str, schema: str, folder: str) -> str:
    """A folder of the input volume, as resources/jobs.yml passes it."""
    return f"/Volumes/{catalog}/{schema}/{INPUT_VOLUME}/{folder}"


def training_data_path(catalog: str, schema: str) -> str:
    """What the feature step reads (its `input_path` in resources/jobs.yml)."""
    return input_folder(catalog, schema, TRAINING_DATA_DIR)


def inference_data_path(catalog: str, schema: str) -> str:
    """What batch inference scores (its `input` in resources/jobs.yml)."""
    return input_folder(catalog, schema, INFERENCE_DATA_DIR)


def ground_truth_path(catalog: str, schema: str) -> str:
    """Where the labels of scored records arrive (`labels` in resources/jobs.yml)."""
    return input_folder(catalog, schema, GROUND_TRUTH_DIR)


def model_name(catalog: str, schema: str, model: str) -> str:
    """The registered model's full name. `model` is the bare name the job passes."""
    if "." in model:
        raise ValueError(
            f"model_name {model!r} must be the bare model name; catalog and schema are separate "
            "parameters."
        )
    return uc_name(catalog, schema, model, what="model")


# The id every record to score carries, and its labels later: a record is scored once.
RECORD_ID = "record_id"
# Columns batch inference adds to the predictions table (the quality monitor reads them); the
# label column (problem.LABEL_COLUMN) is there too, empty until the record's label arrives.
PREDICTION_COLUMN = "prediction"
PROBABILITY_COLUMN = "probability"  # classification: the positive class's probability
PROBABILITIES_COLUMN = "probabilities"  # classification: class -> probability, for the monitor
MODEL_VERSION_COLUMN = "model_version"
TIMESTAMP_COLUMN = "scored_at"
