"""Every answer set renders a clean project: no leftover Jinja, lint-clean YAML and Python, the
right files, and a bundle that validates on every target."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from answer_sets import answer_sets, questions
from bundle_validation import bundle_targets, require_schema, validate_project
from yamllint import linter
from yamllint.config import YamlLintConfig

ANSWER_SETS = list(answer_sets())
# `${{ ... }}` is GitHub Actions syntax, and `{{job.parameters.x}}` a Databricks dynamic value
# reference: neither is Jinja.
LEFTOVER_JINJA = re.compile(
    r"(?<!\$)\{\{(?!(job|tasks|task|run|backfill|workspace)\.)|\{%|%\}|\{#|#\}"
)
RUFF = Path(sys.executable).with_name("ruff")


def answers_of(project: Path) -> dict:
    """Every answer, asked or defaulted, as the project recorded it, plus the derived flags."""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    for name, spec in questions().items():
        answers.setdefault(name, spec.get("default"))
    return answers


def project_files(project: Path) -> list[Path]:
    return sorted(
        path for path in project.rglob("*") if path.is_file() and ".git" not in path.parts
    )


def expected_files(answers: dict) -> dict[str, bool]:
    """Path -> whether it must exist, for this set of answers."""
    ci = answers["ci_provider"]
    package = f"src/{answers['package_name']}"
    # What tasks create in a workspace, which the cleanup job removes.
    workspace_objects = answers["include_serving_endpoint"] or answers["include_quality_monitor"]
    return {
        ".copier-answers.yml": True,
        "databricks.yml": True,
        "resources/jobs.yml": True,
        "resources/ml_resources.yml": True,
        "resources/schemas.yml": True,
        f"{package}/__init__.py": True,
        f"{package}/feature_engineering/features.py": True,
        f"{package}/training/train.py": True,
        f"{package}/training/evaluate.py": True,
        f"{package}/inference/batch_inference.py": True,
        f"{package}/inference/ground_truth.py": True,
        f"{package}/scoring.py": True,
        f"{package}/cleanup.py": workspace_objects,
        "resources/cleanup.yml": workspace_objects,
        "tests/test_cleanup.py": workspace_objects,
        f"{package}/deployment/serving_endpoint.py": answers["include_serving_endpoint"],
        f"{package}/monitoring/quality_monitor.py": answers["include_quality_monitor"],
        f"{package}/local/pipeline.py": True,
        f"{package}/local/jobs.py": True,
        "tests/test_jobs.py": True,
        "tests/test_serving_endpoint.py": answers["include_serving_endpoint"],
        "tests/test_quality_monitor.py": answers["include_quality_monitor"],
        "pyproject.toml": True,
        "Makefile": True,
        "README.md": True,
        ".gitignore": True,
        ".pre-commit-config.yaml": True,
        ".yamllint.yaml": True,
        ".github/workflows/ci.yml": ci == "github_actions",
        ".gitlab-ci.yml": ci == "gitlab",
        "azure-pipelines.yml": ci == "azure_devops",
    }


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_expected_files_present_and_conditional_files_absent(render, name):
    project = render(name)
    answers = answers_of(project)
    for relpath, wanted in expected_files(answers).items():
        assert (project / relpath).is_file() == wanted, (
            f"{relpath} should {'' if wanted else 'not '}exist"
        )
    assert list((project / "tests").glob("test_*.py")), "the project has no tests"
    assert not [path for path in project_files(project) if path.suffix == ".jinja"]


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_no_leftover_jinja(render, name):
    project = render(name)
    leftovers = [
        f"{path.relative_to(project)}:{number}: {line.strip()}"
        for path in project_files(project)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if LEFTOVER_JINJA.search(line)
    ]
    assert not leftovers, "\n".join(leftovers)


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_yaml_is_lint_clean_with_the_generated_config(render, name):
    project = render(name)
    config = YamlLintConfig(file=str(project / ".yamllint.yaml"))
    problems = [
        f"{path.relative_to(project)}:{problem.line}:{problem.column} {problem.message}"
        for path in project_files(project)
        if path.suffix in {".yml", ".yaml"}
        for problem in linter.run(path.read_text(), config, str(path))
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_python_compiles_and_is_ruff_clean(render, name):
    project = render(name)
    sources = [path for path in project_files(project) if path.suffix == ".py"]
    assert sources
    for path in sources:
        compile(path.read_text(), str(path), "exec")
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [str(RUFF), *command, "--no-cache", "."], cwd=project, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_bundle_validates_on_every_target(render, name):
    project = render(name)
    answers = answers_of(project)
    schema = require_schema()
    results = validate_project(project, schema)
    expected_targets = ["dev", "prod"] + (["staging"] if answers["include_staging"] else [])
    assert sorted(results) == sorted(expected_targets) == sorted(bundle_targets(project))
    errors = [
        f"[{target}] {error}"
        for target, target_errors in results.items()
        for error in target_errors
    ]
    assert not errors, "\n".join(errors)
