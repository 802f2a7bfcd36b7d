"""The classification problem: data columns, estimator, metrics and the promotion gate.

Everything specific to the problem type lives here. The columns are those of the local sample,
scikit-learn's bundled breast cancer dataset (569 tumours, 1 = benign, 0 = malignant,
ml_project.local.sample_data); replace them with your own data's.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from ml_project import naming

PROBLEM_TYPE = "classification"
LABEL_COLUMN = "target"
FEATURE_COLUMNS = [
    "mean_radius", "mean_texture", "mean_perimeter", "mean_area", "mean_smoothness",
    "mean_compactness", "mean_concavity", "mean_concave_points", "mean_symmetry",
    "mean_fractal_dimension", "radius_error", "texture_error", "perimeter_error", "area_error",
    "smoothness_error", "compactness_error", "concavity_error", "concave_points_error",
    "symmetry_error", "fractal_dimension_error", "worst_radius", "worst_texture",
    "worst_perimeter", "worst_area", "worst_smoothness", "worst_compactness", "worst_concavity",
    "worst_concave_points", "worst_symmetry", "worst_fractal_dimension",
]  # fmt: skip
# Spark type of the label in the feature and predictions tables. Two classes (0 and 1 in the
# sample); the greater is the positive class, whose probability batch inference writes.
LABEL_TYPE = "int"
# What batch inference writes per record (see predict), with Spark types.
PREDICTION_COLUMNS = {naming.PREDICTION_COLUMN: "int", naming.PROBABILITY_COLUMN: "double"}

# The gate: a challenger must pass every threshold, then beat the champion on the primary metric.
PRIMARY_METRIC = "roc_auc"
GREATER_IS_BETTER = True
THRESHOLDS: dict[str, tuple[str, float]] = {"roc_auc": (">=", 0.9), "accuracy": (">=", 0.85)}

# Lakehouse Monitoring problem type of the predictions table.
MONITOR_PROBLEM_TYPE = "PROBLEM_TYPE_CLASSIFICATION"

DEFAULT_PARAMS: dict[str, Any] = {
    "learning_rate": 0.1,
    "max_iter": 100,
    "max_leaf_nodes": 15,
    "random_state": 42,
}


def make_estimator(params: dict[str, Any]) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(**params)


def predict(model: Any, features: pd.DataFrame) -> pd.DataFrame:
    """The model's output per row: the PREDICTION_COLUMNS, the class and the probability of the
    positive class, the second of model.classes_ (1 for labels 0 and 1)."""
    return pd.DataFrame(
        {
            naming.PREDICTION_COLUMN: model.predict(features).astype("int32"),
            naming.PROBABILITY_COLUMN: model.predict_proba(features)[:, 1],
        },
        index=features.index,
    )


def compute_metrics(model: Any, features: pd.DataFrame, labels: pd.Series) -> dict[str, float]:
    predicted = model.predict(features)
    probability = model.predict_proba(features)[:, 1]
    return {
        "roc_auc": float(roc_auc_score(labels, probability)),
        "accuracy": float(accuracy_score(labels, predicted)),
        "f1": float(f1_score(labels, predicted)),
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
