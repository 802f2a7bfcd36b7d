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
from bundle_validation import bundle_targets, merge_bundle, require_schema, validate_project
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


DEPLOYER = "${workspace.current_user.userName}"


@pytest.mark.parametrize("name", ["defaults", "contrast"])
def test_each_target_names_the_identity_that_deploys_it(render, name):
    """A person deploys dev; CI's service principal deploys staging and prod, and the permissions
    API takes a service principal only as service_principal_name (its application ID)."""
    project = render(name)
    for target in bundle_targets(project):
        tree, _ = merge_bundle(project, target)
        deployers = [
            entry
            for entry in tree["permissions"]
            if DEPLOYER in entry.values() and entry["level"] == "CAN_MANAGE"
        ]
        key = "user_name" if target == "dev" else "service_principal_name"
        assert deployers == [{"level": "CAN_MANAGE", key: DEPLOYER}], (target, tree["permissions"])


def _tasks(tree: dict) -> dict[str, dict]:
    return {
        task["task_key"]: task
        for job in tree["resources"]["jobs"].values()
        for task in job.get("tasks", [])
    }


@pytest.mark.parametrize("name", ["defaults", "contrast", "pairwise-01"])
def test_prod_lets_the_team_view_and_query_but_not_manage(render, name):
    """In prod only the service principal changes things: the team queries the endpoint and reads
    the dashboard there; elsewhere it manages them."""
    project = render(name)
    answers = answers_of(project)
    for target in bundle_targets(project):
        tasks = _tasks(merge_bundle(project, target)[0])
        levels = {
            key: tasks[key]["python_wheel_task"]["named_parameters"]["manage_permission"]
            for key in ("deploy_serving_endpoint", "refresh_quality_monitor")
            if key in tasks
        }
        expected = {"deploy_serving_endpoint": "CAN_QUERY", "refresh_quality_monitor": "CAN_READ"}
        if target != "prod":
            expected = dict.fromkeys(expected, "CAN_MANAGE")
        assert levels == {key: expected[key] for key in levels}, (target, levels)
        assert bool(levels) == (
            answers["include_serving_endpoint"] or answers["include_quality_monitor"]
        )


@pytest.mark.parametrize("name", ["pairwise-01", "pairwise-03"])
def test_the_run_as_service_principal_gets_what_its_tasks_need(render, name):
    project = render(name)
    principal = answers_of(project)["prod_service_principal"]
    assert principal, "this answer set must name a prod service principal"
    tree, _ = merge_bundle(project, "prod")
    resources = tree["resources"]

    def granted(resource: dict) -> set[str]:
        return {
            privilege
            for grant in resource.get("grants", [])
            if grant["principal"] == principal
            for privilege in grant["privileges"]
        }

    assert {"USE_SCHEMA", "SELECT", "MODIFY", "CREATE_TABLE", "CREATE_MODEL"} <= granted(
        resources["schemas"]["ml_schema"]
    )
    assert "READ_VOLUME" in granted(resources["volumes"]["input"])
    assert {"EXECUTE", "MANAGE"} <= granted(resources["registered_models"]["model"])
    assert {"level": "CAN_MANAGE", "service_principal_name": principal} in tree["permissions"]
    for key, job in resources["jobs"].items():
        assert job["run_as"] == {"service_principal_name": principal}, key
    # Only prod: dev and staging know nothing of it.
    for target in bundle_targets(project):
        if target != "prod":
            assert principal not in str(merge_bundle(project, target)[0]), target


@pytest.mark.parametrize("name", ["defaults", "pairwise-01"])
def test_failures_reach_the_team_from_staging_and_prod_only(render, name):
    project = render(name)
    emails = [
        address.strip()
        for address in answers_of(project)["notification_emails"].split(",")
        if address.strip()
    ]
    for target in bundle_targets(project):
        jobs = merge_bundle(project, target)[0]["resources"]["jobs"]
        for key, job in jobs.items():
            notified = (job.get("email_notifications") or {}).get("on_failure", [])
            quiet = target == "dev" or key == "cleanup"
            assert notified == ([] if quiet else emails), (target, key)
            if key != "cleanup":
                (rule,) = job["health"]["rules"]
                assert rule["metric"] == "RUN_DURATION_SECONDS"
                assert rule["value"] < job["timeout_seconds"]
            assert job["tags"] == {"project": "${bundle.name}", "target": "${bundle.target}"}


@pytest.mark.parametrize("name", ["defaults", "pairwise-05"])
def test_only_spark_steps_run_on_the_sized_cluster(render, name):
    project = render(name)
    tasks = _tasks(merge_bundle(project, "dev")[0])
    spark_steps = {"feature_engineering", "batch_inference", "merge_ground_truth"}
    for key, task in tasks.items():
        expected = "ml_cluster" if key in spark_steps else "single_node"
        assert task["job_cluster_key"] == expected, key
