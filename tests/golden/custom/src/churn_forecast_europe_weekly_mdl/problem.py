"""The regression problem: data columns, estimator, metrics and the promotion gate.

Everything specific to the problem type lives here. The columns are those of the local sample,
scikit-learn's bundled diabetes dataset (442 patients, disease progression after one year,
churn_forecast_europe_weekly_mdl.local.sample_data); replace them with your own data's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

from churn_forecast_europe_weekly_mdl import naming

PROBLEM_TYPE = "regression"
LABEL_COLUMN = "target"
FEATURE_COLUMNS = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
# Spark type of the label in the feature and predictions tables.
LABEL_TYPE = "double"
# What batch inference writes per record (see predict), with Spark types.
PREDICTION_COLUMNS = {naming.PREDICTION_COLUMN: "double"}

# The gate: a challenger must pass every threshold, then beat the champion on the primary metric.
PRIMARY_METRIC = "rmse"
GREATER_IS_BETTER = False
THRESHOLDS: dict[str, tuple[str, float]] = {"r2": (">=", 0.25)}

# Lakehouse Monitoring problem type of the predictions table.
MONITOR_PROBLEM_TYPE = "PROBLEM_TYPE_REGRESSION"

DEFAULT_PARAMS: dict[str, Any] = {
    "learning_rate": 0.02,
    "max_iter": 300,
    "max_leaf_nodes": 4,
    "min_samples_leaf": 30,
    "l2_regularization": 1.0,
    "random_state": 42,
}


def make_estimator(params: dict[str, Any]) -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(**params)


def predict(model: Any, features: pd.DataFrame) -> pd.DataFrame:
    """The model's output per row: the PREDICTION_COLUMNS."""
    return pd.DataFrame({naming.PREDICTION_COLUMN: model.predict(features)}, index=features.index)


def compute_metrics(model: Any, features: pd.DataFrame, labels: pd.Series) -> dict[str, float]:
    predicted = model.predict(features)
    return {
        "rmse": float(np.sqrt(mean_squared_error(labels, predicted))),
        "mae": float(mean_absolute_error(labels, predicted)),
        "r2": float(r2_score(labels, predicted)),
    }


def is_better(candidate: float, reference: float) -> bool:
    """True if `candidate` is strictly better than `reference` on the primary metric."""
    return candidate > reference if GREATER_IS_BETTER else candidate < reference


def failed_thresholds(metrics: dict[str, float]) -> list[str]:
    """One readable line per threshold the metrics miss (empty when all pass)."""
    failures = []
    for metric, (operator, limit) in THRESHOLDS.items():
        value = metrics[metric]
        passed = value >= limit if operator == ">=" else value <= limit
        if not passed:
            failures.append(f"{metric} = {value:.4f}, required {operator} {limit}")
    return failures
