"""The promotion gate: champion only when the challenger passes and is better."""

from __future__ import annotations

import pytest

from common import naming, problem
from common.errors import PromotionRejected
from common.tracking import alias_version
from feature_engineering import features
from training import evaluate, train

# A model that cannot learn much: one shallow tree, tiny steps.
WEAK_PARAMS = {"max_iter": 1, "max_leaf_nodes": 2, "learning_rate": 0.01}


def test_first_model_passing_the_thresholds_becomes_champion(trained, mlflow_client):
    result = trained.evaluation
    name = trained.project.full_model_name

    assert result.promoted
    assert result.champion_version is None
    assert problem.failed_thresholds(result.challenger_metrics) == []
    assert alias_version(mlflow_client, name, naming.CHAMPION) == trained.training.version


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

    # A worse one does not: the task fails, saying why, and the champion stays.
    worse = train.run(spark, **step, params=WEAK_PARAMS)
    assert alias_version(mlflow_client, name, naming.CHALLENGER) == worse.version
    with pytest.raises(PromotionRejected) as rejected:
        evaluate.run(spark, **step)
    message = str(rejected.value)
    assert f"version {worse.version}" in message
    assert "does not beat the champion" in message
    assert f"champion stays version {good.version}" in message
    assert alias_version(mlflow_client, name, naming.CHAMPION) == good.version
    tags = mlflow_client.get_model_version(name, worse.version).tags
    assert tags["validation_status"] == "rejected"


def test_equal_challenger_is_not_promoted(spark, trained, mlflow_client):
    """Retraining on the same data gives the same model: not better, so no promotion."""
    p = trained.project
    step = p.step_args("catalog", "schema", "model_name", "experiment_name")
    again = train.run(spark, **step)
    with pytest.raises(PromotionRejected, match="does not beat the champion"):
        evaluate.run(spark, **step)
    assert alias_version(mlflow_client, p.full_model_name, naming.CHAMPION) == (
        trained.training.version
    )
    assert again.version != trained.training.version


def test_fail_on_rejection_false_reports_without_failing(spark, trained, mlflow_client, capsys):
    """CI runs the job with fail_on_rejection=false: a rejection is printed, the task succeeds."""
    p = trained.project
    step = p.step_args("catalog", "schema", "model_name", "experiment_name")
    args = [f"--{name.replace('_', '-')}={value}" for name, value in step.items()]
    champion = alias_version(mlflow_client, p.full_model_name, naming.CHAMPION)
    train.run(spark, **step)  # same data, same model: a tie, which the gate rejects
    with pytest.raises(PromotionRejected):  # a challenger no better than the champion: default
        evaluate.main([*args])
    evaluate.main([*args, "--fail-on-rejection=false"])
    assert "Not promoted, and not failing" in capsys.readouterr().out
    assert alias_version(mlflow_client, p.full_model_name, naming.CHAMPION) == champion
