"""The answer sets the template is rendered with in tests.

The matrix is generated, not hand-written: every pair of choices of the main axes appears in at
least one answer set (pairwise coverage), so adding a choice to copier.yml adds it to the tests.
Free-text questions get non-default values in every other set, so those paths render too.
"""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent

# Axes that change the structure of the output; they are covered pairwise.
MAIN_AXES = (
    "cloud",
    "compute",
    "runtime",
    "problem_type",
    "include_staging",
    "include_serving_endpoint",
    "include_quality_monitor",
    "training_trigger",
    "ci_provider",
)

# Non-default values for the free-text questions, used in every other answer set.
CUSTOM_VALUES = {
    "project_name": "Churn Forecast (EU)",
    "project_slug": "churn_forecast-eu",
    # The longest name package_name accepts: every generated line must still fit.
    "package_name": "churn_forecast_europe_weekly_mdl",
    "node_type_id": "m5d.2xlarge",
    "num_workers": 2,
    "dev_catalog": "ml_dev",
    "staging_catalog": "ml_staging",
    "prod_catalog": "ml_prod",
    "schema": "churn",
    "model_name": "churn_classifier",
    "dev_workspace_host": "https://dev-workspace.cloud.databricks.com",
    "staging_workspace_host": "https://staging-workspace.cloud.databricks.com",
    "prod_workspace_host": "https://prod-workspace.cloud.databricks.com/",
    "prod_service_principal": "6f1c2c1e-9d1b-4a3e-8f1e-2b7c4d5e6f70",
    "ml_engineers_group": "ML Platform Engineers",
    "data_scientists_group": "analysts",
    "notification_emails": "ml-oncall@example.com, j.doe+alerts@corp.example.co.uk",
    "training_schedule": "0 30 2 ? * MON-FRI",
    "inference_schedule": "0 15 6 * * ?",
}

# The contrasting set the issue asks reviewers to read beside the default one.
CONTRAST = {
    "cloud": "azure",
    "compute": "serverless",
    "problem_type": "classification",
    "include_staging": True,
    "include_serving_endpoint": False,
    "ci_provider": "gitlab",
}


@cache
def questions() -> dict[str, dict]:
    """The questions of copier.yml (settings starting with '_' left out)."""
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    return {name: spec for name, spec in config.items() if not name.startswith("_")}


def ci_provider(answers: dict) -> str:
    """The CI provider an answer set renders (copier.yml's default when it does not say)."""
    return answers.get("ci_provider", questions()["ci_provider"]["default"])


def asked_questions() -> dict[str, dict]:
    """Questions a user can answer (derived values, `when: false`, are left out)."""
    return {name: spec for name, spec in questions().items() if spec.get("when") is not False}


def choices(name: str) -> list:
    spec = questions()[name]
    if spec.get("type") == "bool":
        return [False, True]
    listed = spec["choices"]
    return list(listed.values()) if isinstance(listed, dict) else list(listed)


def _pairs(row: dict) -> set[tuple]:
    return {((a, row[a]), (b, row[b])) for a, b in itertools.combinations(MAIN_AXES, 2)}


@cache
def pairwise_rows() -> tuple[tuple[tuple[str, object], ...], ...]:
    """A small set of rows covering every pair of main-axis choices (greedy, deterministic)."""
    axes = [[(name, value) for value in choices(name)] for name in MAIN_AXES]
    candidates = [dict(combo) for combo in itertools.product(*axes)]
    uncovered = set().union(*(_pairs(row) for row in candidates))
    rows = []
    while uncovered:
        best = max(candidates, key=lambda row: len(_pairs(row) & uncovered))
        rows.append(tuple(best.items()))
        uncovered -= _pairs(best)
    return tuple(rows)


def answer_sets() -> dict[str, dict]:
    """Named answer sets: the defaults, the contrasting set, then the pairwise matrix."""
    sets = {"defaults": {}, "contrast": dict(CONTRAST)}
    for index, row in enumerate(pairwise_rows()):
        answers = dict(row)
        if index % 2:
            answers |= CUSTOM_VALUES
        sets[f"pairwise-{index:02d}"] = answers
    return sets
