"""Session-scoped fixtures: one local Spark session and one MLflow store for the whole run.

Every test that writes gets its own Unity Catalog schema name (hence its own local table
folders, volume folder and registered model), so tests never see each other's tables or aliases.

Spark's JVM takes seconds to start: it starts in the background as soon as the test session
does, while pytest creates the MLflow store and imports the tests. So the imports up here are
light, and the heavy ones come later.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from churn_forecast_europe_weekly_mdl import config, naming
from churn_forecast_europe_weekly_mdl.spark import get_spark

if TYPE_CHECKING:
    import pandas as pd
    from mlflow.tracking import MlflowClient
    from pyspark.sql import SparkSession

_schemas = itertools.count(1)


@dataclass(frozen=True)
class Project:
    """The parameters the jobs pass, for one test's own schema."""

    catalog: str
    schema: str
    model_name: str = "test_model"
    experiment_name: str = "tests"

    @property
    def input_path(self) -> str:
        return naming.training_data_path(self.catalog, self.schema)

    @property
    def local_input(self) -> Path:
        return Path(config.current().path(self.input_path))

    @property
    def full_model_name(self) -> str:
        return naming.model_name(self.catalog, self.schema, self.model_name)

    @property
    def feature_table(self) -> str:
        return naming.feature_table(self.catalog, self.schema)

    @property
    def predictions_table(self) -> str:
        return naming.predictions_table(self.catalog, self.schema)

    @property
    def records_path(self) -> str:
        return naming.inference_data_path(self.catalog, self.schema)

    @property
    def labels_path(self) -> str:
        return naming.ground_truth_path(self.catalog, self.schema)

    def write_input(self, frame: pd.DataFrame, name: str = "data.csv") -> None:
        """Write training data as CSV file `name` (a path under the training data folder)."""
        self.write_file(self.input_path, frame, name)

    def write_file(self, path: str, frame: pd.DataFrame, name: str) -> None:
        """Write `frame` as CSV file `name` into the volume folder `path` (local stand-in)."""
        file = Path(config.current().path(path)) / name
        file.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(file, index=False)

    def step_args(self, *names: str) -> dict[str, str]:
        return {name: getattr(self, name) for name in names}


class _LocalSession:
    """Local mode in a throwaway folder, with the Spark session starting in the background."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="local-tests-")
        self.environment = pytest.MonkeyPatch()
        self.environment.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
        self.environment.setenv("MLOPS_LOCAL_DIR", self.folder)
        self._background = ThreadPoolExecutor(max_workers=1)
        self.spark: Future[SparkSession] = self._background.submit(
            get_spark, "tests", quick_start=True
        )

    def close(self) -> None:
        self._background.shutdown(wait=True)
        if self.spark.exception() is None:
            self.spark.result().stop()
        self.environment.undo()
        shutil.rmtree(self.folder, ignore_errors=True)


_local = pytest.StashKey[_LocalSession]()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_local] = _LocalSession()
    # While Spark starts: the MLflow store (its SQLite schema takes a second or two), then pytest
    # imports the tests.
    from churn_forecast_europe_weekly_mdl.tracking import setup_mlflow

    setup_mlflow("tests")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _local in session.config.stash:
        session.config.stash[_local].close()


@pytest.fixture(scope="session", autouse=True)
def local_env() -> config.Environment:
    """The local environment the tests run in (see _LocalSession)."""
    return config.current()


@pytest.fixture(scope="session")
def spark(request: pytest.FixtureRequest) -> SparkSession:
    return request.config.stash[_local].spark.result()


@pytest.fixture(scope="session")
def mlflow_client(local_env: config.Environment) -> MlflowClient:
    from churn_forecast_europe_weekly_mdl.tracking import setup_mlflow

    return setup_mlflow("tests")


@pytest.fixture(scope="session")
def sample() -> pd.DataFrame:
    """The bundled sample data, as the raw files hold it."""
    from churn_forecast_europe_weekly_mdl.local.sample_data import load_sample

    return load_sample()


@pytest.fixture
def project() -> Project:
    """A fresh schema for one test."""
    return Project(catalog="test_catalog", schema=f"schema_{next(_schemas)}")


@dataclass(frozen=True)
class TrainedProject:
    project: Project
    feature_rows: int
    training: object  # training.train.TrainingResult
    aliases_after_training: dict[str, str]
    evaluation: object  # training.evaluate.EvaluationResult


@pytest.fixture(scope="session")
def trained(
    spark: SparkSession, mlflow_client: MlflowClient, sample: pd.DataFrame
) -> TrainedProject:
    """The pipeline's first run on the sample: features, train (version 1), evaluate (champion)."""
    from churn_forecast_europe_weekly_mdl.feature_engineering import features
    from churn_forecast_europe_weekly_mdl.training import evaluate, train

    project = Project(catalog="test_catalog", schema="trained")
    project.write_input(sample)
    rows = features.run(spark, **project.step_args("catalog", "schema", "input_path"))
    step = project.step_args("catalog", "schema", "model_name", "experiment_name")
    training = train.run(spark, **step)
    aliases = {
        alias: str(version)
        for alias, version in mlflow_client.get_registered_model(
            project.full_model_name
        ).aliases.items()
    }
    evaluation = evaluate.run(spark, **step)
    return TrainedProject(project, rows, training, aliases, evaluation)
