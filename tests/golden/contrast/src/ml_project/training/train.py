"""Training.

Trains the classification model on the feature table, logs its parameters, metrics,
signature and input example to the experiment, registers a new version of the Unity Catalog
model `<catalog>.<schema>.<model_name>` and points the `challenger` alias at that version.
The evaluation step then decides whether it becomes `champion`.

Entry point `train` (the task of that name in resources/jobs.yml; locally
`uv run train --help`). Parameters: `catalog`, `schema`, `model_name` (bare), `experiment_name`,
and optionally `git_commit` (the bundle passes the commit it deployed; recorded on the run).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cloudpickle
import mlflow
import numpy as np
import pandas as pd
import sklearn
from mlflow.models import ModelSignature, infer_signature
from mlflow.types import ColSpec, Schema
from pyspark.sql import SparkSession

from ml_project import config, naming, problem, tracking
from ml_project.data import features_and_label, split
from ml_project.params import get_params
from ml_project.spark import get_spark, read_table
from ml_project.tracking import log_sklearn_model, setup_mlflow

# Rows the signature's types are inferred from (see model_signature).
SIGNATURE_SAMPLE_ROWS = 1000


@dataclass(frozen=True)
class TrainingResult:
    model_name: str
    version: str
    run_id: str
    metrics: dict[str, float]


def pip_requirements() -> list[str]:
    """What serving and spark_udf install for the model: explicit, so nothing is inferred."""
    return [
        f"mlflow=={mlflow.__version__}",
        f"scikit-learn=={sklearn.__version__}",
        f"cloudpickle=={cloudpickle.__version__}",
        f"numpy=={np.__version__}",
        f"pandas=={pd.__version__}",
    ]


def model_signature(model: Any, features: pd.DataFrame) -> ModelSignature:
    """What `infer_signature(features, model.predict(features))` gives, without scoring every row.

    Types are inferred from a sample. A column is optional when any of its values is missing, as
    MLflow decides, but checked by pandas for the whole column at once: MLflow checks value by
    value in Python, which takes seconds per hundred thousand rows.
    """
    sample = features.head(SIGNATURE_SAMPLE_ROWS)
    inferred = infer_signature(sample, model.predict(sample))
    inputs = Schema(
        [
            ColSpec(spec.type, spec.name, required=not features[spec.name].isna().any())
            for spec in inferred.inputs.inputs
        ]
    )
    return ModelSignature(inputs=inputs, outputs=inferred.outputs)


def load_feature_frame(spark: SparkSession, catalog: str, schema: str) -> pd.DataFrame:
    return read_table(spark, naming.feature_table(catalog, schema)).toPandas()


def run(
    spark: SparkSession,
    catalog: str,
    schema: str,
    model_name: str,
    experiment_name: str,
    git_commit: str = "",
    params: dict[str, Any] | None = None,
) -> TrainingResult:
    """Train, log and register a new version; tag it `challenger`. Returns that version.
    `git_commit`, the commit of the code the bundle deployed, is recorded on the run."""
    full_name = naming.model_name(catalog, schema, model_name)
    client = setup_mlflow(experiment_name)
    train, test = split(load_feature_frame(spark, catalog, schema))
    x_train, y_train = features_and_label(train)
    x_test, y_test = features_and_label(test)
    params = {**problem.DEFAULT_PARAMS, **(params or {})}

    with mlflow.start_run(run_name="train", tags=tracking.git_commit_tags(git_commit)) as run:
        model = problem.make_estimator(params).fit(x_train, y_train)
        metrics = problem.compute_metrics(model, x_test, y_test)
        mlflow.log_params({**params, "train_rows": len(train), "test_rows": len(test)})
        # Before log_model: on MLflow 3 the logged model (and so its version) takes them.
        mlflow.log_metrics({f"test_{name}": value for name, value in metrics.items()})
        version = log_sklearn_model(
            model,
            registered_model_name=full_name,
            signature=model_signature(model, x_train),
            input_example=x_train.head(5),
            pip_requirements=pip_requirements(),
        )
    client.set_registered_model_alias(full_name, naming.CHALLENGER, version)
    print(
        f"Registered {full_name} version {version} as {naming.CHALLENGER}: "
        + ", ".join(f"{name} {value:.4f}" for name, value in metrics.items())
    )
    return TrainingResult(full_name, version, run.info.run_id, metrics)


def main(argv: Sequence[str] | None = None) -> None:
    params = get_params(
        ["catalog", "schema", "model_name", "experiment_name", "git_commit"],
        "Train the model and register it as the challenger.",
        argv=argv,
        optional=["git_commit"],
        local_defaults={"git_commit": lambda _: config.local_git_commit()},
    )
    run(get_spark(), **params)


if __name__ == "__main__":
    main()
