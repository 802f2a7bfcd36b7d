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
from prompts import HELP_INDENT, TERMINAL_WIDTH, message_problems, width

# One bad value per validated question, and words its error message must contain.
BAD_VALUES = {
    "project_name": [
        ("   ", "Give a name"),
        (" Churn", "Trim spaces at the ends"),
        ("Churn\nv2", "Remove tabs, line breaks"),
        ("Churn\u2028v2", "Use printable text only"),
        ("Churn ${var.schema}", "Remove ${"),
        ("Churn " * 14, "Shorten to 80 characters"),
    ],
    "project_slug": [
        ("ML Project", "Start with a letter"),
        ("ml project", "Use a-z, 0-9, - and _"),
        ("1-model", "Start with a letter"),
        ("m" * 41, "Shorten to 40 characters"),
    ],
    "package_name": [
        ("Churn", "Start with a letter"),
        ("churn-model", "Use a-z, 0-9 and _"),
        ("2fast", "Start with a letter"),
        ("c" * 33, "Shorten to 32 characters"),
        ("class", "a Python keyword"),
        ("json", "a standard library module"),
        ("logging", "a standard library module"),
        ("test", "common package or generic"),
        ("common", "common package or generic"),
        ("mlflow", "common package or generic"),
        ("pyspark", "common package or generic"),
    ],
    "node_type_id": [("i3 xlarge", "Use an id like i3.xlarge"), ("i" * 65, "Shorten to 64")],
    "num_workers": [(0, "Use 1 to 100"), (500, "Use 1 to 100")],
    "dev_catalog": [("dev-catalog", "Use a-z, 0-9, _")],
    "staging_catalog": [("Staging", "Use a-z, 0-9, _")],
    "prod_catalog": [("prod.catalog", "Use a-z, 0-9, _")],
    "schema": [("ml data", "Use a-z, 0-9, _"), ("m" * 65, "Shorten to 64 characters")],
    "model_name": [("my-model", "Use a-z, 0-9, _")],
    "dev_workspace_host": [("http://dev.cloud.databricks.com", "Use https://<host> only")],
    "staging_workspace_host": [("adb-123.azuredatabricks.net", "Use https://<host> only")],
    "prod_workspace_host": [("https://host/with/path", "Use https://<host> only")],
    "prod_service_principal": [("sp-ml-prod", "Use the app ID (a UUID)")],
    "ml_engineers_group": [
        (" ml-engineers", "Trim spaces at the ends"),
        ("ml engineers\t#prod", "Remove tabs, line breaks"),
        ("`ml`", "Remove the backquotes"),
        ("ml-${bundle.target}", "Remove ${"),
        ("ml" * 51, "Shorten to 100 characters"),
    ],
    "data_scientists_group": [("", "Give a name")],
    "notification_emails": [
        ("ml-team", "Use a@x.io, b@y.io"),
        ("a@example.com, b c@example.com", "Use a@x.io, b@y.io"),
        ('"x"@example.com', "Use a@x.io, b@y.io"),
        ("ops@example.com: ping", "Use a@x.io, b@y.io"),
    ],
    "training_schedule": [("0 3 * * 1", "Use 6 fields")],
    "inference_schedule": [
        ("0 0 * * * *", "Add ? as day-of-week"),
        ("0 0 24 * * ?", "Keep hours in 0-23"),
        ("0 0 * ? * ?", "Use ? in one day field only"),
        ("0 ? * * * *", "Put ? in a day field only"),
        ("0 0 * * * ?;", "Only 0-9 A-Z"),
        ("0 0 * * *\n?", "Separate fields by 1 space"),
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
    assert message_problems(question, str(error.value)) == []
    assert not dst.exists(), "a rejected answer left files behind"


def test_help_texts_fit_the_terminal_line_by_line():
    for name, spec in asked_questions().items():
        for line in spec["help"].splitlines():
            assert width(line) + HELP_INDENT <= TERMINAL_WIDTH, f"{name}: help cut at {line!r}"


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
