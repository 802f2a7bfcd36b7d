"""The promotion gate: champion only when the challenger passes and is better; a challenger
that is not better is kept out without failing; one below a threshold fails the task."""

from __future__ import annotations

import pytest
from pyspark.sql import functions as F

from churn_forecast_europe_weekly_mdl import data, naming, problem, scoring
from churn_forecast_europe_weekly_mdl.errors import PromotionRejected
from churn_forecast_europe_weekly_mdl.feature_engineering import features
from churn_forecast_europe_weekly_mdl.spark import read_table
from churn_forecast_europe_weekly_mdl.tracking import alias_version
from churn_forecast_europe_weekly_mdl.training import evaluate, train

# A model that cannot learn much: one shallow tree, tiny steps.
WEAK_PARAMS = {"max_iter": 1, "max_leaf_nodes": 2, "learning_rate": 0.01}


def test_first_model_passing_the_thresholds_becomes_champion(trained, mlflow_client):
    result = trained.evaluation
    name = trained.project.full_model_name

    assert result.promoted
    assert result.champion_version is None
    assert problem.failed_thresholds(result.challenger_metrics) == []
    assert alias_version(mlflow_client, name, naming.CHAMPION) == trained.training.version


def test_a_promotion_writes_the_monitors_baseline(spark, trained):
    """The champion's held-out rows, scored and labelled, with the predictions table's columns."""
    p = trained.project
    baseline = read_table(spark, naming.baseline_table(p.catalog, p.schema))

    assert baseline.columns == scoring.columns()
    held_out = data.held_out_rows(read_table(spark, p.feature_table)).count()
    assert baseline.count() == held_out > 0
    assert baseline.where(F.col(problem.LABEL_COLUMN).isNull()).count() == 0
    versions = {row[0] for row in baseline.select(naming.MODEL_VERSION_COLUMN).distinct().collect()}
    assert versions == {trained.training.version}


def test_gate_promotes_only_a_better_challenger(spark, mlflow_client, project, sample, monkeypatch):
    project.write_input(sample)
    features.run(spark, **project.step_args("catalog", "schema", "input_path"))
    step = project.step_args("catalog", "schema", "model_name", "experiment_name")
    name = project.full_model_name

    # A weak first model becomes champion when thresholds are waived: there is no champion yet.
    with monkeypatch.context() as patch:
        patch.setattr(problem, "THRESHOLDS", {})
        weak = train.run(spark, **step, params=WEAK_PARAMS)
        assert evaluate.run(spark, **step).promoted
    assert alias_version(mlflow_client, name, naming.CHAMPION) == weak.version

    # A better challenger replaces it.
    good = train.run(spark, **step)
    result = evaluate.run(spark, **step)
    assert result.promoted and result.champion_version == weak.version
    assert problem.is_better(
        result.challenger_metrics[problem.PRIMARY_METRIC],
        result.champion_metrics[problem.PRIMARY_METRIC],
    )
    assert alias_version(mlflow_client, name, naming.CHAMPION) == good.version

    # A worse one (that passes the thresholds, waived again) does not: the champion stays, and
    # the task succeeds, saying so.
    worse = train.run(spark, **step, params=WEAK_PARAMS)
    assert alias_version(mlflow_client, name, naming.CHALLENGER) == worse.version
    monkeypatch.setattr(problem, "THRESHOLDS", {})
    result = evaluate.run(spark, **step)
    assert not result.promoted
    assert result.decision == evaluate.KEPT
    assert f"Kept {name} version {good.version} as champion" in result.message
    assert f"challenger version {worse.version} " in result.message
    assert alias_version(mlflow_client, name, naming.CHAMPION) == good.version
    tags = mlflow_client.get_model_version(name, worse.version).tags
    assert tags["validation_status"] == "not_better"


def test_a_tie_keeps_the_champion_without_failing(spark, trained, mlflow_client, capsys):
    """Retraining on the same data gives the same model: not better, so no promotion, and no
    failure either (the job must not fail on every scheduled run)."""
    p = trained.project
    step = p.step_args("catalog", "schema", "model_name", "experiment_name")
    champion = alias_version(mlflow_client, p.full_model_name, naming.CHAMPION)  # shared
    again = train.run(spark, **step)
    assert again.version != champion
    capsys.readouterr()

    # Through the entry point, as the job runs it: it returns, so the task succeeds.
    evaluate.main([f"--{name.replace('_', '-')}={value}" for name, value in step.items()])

    out = capsys.readouterr().out
    metric = problem.PRIMARY_METRIC
    assert f"Kept {p.full_model_name} version {champion} as champion" in out
    assert out.count(f"{metric} = ") == 2  # both metrics, the challenger's and the champion's
    assert alias_version(mlflow_client, p.full_model_name, naming.CHAMPION) == champion
    tags = mlflow_client.get_model_version(p.full_model_name, again.version).tags
    assert tags["validation_status"] == "not_better"


def test_a_challenger_below_a_threshold_fails_the_task(spark, trained, mlflow_client, monkeypatch):
    """A broken model must stop the job: the task fails with the values, nothing is promoted."""
    p = trained.project
    step = p.step_args("catalog", "schema", "model_name", "experiment_name")
    champion = alias_version(mlflow_client, p.full_model_name, naming.CHAMPION)  # shared
    metric = problem.PRIMARY_METRIC
    # A threshold no model reaches, in the metric's direction.
    impossible = (">=", 2.0) if problem.GREATER_IS_BETTER else ("<=", -1.0)
    monkeypatch.setattr(problem, "THRESHOLDS", {metric: impossible})
    challenger = train.run(spark, **step)

    with pytest.raises(PromotionRejected) as rejected:
        evaluate.run(spark, **step)

    message = str(rejected.value)
    assert f"Challenger version {challenger.version} of {p.full_model_name} was not promoted: " in (
        message
    )
    assert f"{metric} = " in message
    assert f"required {impossible[0]} {impossible[1]}" in message
    assert f"The champion stays version {champion}." in message
    assert alias_version(mlflow_client, p.full_model_name, naming.CHAMPION) == champion
    tags = mlflow_client.get_model_version(p.full_model_name, challenger.version).tags
    assert tags["validation_status"] == "rejected"


def test_a_changed_feature_set_is_judged_on_the_thresholds(
    spark, mlflow_client, project, sample, monkeypatch
):
    """The team drops a feature column: the champion cannot score the new table, so the gate does
    not compare with it; a challenger that passes the thresholds is promoted, and says why."""
    project.write_input(sample)
    step = project.step_args("catalog", "schema", "model_name", "experiment_name")
    features.run(spark, **project.step_args("catalog", "schema", "input_path"))
    first = train.run(spark, **step)
    assert evaluate.run(spark, **step).promoted

    dropped = problem.FEATURE_COLUMNS[-1]
    monkeypatch.setattr(problem, "FEATURE_COLUMNS", problem.FEATURE_COLUMNS[:-1])
    features.run(spark, **project.step_args("catalog", "schema", "input_path"))
    assert dropped not in read_table(spark, project.feature_table).columns  # schema replaced
    second = train.run(spark, **step)
    result = evaluate.run(spark, **step)

    assert result.promoted and result.feature_set_changed
    assert result.champion_metrics is None
    assert f"Champion version {first.version} was trained on other feature columns" in (
        result.message
    )
    assert alias_version(mlflow_client, project.full_model_name, naming.CHAMPION) == second.version
