"""Evaluation and promotion.

Scores the `challenger` and the current `champion` on the held-out rows of the feature
table, then decides:
- below an absolute threshold: this task fails, with the metric values and thresholds in the
  error, and the job stops (a broken model must not go further);
- not better than the champion on the primary metric, a tie included (retraining on unchanged
  data gives the same model): the champion is kept, nothing is promoted, and the task succeeds;
- otherwise (or if there is no champion yet): the challenger becomes `champion`, and its
  held-out rows, scored, become the quality monitor's baseline
  (`<catalog>.<schema>.predictions_baseline`).
A champion trained on other feature columns (the team changed them) cannot score the current
feature table, so it cannot be compared: the challenger is then judged on the thresholds alone,
and the run says so (tag `feature_set_changed`). Keeping a champion that cannot score the new
inputs would stop batch inference instead.
The decision is printed, logged as a run in the experiment (tag `decision`) and tagged on the
challenger version (`validation_status`: `passed`, `not_better` or `rejected`). The serving task
that follows reconciles the endpoint with the current champion, so it changes nothing when the
champion was kept.

The gate (primary metric, direction, thresholds) is in the problem module
(`src/ml_project/problem.py`).

Entry point `evaluate` (the task of that name in resources/jobs.yml; locally
`uv run evaluate --help`). Parameters: `catalog`, `schema`, `model_name` (bare),
`experiment_name`, and optionally `git_commit` (recorded on the run).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mlflow
import pandas as pd
from pyspark.sql import SparkSession

from ml_project import config, naming, problem
from ml_project.data import ROW_ID, features_and_label, held_out_rows, split
from ml_project.errors import PromotionRejected
from ml_project.params import get_params
from ml_project.scoring import score_frame
from ml_project.spark import get_spark, read_table, write_table
from ml_project.tracking import (
    alias_version,
    git_commit_tags,
    log_model_metrics,
    model_features,
    model_uri,
    setup_mlflow,
    version_model_id,
)

# Decisions (the `decision` tag of the evaluation run). A threshold failure raises instead.
PROMOTED = "promoted"  # the challenger is the new champion
KEPT = "kept"  # not better than the champion (a tie included): the champion stays
UNCHANGED = "unchanged"  # the challenger already is the champion (evaluate ran again)

# The `validation_status` tag of the challenger version, per outcome.
VALIDATION_STATUS = {PROMOTED: "passed", UNCHANGED: "passed", KEPT: "not_better"}
REJECTED_STATUS = "rejected"


@dataclass(frozen=True)
class EvaluationResult:
    model_name: str
    challenger_version: str
    challenger_metrics: dict[str, float]
    champion_version: str | None
    champion_metrics: dict[str, float] | None
    decision: str
    message: str
    feature_set_changed: bool = False

    @property
    def promoted(self) -> bool:
        return self.decision == PROMOTED


def _load(model_name: str, version: str) -> Any:
    return mlflow.sklearn.load_model(model_uri(model_name, version))


def write_baseline(
    spark: SparkSession, catalog: str, schema: str, test: pd.DataFrame, model: Any, version: str
) -> str:
    """The new champion's held-out rows, scored and labelled: what the quality monitor compares
    the predictions with (drift, and model quality). Returns the table's name."""
    table = naming.baseline_table(catalog, schema)
    records = test.rename(columns={ROW_ID: naming.RECORD_ID})
    scored = score_frame(spark, records, model, version)
    write_table(scored, table, mode="overwrite", replace_schema=True)
    return table


