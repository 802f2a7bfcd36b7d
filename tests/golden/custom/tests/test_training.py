"""Training: a registered version with its signature, metrics and the challenger alias."""

from __future__ import annotations

import mlflow
import pytest

from churn_forecast_europe_weekly_mdl import naming, problem, tracking
from churn_forecast_europe_weekly_mdl.errors import MissingTableError
from churn_forecast_europe_weekly_mdl.tracking import model_uri
from churn_forecast_europe_weekly_mdl.training import train


def test_training_registers_the_returned_version_as_challenger(trained, mlflow_client):
    result = trained.training
    version = mlflow_client.get_model_version(result.model_name, result.version)

    assert result.model_name == trained.project.full_model_name
    assert trained.aliases_after_training == {naming.CHALLENGER: result.version}
    assert version.run_id == result.run_id


def test_registered_model_has_signature_and_input_example(trained):
    info = mlflow.models.get_model_info(
        model_uri(trained.training.model_name, trained.training.version)
    )

    assert info.signature is not None
    assert info.signature.inputs.input_names() == problem.FEATURE_COLUMNS
    assert info.saved_input_example_info is not None


def test_training_run_logs_params_and_metrics(trained, mlflow_client):
    run = mlflow_client.get_run(trained.training.run_id)

    assert set(problem.DEFAULT_PARAMS) <= set(run.data.params)
    assert run.data.metrics[f"test_{problem.PRIMARY_METRIC}"] == pytest.approx(
        trained.training.metrics[problem.PRIMARY_METRIC]
    )
    assert int(run.data.params["test_rows"]) > 0


def test_the_run_records_the_git_commit_and_the_model_its_metrics(spark, trained, mlflow_client):
    """The bundle passes the commit it deployed; on MLflow 3 the logged model (the registered
    version's page) shows the metrics too."""
    p = trained.project
    step = p.step_args("catalog", "schema", "model_name", "experiment_name")
    result = train.run(spark, **step, git_commit="0123abc")

    run = mlflow_client.get_run(result.run_id)
    assert run.data.tags["mlflow.source.git.commit"] == "0123abc"
    if tracking.MLFLOW_MAJOR >= 3:
        model_id = tracking.version_model_id(mlflow_client, result.model_name, result.version)
        logged = mlflow_client.get_logged_model(model_id)
        metrics = {metric.key: metric.value for metric in logged.metrics}
        assert metrics[f"test_{problem.PRIMARY_METRIC}"] == pytest.approx(
            result.metrics[problem.PRIMARY_METRIC]
        )


def test_training_before_the_feature_table_exists_is_a_clear_error(spark, project):
    step = project.step_args("catalog", "schema", "model_name", "experiment_name")
    with pytest.raises(MissingTableError, match=r"features does not exist yet .*`make pipeline`"):
        train.run(spark, **step)
