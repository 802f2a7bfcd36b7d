"""MLflow: tracking and registry set-up, model logging and aliases (MLflow 2 and 3)."""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ml_project import config

MLFLOW_MAJOR = int(mlflow.__version__.split(".")[0])


class _NoPipVersionWarning(logging.Filter):
    """uv environments have no pip, so MLflow warns, on each model it logs, that the model's
    conda.yaml lists pip without a version. Models logged locally are never rebuilt from their
    conda.yaml (the ones the jobs use are logged on Databricks, where pip is installed)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to resolve installed pip version")


_NO_PIP_VERSION_WARNING = _NoPipVersionWarning()  # one instance: addFilter adds it once


def setup_mlflow(experiment_name: str | None = None) -> MlflowClient:
    """Point tracking AND registry at this environment's stores (defaults differ by version)."""
    env = config.current()
    mlflow.set_tracking_uri(env.tracking_uri)
    mlflow.set_registry_uri(env.registry_uri)
    if env.local_dir is not None:
        env.local_dir.mkdir(parents=True, exist_ok=True)
        # A new SQLite store logs each of its schema migrations at INFO: create it quietly. MLflow
        # makes the store once per process, with its default artifact folder ./mlruns created in
        # the working directory: make it from the local folder, so that it lands there.
        logging.disable(logging.INFO)
        try:
            with contextlib.chdir(env.local_dir):
                client = MlflowClient()
                client.search_experiments(max_results=1)
                client.search_registered_models(max_results=1)
        finally:
            logging.disable(logging.NOTSET)
        logging.getLogger("mlflow.utils.environment").addFilter(_NO_PIP_VERSION_WARNING)
    else:
        client = MlflowClient()
    if experiment_name:
        if env.local_dir is not None and client.get_experiment_by_name(experiment_name) is None:
            # Keep artifacts beside the SQLite store, not in ./mlruns of the working directory.
            folder = re.sub(r"[^A-Za-z0-9_.-]+", "_", experiment_name).strip("_") or "default"
            location = (env.local_dir / "mlartifacts" / folder).as_uri()
            client.create_experiment(experiment_name, artifact_location=location)
        mlflow.set_experiment(experiment_name)
    return client


# The run tag MLflow itself uses for the commit of the code that ran; it cannot find it for code
# run from an installed wheel (it looks for a git repository around the entry point's script).
GIT_COMMIT_TAG = "mlflow.source.git.commit"


def git_commit_tags(commit: str) -> dict[str, str]:
    """Tags that record `commit` on a run (none if it is unknown)."""
    return {GIT_COMMIT_TAG: commit} if commit else {}


def log_model_metrics(metrics: dict[str, float], model_id: str | None) -> None:
    """Log metrics to the active run, linked to the logged model `model_id` on MLflow 3 (the
    model's page, and its registered version's, show them); MLflow 2 has no logged models."""
    if MLFLOW_MAJOR >= 3 and model_id:
        mlflow.log_metrics(metrics, model_id=model_id)
    else:
        mlflow.log_metrics(metrics)


def version_model_id(client: MlflowClient, model_name: str, version: str) -> str | None:
    """The MLflow 3 logged model behind a registered version (None on MLflow 2). Unity Catalog
    returns it; the local SQLite registry keeps it only in the version's source, models:/<id>."""
    found = client.get_model_version(model_name, version)
    model_id = getattr(found, "model_id", None)
    if model_id or MLFLOW_MAJOR < 3:
        return model_id
    source = found.source or ""
    reference = source.removeprefix("models:/")
    return reference if source.startswith("models:/") and "/" not in reference else None


def log_sklearn_model(model: Any, registered_model_name: str, **kwargs: Any) -> str:
    """Log a scikit-learn model, register it, and return the version THIS call created.

    On MLflow 3 the logged model takes the run's parameters and the metrics logged before this
    call (mlflow.models.Model.log copies them), so they show on the model and its version."""
    name_arg = {"name": "model"} if MLFLOW_MAJOR >= 3 else {"artifact_path": "model"}
    info = mlflow.sklearn.log_model(
        model,
        registered_model_name=registered_model_name,
        # Explicit, so that a model logged here loads the same way on Databricks and locally.
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
        **name_arg,
        **kwargs,
    )
    if info.registered_model_version is None:
        raise RuntimeError(f"MLflow did not register a version of {registered_model_name}.")
    return str(info.registered_model_version)


def alias_version(client: MlflowClient, model_name: str, alias: str) -> str | None:
    """The version an alias points to, or None if the model or the alias does not exist."""
    try:
        aliases = client.get_registered_model(model_name).aliases
    except MlflowException as error:
        if error.error_code in {"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"}:
            return None
        raise
    version = aliases.get(alias)
    return None if version is None else str(version)


def model_features(model: Any) -> list[str] | None:
    """The feature columns a scikit-learn model was fitted on, in order (None if it does not
    say: fitted on an array rather than a DataFrame)."""
    names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(name) for name in names]


def model_uri(model_name: str, version: str) -> str:
    return f"models:/{model_name}/{version}"