def run(
    spark: SparkSession,
    catalog: str,
    schema: str,
    model_name: str,
    experiment_name: str,
    git_commit: str = "",
) -> EvaluationResult:
    """Promote the challenger if it passes the thresholds and beats the champion; keep the
    champion, without failing, if it does not beat it; raise PromotionRejected, saying why, if
    it misses a threshold."""
    full_name = naming.model_name(catalog, schema, model_name)
    client = setup_mlflow(experiment_name)
    challenger = alias_version(client, full_name, naming.CHALLENGER)
    if challenger is None:
        raise PromotionRejected(
            f"{full_name} has no '{naming.CHALLENGER}' version: run the training step first."
        )
    champion = alias_version(client, full_name, naming.CHAMPION)

    # Only the held-out rows leave Spark; split() orders them as training saw them.
    held_out = held_out_rows(read_table(spark, naming.feature_table(catalog, schema)))
    _, test = split(held_out.toPandas())
    features, labels = features_and_label(test)
    challenger_model = _load(full_name, challenger)
    challenger_metrics = problem.compute_metrics(challenger_model, features, labels)
    champion_metrics = None
    feature_change = ""
    if champion is not None and champion != challenger:
        champion_model = _load(full_name, champion)
        trained_on = model_features(champion_model)
        if trained_on is None or trained_on == problem.FEATURE_COLUMNS:
            champion_metrics = problem.compute_metrics(champion_model, features, labels)
        else:
            feature_change = (
                f" Champion version {champion} was trained on other feature columns "
                f"({', '.join(trained_on)}) and cannot score the current feature table, so the "
                "challenger was judged on the thresholds alone."
            )

    metric = problem.PRIMARY_METRIC
    failures = problem.failed_thresholds(challenger_metrics)
    if failures:
        decision = None
    elif champion == challenger:
        decision = UNCHANGED
    elif champion_metrics is not None and not problem.is_better(
        challenger_metrics[metric], champion_metrics[metric]
    ):
        decision = KEPT
    else:
        decision = PROMOTED

    with mlflow.start_run(run_name=f"evaluate v{challenger}", tags=git_commit_tags(git_commit)):
        mlflow.set_tags(
            {
                "model_name": full_name,
                "challenger_version": challenger,
                "champion_version": champion or "none",
                "decision": decision or REJECTED_STATUS,
                "feature_set_changed": str(bool(feature_change)).lower(),
            }
        )
        log_model_metrics(
            {f"challenger_{k}": v for k, v in challenger_metrics.items()},
            version_model_id(client, full_name, challenger),
        )
        if champion_metrics is not None:
            assert champion is not None
            log_model_metrics(
                {f"champion_{k}": v for k, v in champion_metrics.items()},
                version_model_id(client, full_name, champion),
            )

    client.set_model_version_tag(
        full_name,
        challenger,
        "validation_status",
        VALIDATION_STATUS[decision] if decision else REJECTED_STATUS,
    )
    if decision is None:
        # A broken model must stop the job: nothing downstream runs.
        kept = f" The champion stays version {champion}." if champion else ""
        raise PromotionRejected(
            f"Challenger version {challenger} of {full_name} was not promoted: "
            + "; ".join(failures)
            + "."
            + kept
            + feature_change
        )
    if decision == PROMOTED:
        # The baseline first: a champion is never without its baseline.
        baseline = write_baseline(spark, catalog, schema, test, challenger_model, challenger)
        client.set_registered_model_alias(full_name, naming.CHAMPION, challenger)
        message = (
            f"Promoted {full_name} version {challenger} to {naming.CHAMPION}: "
            f"{challenger_metrics}. Baseline: {baseline}." + feature_change
        )
    elif decision == KEPT:
        assert champion_metrics is not None
        direction = "higher" if problem.GREATER_IS_BETTER else "lower"
        message = (
            f"Kept {full_name} version {champion} as {naming.CHAMPION}: challenger version "
            f"{challenger} has {metric} = {challenger_metrics[metric]:.4f}, not better than the "
            f"champion's {metric} = {champion_metrics[metric]:.4f} ({direction} is better). "
            "Nothing to promote; this is not an error."
        )
    else:
        message = f"{full_name} version {challenger} is already the {naming.CHAMPION}."
    print(message)
    return EvaluationResult(
        full_name,
        challenger,
        challenger_metrics,
        champion,
        champion_metrics,
        decision,
        message,
        bool(feature_change),
    )


def main(argv: Sequence[str] | None = None) -> None:
    params = get_params(
        ["catalog", "schema", "model_name", "experiment_name", "git_commit"],
        "Promote the challenger to champion if it passes the gate.",
        argv=argv,
        optional=["git_commit"],
        local_defaults={"git_commit": lambda _: config.local_git_commit()},
    )
    run(get_spark(), **params)


if __name__ == "__main__":
    main()
