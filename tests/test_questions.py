"""The questions: help and defaults, validators that reject bad values before anything is written,
a matrix that covers every choice, and no dead questions."""

from __future__ import annotations

import filecmp
import itertools
import keyword
import sys

import pytest
import yaml
from answer_sets import (
    CUSTOM_VALUES,
    MAIN_AXES,
    REPO_ROOT,
    answer_sets,
    asked_questions,
    choices,
    pairwise_rows,
)
from conftest import render_project

# One bad value per validated question, and words its error message must contain.
BAD_VALUES = {
    "project_name": [("   ", "cannot be empty"), ('My "ML" project', "double quotes")],
    "project_slug": [("ML Project", "not a valid slug"), ("1-model", "starting with a letter")],
    "package_name": [
        ("Churn", "not a package name"),
        ("churn-model", "not a package name"),
        ("2fast", "not a package name"),
        ("c" * 33, "not a package name"),
        ("class", "is a Python keyword"),
        ("json", "is a standard library module"),
        ("logging", "is a standard library module"),
        ("test", "too generic"),
        ("common", "too generic"),
        ("mlflow", "import name of a common package"),
        ("pyspark", "import name of a common package"),
    ],
    "node_type_id": [("i3 xlarge", "not a node type id")],
    "num_workers": [(0, "between 1 and 100"), (500, "between 1 and 100")],
    "dev_catalog": [("dev-catalog", "not a Unity Catalog name")],
    "staging_catalog": [("Staging", "not a Unity Catalog name")],
    "prod_catalog": [("prod.catalog", "not a Unity Catalog name")],
    "schema": [("ml data", "not a Unity Catalog name")],
    "model_name": [("my-model", "not a Unity Catalog name")],
    "dev_workspace_host": [("http://dev.cloud.databricks.com", "not a workspace URL")],
    "staging_workspace_host": [("adb-123.azuredatabricks.net", "not a workspace URL")],
    "prod_workspace_host": [("https://host/with/path", "not a workspace URL")],
    "prod_service_principal": [("sp-ml-prod", "not an application ID")],
    "ml_engineers_group": [(" ml-engineers", "not a usable group name")],
    "data_scientists_group": [("", "not a usable group name")],
    "notification_emails": [
        ("ml-team", "is not an e-mail address"),
        ("a@example.com, b c@example.com", '"b c@example.com" is not an e-mail address'),
        ('"x"@example.com', "is not an e-mail address"),
        ("ops@example.com: ping", "is not an e-mail address"),
    ],
    "training_schedule": [("0 3 * * 1", "not a Quartz cron expression")],
    "inference_schedule": [
        ("0 0 * * * *", "not a Quartz cron expression"),
        ("0 0 24 * * ?", "not a Quartz cron expression"),
        ("0 0 * ? * ?", "not a Quartz cron expression"),
    ],
}

# Answers that make a conditional question asked, so that its validator runs.
ENABLING = {
    "staging_catalog": {"include_staging": True},
    "staging_workspace_host": {"include_staging": True},
    "training_schedule": {"training_trigger": "schedule"},
}


def test_package_names_refused_cover_the_standard_library_and_keywords():
    """The list package_name's validator reads (includes/reserved_package_names.yml) is current."""
    reserved = yaml.safe_load((REPO_ROOT / "includes" / "reserved_package_names.yml").read_text())
    standard = {name for name in sys.stdlib_module_names if not name.startswith("_")}
    assert standard <= set(reserved["standard_library"])
    assert set(keyword.kwlist) - {"False", "None", "True"} <= set(reserved["keywords"])


def test_every_question_has_help_and_a_default():
    for name, spec in asked_questions().items():
        assert spec.get("help", "").strip(), f"{name} has no help"
        assert "default" in spec, f"{name} has no default"


def test_every_validated_question_has_a_bad_value_case():
    validated = {name for name, spec in asked_questions().items() if "validator" in spec}
    assert validated == set(BAD_VALUES)


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [(q, value, message) for q, cases in BAD_VALUES.items() for value, message in cases],
)
def test_validator_rejects_bad_value_and_writes_nothing(
    copier_template, tmp_path, question, value, message
):
    dst = tmp_path / "project"
    with pytest.raises(ValueError, match=f"question '{question}'") as error:
        render_project(copier_template, dst, {**ENABLING.get(question, {}), question: value})
    assert message in str(error.value)
    assert not dst.exists(), "a rejected answer left files behind"


@pytest.mark.parametrize("question", sorted(CUSTOM_VALUES))
def test_custom_values_pass_their_validators(copier_template, tmp_path, question):
    answers = {**ENABLING.get(question, {}), question: CUSTOM_VALUES[question]}
    assert (
        render_project(copier_template, tmp_path / "project", answers) / "databricks.yml"
    ).is_file()


def test_matrix_covers_every_choice_of_every_question():
    sets = list(answer_sets().values())
    defaults = {name: spec["default"] for name, spec in asked_questions().items()}
    for name, spec in asked_questions().items():
        if "choices" not in spec and spec.get("type") != "bool":
            continue
        used = {answers.get(name, defaults[name]) for answers in sets}
        assert used == set(choices(name)), f"{name}: {set(choices(name)) - used} never rendered"


def test_matrix_covers_every_pair_of_main_axes():
    rows = [dict(row) for row in pairwise_rows()]
    for a, b in itertools.combinations(MAIN_AXES, 2):
        for pair in itertools.product(choices(a), choices(b)):
            assert any((row[a], row[b]) == pair for row in rows), (
                f"{a}, {b} = {pair} never rendered"
            )


def _alternative(name: str, spec: dict):
    """A valid value other than the default."""
    if name in CUSTOM_VALUES:
        return CUSTOM_VALUES[name]
    return next(value for value in choices(name) if value != spec["default"])


def _differs(left, right) -> bool:
    comparison = filecmp.dircmp(left, right, ignore=[".copier-answers.yml"])
    stack = [comparison]
    while stack:
        current = stack.pop()
        if current.left_only or current.right_only or current.diff_files or current.funny_files:
            return True
        stack.extend(current.subdirs.values())
    return False


@pytest.mark.parametrize("question", sorted(asked_questions()))
def test_every_answer_changes_the_output(copier_template, render, tmp_path, question):
    spec = asked_questions()[question]
    enabling = ENABLING.get(question, {})
    baseline = render_project(copier_template, tmp_path / "baseline", enabling)
    changed = render_project(
        copier_template, tmp_path / "changed", {**enabling, question: _alternative(question, spec)}
    )
    assert _differs(baseline, changed), (
        f"answering {question} differently changes no generated file"
    )


def test_copy_needs_no_trust(render):
    # conftest renders with unsafe=False: a template needing --trust would have failed to render.
    assert (render("defaults") / "databricks.yml").is_file()
