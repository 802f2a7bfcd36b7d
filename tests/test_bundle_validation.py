"""Each check of bundle_validation can fail and can pass, on small bundles written in tmp_path."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import bundle_validation as bv
import pytest
import yaml

DATABRICKS_YML = """\
bundle:
  name: demo

include:
  - resources/*.yml

variables:
  catalog:
    description: Unity Catalog catalog
    default: main
  schema:
    default: ml
  scale_to_zero:
    default: true
  service_principal:
    default: 00000000-0000-0000-0000-000000000000

targets:
  dev:
    mode: development
    default: true
  prod:
    mode: production
    workspace:
      root_path: /Workspace/Shared/.bundle/${bundle.name}/${bundle.target}
    variables:
      catalog: prod
      scale_to_zero: false
    run_as:
      service_principal_name: ${var.service_principal}
"""

JOBS_YML = """\
resources:
  jobs:
    train:
      name: ${bundle.name}-train-${bundle.target}
      job_clusters:
        - job_cluster_key: main
          new_cluster:
            spark_version: 15.4.x-cpu-ml-scala2.12
            node_type_id: i3.xlarge
            num_workers: 1
      tasks:
        - task_key: train
          job_cluster_key: main
          notebook_task:
            notebook_path: ../src/train.py
            base_parameters:
              catalog: ${var.catalog}
              model: ${resources.registered_models.model.name}
      trigger:
        file_arrival:
          url: /Volumes/${var.catalog}/${var.schema}/landing/
"""

ML_YML = """\
resources:
  registered_models:
    model:
      name: demo_model
      catalog_name: ${var.catalog}
      schema_name: ${var.schema}
      grants:
        - principal: account users
          privileges: [EXECUTE]
  volumes:
    landing:
      catalog_name: ${var.catalog}
      schema_name: ${var.schema}
      name: landing
  model_serving_endpoints:
    serving:
      name: ${bundle.name}-${bundle.target}
      config:
        served_entities:
          - name: champion
            entity_name: ${var.catalog}.${var.schema}.demo_model
            entity_version: "1"
            workload_size: Small
            scale_to_zero_enabled: ${var.scale_to_zero}
        traffic_config:
          routes:
            - served_entity_name: champion
              traffic_percentage: 100
      ai_gateway:
        inference_table_config:
          enabled: true
          catalog_name: ${var.catalog}
          schema_name: ${var.schema}
  quality_monitors:
    monitor:
      table_name: ${var.catalog}.${var.schema}.predictions
      output_schema_name: ${var.catalog}.${var.schema}
      assets_dir: /Workspace/Shared/${bundle.name}/monitor
      inference_log:
        granularities: ["1 day"]
        model_id_col: model_version
        prediction_col: prediction
        problem_type: PROBLEM_TYPE_CLASSIFICATION
        timestamp_col: ts
"""

NOTEBOOK = "# Databricks notebook source\nprint('train')\n"


def write_bundle(
    root: Path,
    *,
    databricks: str | None = DATABRICKS_YML,
    jobs: str | None = JOBS_YML,
    ml: str | None = ML_YML,
    notebook: str | None = NOTEBOOK,
    extra: dict[str, str] | None = None,
) -> Path:
    """The clean bundle, with some files replaced (or left out when None)."""
    files = {
        "databricks.yml": databricks,
        "resources/jobs.yml": jobs,
        "resources/ml.yml": ml,
        "src/train.py": notebook,
        **(extra or {}),
    }
    for rel, text in files.items():
        if text is not None:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(textwrap.dedent(text))
    return root


def jobs_yml(old: str, new: str) -> str:
    assert old in JOBS_YML
    return JOBS_YML.replace(old, new)


def ml_yml(old: str, new: str) -> str:
    assert old in ML_YML
    return ML_YML.replace(old, new)


def errors_of(project: Path, schema: dict | None = None) -> list[str]:
    """All errors of all targets."""
    return [e for errors in bv.validate_project(project, schema).values() for e in errors]


def assert_error(project: Path, *fragments: str, schema: dict | None = None) -> None:
    errors = errors_of(project, schema)
    assert any(all(f in e for f in fragments) for e in errors), (fragments, errors)


@pytest.fixture
def schema() -> dict:
    return bv.require_schema()


# --------------------------------------------------------------------------- clean bundle


def test_clean_bundle_passes_every_target(tmp_path, schema):
    assert bv.validate_project(write_bundle(tmp_path), schema) == {"dev": [], "prod": []}


def test_clean_bundle_passes_without_schema(tmp_path):
    assert bv.validate_project(write_bundle(tmp_path), None) == {"dev": [], "prod": []}


def test_one_target_validates_well_under_a_second(tmp_path, schema):
    project = write_bundle(tmp_path)
    bv.validate_project(project, schema)  # warm up: imports, compiled validator
    start = time.perf_counter()
    results = bv.validate_project(project, schema)
    assert (time.perf_counter() - start) / len(results) < 0.5


# --------------------------------------------------------------------------- merging


def test_target_overrides_are_merged_like_the_cli(tmp_path):
    target = """\
      prod:
        mode: production
        workspace:
          root_path: /Workspace/Shared/demo
        variables:
          catalog: prod
          schema:
            default: ml_${var.catalog}
        resources:
          jobs:
            train:
              tasks:
                - task_key: train
                  max_retries: 2
                  notebook_task:
                    base_parameters:
                      extra: "yes"
              job_clusters:
                - job_cluster_key: main
                  new_cluster:
                    num_workers: 4
    """
    text = DATABRICKS_YML.split("  prod:")[0] + textwrap.indent(textwrap.dedent(target), "  ")
    project = write_bundle(tmp_path, databricks=text)

    merged, sources = bv.merge_bundle(project, "prod")

    assert "targets" not in merged
    assert merged["bundle"]["mode"] == "production"
    assert merged["variables"]["catalog"]["default"] == "prod"
    assert merged["variables"]["schema"]["default"] == "ml_prod"  # variables may use variables
    job = merged["resources"]["jobs"]["train"]
    [task] = job["tasks"]  # merged by task_key, not appended
    assert task["max_retries"] == 2
    assert task["notebook_task"]["notebook_path"] == "../src/train.py"
    assert task["notebook_task"]["base_parameters"] == {
        "catalog": "prod",
        "model": "${resources.registered_models.model.name}",
        "extra": "yes",
    }
    [cluster] = job["job_clusters"]
    assert cluster["new_cluster"]["num_workers"] == 4
    assert cluster["new_cluster"]["spark_version"] == "15.4.x-cpu-ml-scala2.12"
    assert job["trigger"]["file_arrival"]["url"] == "/Volumes/prod/ml_prod/landing/"
    assert sources["resources.jobs.train"] == project / "resources/jobs.yml"
    assert sources["resources.registered_models.model"] == project / "resources/ml.yml"
    # The dev target is untouched by prod's overrides.
    dev, _ = bv.merge_bundle(project, "dev")
    assert dev["variables"]["catalog"]["default"] == "main"
    assert "max_retries" not in dev["resources"]["jobs"]["train"]["tasks"][0]


def test_whole_string_reference_keeps_the_variable_type(tmp_path):
    merged, _ = bv.merge_bundle(write_bundle(tmp_path), "prod")
    entity = merged["resources"]["model_serving_endpoints"]["serving"]["config"]["served_entities"]
    assert entity[0]["scale_to_zero_enabled"] is False
    assert merged["run_as"] == {"service_principal_name": "00000000-0000-0000-0000-000000000000"}
    # References the CLI resolves at deploy time stay as they are.
    assert merged["resources"]["jobs"]["train"]["name"] == "${bundle.name}-train-${bundle.target}"


def test_complex_variables(tmp_path):
    cluster = """\
      cluster:
        type: complex
        default:
          spark_version: 15.4.x-cpu-ml-scala2.12
          node_type_id: i3.xlarge
          num_workers: 1
    """
    text = DATABRICKS_YML.replace(
        "variables:\n", "variables:\n" + textwrap.indent(textwrap.dedent(cluster), "  "), 1
    )
    jobs = jobs_yml(
        """new_cluster:
            spark_version: 15.4.x-cpu-ml-scala2.12
            node_type_id: i3.xlarge
            num_workers: 1""",
        "new_cluster: ${var.cluster}",
    ).replace("catalog: ${var.catalog}", "catalog: ${var.cluster.node_type_id}")
    project = write_bundle(tmp_path, databricks=text, jobs=jobs)
    merged, _ = bv.merge_bundle(project, "dev")
    job = merged["resources"]["jobs"]["train"]
    assert job["job_clusters"][0]["new_cluster"]["num_workers"] == 1
    assert job["tasks"][0]["notebook_task"]["base_parameters"]["catalog"] == "i3.xlarge"
    assert yaml.safe_load(yaml.safe_dump(merged)) == merged  # plain data, no str subclasses
    assert errors_of(project) == []


def test_a_target_path_override_resolves_against_the_file_that_names_it(tmp_path):
    override = """\
      resources:
        jobs:
          train:
            tasks:
              - task_key: train
                notebook_task:
                  notebook_path: ./src/train.py
    """
    text = DATABRICKS_YML + textwrap.indent(textwrap.dedent(override), "    ")
    project = write_bundle(tmp_path, databricks=text)
    assert bv.validate_project(project, None)["prod"] == []  # ./src is right from databricks.yml


def test_a_resource_only_a_target_defines(tmp_path):
    job = """\
      resources:
        jobs:
          smoke:
            name: smoke
            tasks:
              - task_key: smoke
                notebook_task:
                  notebook_path: ./src/smoke.py
    """
    text = DATABRICKS_YML + textwrap.indent(textwrap.dedent(job), "    ")
    project = write_bundle(tmp_path, databricks=text)
    _, sources = bv.merge_bundle(project, "prod")
    assert sources["resources.jobs.smoke"] == project / "databricks.yml"
    assert "smoke" not in bv.merge_bundle(project, "dev")[0]["resources"]["jobs"]
    assert_error(
        project, "jobs.smoke.tasks[0].notebook_task.notebook_path", "no notebook at src/smoke.py"
    )
    (project / "src/smoke.py").write_text(NOTEBOOK)
    assert errors_of(project) == []


def test_bundle_targets(tmp_path):
    assert bv.bundle_targets(write_bundle(tmp_path)) == ["dev", "prod"]
    no_targets = DATABRICKS_YML.split("targets:")[0]
    assert bv.bundle_targets(write_bundle(tmp_path, databricks=no_targets)) == ["default"]


def test_include_globs_merge_sorted_files(tmp_path):
    before, rest = ML_YML.split("  volumes:\n")
    volumes, after = rest.split("  model_serving_endpoints:\n")
    project = write_bundle(
        tmp_path,
        ml=None,
        extra={
            "resources/b.yml": "resources:\n  volumes:\n" + volumes,
            "resources/a.yml": before + "  model_serving_endpoints:\n" + after,
        },
    )
    _, sources = bv.merge_bundle(project, "dev")
    assert list(sources) == [
        "resources.registered_models.model",
        "resources.model_serving_endpoints.serving",
        "resources.quality_monitors.monitor",
        "resources.volumes.landing",
        "resources.jobs.train",
    ]
    assert sources["resources.volumes.landing"] == project / "resources/b.yml"
    assert bv.validate_project(project, None) == {"dev": [], "prod": []}


@pytest.mark.parametrize(
    ("extra_file", "message"),
    [
        ("resources:\n  jobs:\n    train:\n      name: again\n", "defined twice"),
        ("resources:\n  pipelines:\n    train:\n      name: again\n", "same key 'train'"),
        ("resources:\n  jobs:\n    other:\n      name: a\n      name: b\n", "duplicate key"),
    ],
)
def test_bundles_the_cli_cannot_load(tmp_path, extra_file, message):
    project = write_bundle(tmp_path, extra={"resources/extra.yml": extra_file})
    [(key, [error])] = bv.validate_project(project, None).items()
    assert key == bv.LOAD_ERROR_KEY
    assert message in error


def test_variable_without_value_is_an_error(tmp_path):
    text = DATABRICKS_YML.replace("  schema:\n    default: ml\n", "  schema:\n    description: x\n")
    assert_error(write_bundle(tmp_path, databricks=text), "no value", "schema")


def test_target_cannot_set_an_undeclared_variable(tmp_path):
    text = DATABRICKS_YML.replace("      catalog: prod\n", "      catalgo: prod\n")
    errors = bv.validate_project(write_bundle(tmp_path, databricks=text), None)
    assert errors["dev"] == []
    assert "catalgo is not defined" in errors["prod"][0]


# --------------------------------------------------------------------------- check 1: schema


def test_schema_rejects_wrong_types(tmp_path, schema):
    jobs = jobs_yml("spark_version: 15.4.x-cpu-ml-scala2.12", "spark_version: 15.4")
    jobs = jobs.replace("num_workers: 1", "num_workers: one")
    project = write_bundle(tmp_path, jobs=jobs)
    assert_error(
        project, "new_cluster.spark_version", "15.4 is not of type 'string'", schema=schema
    )
    assert_error(project, "new_cluster.num_workers", "'one' is not integer", schema=schema)


def test_schema_rejects_unknown_fields(tmp_path, schema):
    ml = ml_yml("      grants:", "      permissions:\n        - level: CAN_MANAGE\n      grants:")
    project = write_bundle(tmp_path, ml=ml)
    assert_error(project, "registered_models.model", "'permissions' was unexpected", schema=schema)


def test_schema_rejects_bad_enum_and_missing_required(tmp_path, schema):
    ml = ml_yml("PROBLEM_TYPE_CLASSIFICATION", "CLASSIFICATION").replace(
        "      assets_dir: /Workspace/Shared/${bundle.name}/monitor\n", ""
    )
    project = write_bundle(tmp_path, ml=ml)
    assert_error(
        project, "inference_log.problem_type", "'CLASSIFICATION' is not one of", schema=schema
    )
    assert_error(project, "quality_monitors.monitor", "'assets_dir' is a required", schema=schema)


def test_schema_checks_the_target_section_too(tmp_path, schema):
    text = DATABRICKS_YML.replace("mode: development\n", "mode: development\n    varaibles: {}\n")
    results = bv.validate_project(write_bundle(tmp_path, databricks=text), schema)
    assert results["dev"] == [
        "targets.dev: Additional properties are not allowed ('varaibles' was unexpected)"
    ]
    assert results["prod"] == []


def schema_marks_deprecated(node: object, field: str) -> bool:
    """Whether any object in the schema has `field` among its properties, marked deprecated."""
    if isinstance(node, list):
        return any(schema_marks_deprecated(item, field) for item in node)
    if not isinstance(node, dict):
        return False
    prop = (node.get("properties") or {}).get(field)
    if isinstance(prop, dict) and prop.get("deprecated"):
        return True
    return any(schema_marks_deprecated(value, field) for value in node.values())


def test_deprecated_field_from_the_schema(tmp_path, schema):
    if not schema_marks_deprecated(schema, "auto_capture_config"):
        pytest.skip("this schema does not mark auto_capture_config deprecated")
    ml = ml_yml(
        "        traffic_config:",
        "        auto_capture_config:\n          catalog_name: main\n        traffic_config:",
    )
    project = write_bundle(tmp_path, ml=ml)
    assert_error(project, "config.auto_capture_config", "deprecated", schema=schema)


def test_deprecated_field_only_the_schema_knows(tmp_path, schema):
    # Outside resources, so databricks-bundles cannot see it: only the schema walk finds it.
    text = DATABRICKS_YML + "\nexperimental:\n  pydabs:\n    enabled: false\n"
    project = write_bundle(tmp_path, databricks=text)
    assert_error(project, "experimental.pydabs", "deprecated", "use python", schema=schema)
    assert errors_of(project, None) == []


def test_private_preview_field_from_the_schema(tmp_path, schema):
    jobs = jobs_yml("      job_clusters:", "      usage_policy_id: abc\n      job_clusters:")
    project = write_bundle(tmp_path, jobs=jobs)
    assert_error(project, "jobs.train.usage_policy_id", "not generally available", schema=schema)


def test_deprecated_field_from_databricks_bundles(tmp_path):
    # served_models is deprecated in databricks-bundles 1.19.0 but not in the CLI 1.13 schema.
    ml = ml_yml(
        "        traffic_config:",
        "        served_models:\n          - model_name: m\n            model_version: '1'\n"
        "            workload_size: Small\n            scale_to_zero_enabled: true\n"
        "        traffic_config:",
    )
    assert_error(write_bundle(tmp_path, ml=ml), "served_models", "Deprecated")


# --------------------------------------------------------------------------- check 2: classes


def test_resource_classes_come_from_the_public_modules():
    from databricks.bundles.experiments import MlflowExperiment
    from databricks.bundles.jobs import Job
    from databricks.bundles.model_serving_endpoints import ModelServingEndpoint
    from databricks.bundles.quality_monitors import QualityMonitor
    from databricks.bundles.registered_models import RegisteredModel
    from databricks.bundles.schemas import Schema
    from databricks.bundles.volumes import Volume

    expected = {
        "jobs": Job,
        "experiments": MlflowExperiment,
        "registered_models": RegisteredModel,
        "model_serving_endpoints": ModelServingEndpoint,
        "quality_monitors": QualityMonitor,
        "schemas": Schema,
        "volumes": Volume,
    }
    assert {rtype: bv._resource_class(rtype) for rtype in expected} == expected
    assert bv._resource_class("no_such_type") is None


def test_classes_reject_unknown_fields(tmp_path):
    ml = ml_yml("      grants:", "      permissions:\n        - level: CAN_MANAGE\n      grants:")
    project = write_bundle(tmp_path, ml=ml)
    assert_error(project, "registered_models.model", "Unexpected field 'permissions'")


def test_classes_reject_wrong_types(tmp_path):
    jobs = jobs_yml("num_workers: 1", "num_workers: one")
    assert_error(write_bundle(tmp_path, jobs=jobs), "jobs.train", "'one'")


def test_classes_accept_references_in_non_string_fields(tmp_path):
    jobs = jobs_yml("num_workers: 1", "num_workers: ${var.workers}")
    text = DATABRICKS_YML.replace(
        "variables:\n", "variables:\n  workers:\n    lookup:\n      cluster: x\n", 1
    )
    project = write_bundle(tmp_path, jobs=jobs, databricks=text)
    assert errors_of(project) == []


# --------------------------------------------------------------------------- check 3: paths


def test_notebook_path_is_relative_to_the_yaml_file(tmp_path):
    jobs = jobs_yml("../src/train.py", "./src/train.py")
    project = write_bundle(tmp_path, jobs=jobs)
    assert_error(project, "notebook_path", "./src/train.py", "resources/src/train.py")


def test_notebook_needs_its_header_line(tmp_path):
    project = write_bundle(tmp_path, notebook="print('train')\n")
    assert_error(project, "notebook_path", "# Databricks notebook source")


def test_python_file_task(tmp_path):
    jobs = jobs_yml(
        "notebook_task:\n            notebook_path: ../src/train.py",
        "spark_python_task:\n            python_file: ../src/job.py",
    ).replace("            base_parameters:\n              catalog: ${var.catalog}\n", "")
    jobs = jobs.replace("              model: ${resources.registered_models.model.name}\n", "")
    project = write_bundle(tmp_path, jobs=jobs)
    assert_error(project, "python_file", "not found")
    (project / "src/job.py").write_text(NOTEBOOK)
    assert_error(project, "python_file", "is a notebook")
    (project / "src/job.py").write_text("print('job')\n")
    assert errors_of(project) == []


def test_paths_outside_the_bundle_and_remote_paths(tmp_path):
    project = tmp_path / "project"
    write_bundle(project, jobs=jobs_yml("../src/train.py", "../../train.py"))
    (tmp_path / "train.py").write_text(NOTEBOOK)
    assert_error(project, "notebook_path", "outside the bundle root")
    remote = jobs_yml("../src/train.py", "/Workspace/Shared/train")
    assert errors_of(write_bundle(project, jobs=remote)) == []


# --------------------------------------------------------------------------- check 4: references


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("${var.nope}", "undeclared variable"),
        ("${resources.jobs.missing.id}", "does not exist"),
        ("${resources.jobs.train}", "must name a field"),
        ('${bundle.target == "dev"}', "not a reference"),
        ("${workspace.current_user.username}", "not a field of current_user"),
        ("${bundle.nmae}", "does not exist"),
        ("${foo.bar}", "not a known reference"),
    ],
)
def test_bad_references(tmp_path, reference, message):
    jobs = jobs_yml("catalog: ${var.catalog}", f"catalog: '{reference}'")
    assert_error(write_bundle(tmp_path, jobs=jobs), reference, message)


@pytest.mark.parametrize(
    "reference",
    [
        "${resources.jobs.train.id}",
        "${workspace.current_user.userName}",
        "${workspace.file_path}/src",
        "${bundle.name}-${bundle.target}",
        "${bundle.git.branch}",
        "$${literal}",
    ],
)
def test_good_references(tmp_path, reference):
    jobs = jobs_yml("catalog: ${var.catalog}", f"catalog: '{reference}'")
    assert errors_of(write_bundle(tmp_path, jobs=jobs)) == []


def test_typed_variables_convert_like_the_cli(tmp_path, schema):
    # A bool variable may fill a string field (the CLI writes "true"); a word cannot fill a bool.
    jobs = jobs_yml("catalog: ${var.catalog}", "catalog: ${var.scale_to_zero}")
    project = write_bundle(tmp_path, jobs=jobs)
    assert errors_of(project, schema) == []
    text = DATABRICKS_YML.replace("      scale_to_zero: false", "      scale_to_zero: nope")
    project = write_bundle(tmp_path, databricks=text)
    results = bv.validate_project(project, schema)
    assert results["dev"] == []
    assert any("'nope'" in e and "ModelServingEndpoint" in e for e in results["prod"]), results


def test_expression_is_not_a_boolean(tmp_path, schema):
    ml = ml_yml("${var.scale_to_zero}", "'${bundle.target == \"dev\"}'")
    project = write_bundle(tmp_path, ml=ml)
    assert_error(project, "scale_to_zero_enabled", "is not boolean", schema=schema)


# --------------------------------------------------------------------------- check 5: platform


def test_production_mode_needs_a_root_path(tmp_path):
    root_path = "      root_path: /Workspace/Shared/.bundle/${bundle.name}/${bundle.target}\n"
    text = DATABRICKS_YML.replace("    workspace:\n" + root_path, "")
    errors = bv.validate_project(write_bundle(tmp_path, databricks=text), None)
    assert errors["dev"] == []
    assert any("workspace.root_path" in e for e in errors["prod"]), errors


def test_unknown_mode(tmp_path):
    text = DATABRICKS_YML.replace("mode: development", "mode: dev")
    assert_error(write_bundle(tmp_path, databricks=text), "'dev' must be")


def test_service_principal_needs_an_application_id(tmp_path):
    text = DATABRICKS_YML.replace("00000000-0000-0000-0000-000000000000", "sp-ml-prod")
    assert_error(write_bundle(tmp_path, databricks=text), "application ID")


def test_two_default_targets(tmp_path):
    text = DATABRICKS_YML.replace(
        "    mode: production\n", "    mode: production\n    default: true\n"
    )
    assert_error(write_bundle(tmp_path, databricks=text), "more than one default")


def test_serving_route_must_name_a_served_entity(tmp_path):
    ml = ml_yml("- served_entity_name: champion", "- served_model_name: demo_model-1")
    assert_error(write_bundle(tmp_path, ml=ml), "routes to 'demo_model-1'")


def test_ml_runtime_key(tmp_path):
    jobs = jobs_yml("15.4.x-cpu-ml-scala2.12", "15.4.x-ml-scala2.12")
    assert_error(write_bundle(tmp_path, jobs=jobs), "not a runtime key")


@pytest.mark.parametrize("key", ["18.x-cpu-ml-scala2.13", "18.2.x-cpu-ml-scala2.13"])
def test_a_runtime_named_by_its_major_version_is_a_runtime_key(tmp_path, key):
    """From Databricks Runtime 18 on, release notes name a runtime by its major version alone."""
    project = write_bundle(tmp_path, jobs=jobs_yml("15.4.x-cpu-ml-scala2.12", key))
    assert not [e for e in errors_of(project) if "runtime key" in e]
    for bad in ("18-cpu-ml-scala2.13", "18.x-ml-scala2.13"):
        project = write_bundle(tmp_path / bad, jobs=jobs_yml("15.4.x-cpu-ml-scala2.12", bad))
        assert_error(project, "not a runtime key")


def test_a_cluster_without_workers_must_be_a_single_node(tmp_path):
    """The CLI warns about num_workers 0 without the single-node settings."""
    bare = jobs_yml("            num_workers: 1\n", "            num_workers: 0\n")
    assert_error(write_bundle(tmp_path, jobs=bare), "not configured as a single node")
    single_node = jobs_yml(
        "            num_workers: 1\n",
        "            num_workers: 0\n"
        "            spark_conf:\n"
        "              spark.databricks.cluster.profile: singleNode\n"
        '              spark.master: "local[*, 4]"\n'
        "            custom_tags:\n"
        "              ResourceClass: SingleNode\n",
    )
    assert errors_of(write_bundle(tmp_path, jobs=single_node)) == []


def test_file_arrival_url_must_be_in_a_declared_volume(tmp_path):
    jobs = jobs_yml("/landing/", "/input/training_data")
    assert_error(write_bundle(tmp_path, jobs=jobs), "not inside a volume")
    by_reference = jobs_yml(
        "/Volumes/${var.catalog}/${var.schema}/landing/",
        "/Volumes/${resources.volumes.landing.catalog_name}/${var.schema}/landing/",
    )
    assert errors_of(write_bundle(tmp_path, jobs=by_reference)) == []


WHEEL_DATABRICKS_YML = DATABRICKS_YML.replace(
    "include:\n",
    "artifacts:\n  python_artifact:\n    type: whl\n    build: uv build --wheel\n\ninclude:\n",
)
PYPROJECT = """\
[project]
name = "demo_pkg"
version = "0.1.0"

[project.scripts]
train = "demo_pkg.train:main"
"""
WHEEL_TASK = """\
          python_wheel_task:
            package_name: demo_pkg
            entry_point: train
            named_parameters:
              catalog: ${var.catalog}
"""
NOTEBOOK_TASK = """\
          notebook_task:
            notebook_path: ../src/train.py
            base_parameters:
              catalog: ${var.catalog}
              model: ${resources.registered_models.model.name}
"""
CLASSIC_WHEEL_JOBS = jobs_yml(
    NOTEBOOK_TASK, WHEEL_TASK + "          libraries:\n            - whl: ../dist/*.whl\n"
)
SERVERLESS_WHEEL_JOBS = (
    JOBS_YML.replace(NOTEBOOK_TASK, WHEEL_TASK + "          environment_key: default\n")
    .replace("          job_cluster_key: main\n", "")
    .replace(
        """      job_clusters:
        - job_cluster_key: main
          new_cluster:
            spark_version: 15.4.x-cpu-ml-scala2.12
            node_type_id: i3.xlarge
            num_workers: 1
""",
        """      environments:
        - environment_key: default
          spec:
            environment_version: "4"
            dependencies:
              - mlflow==3.0.1
              - ../dist/*.whl
""",
    )
)


def wheel_bundle(root: Path, jobs: str, **files: str) -> Path:
    return write_bundle(
        root,
        databricks=WHEEL_DATABRICKS_YML,
        jobs=jobs,
        notebook=None,
        extra={"pyproject.toml": PYPROJECT, **files},
    )


@pytest.mark.parametrize(
    "jobs", [CLASSIC_WHEEL_JOBS, SERVERLESS_WHEEL_JOBS], ids=["classic", "serverless"]
)
def test_wheel_task_of_a_built_wheel_passes(tmp_path, schema, jobs):
    assert errors_of(wheel_bundle(tmp_path, jobs), schema) == []


def test_wheel_task_entry_point_must_be_declared(tmp_path):
    jobs = CLASSIC_WHEEL_JOBS.replace("entry_point: train", "entry_point: trian")
    assert_error(wheel_bundle(tmp_path, jobs), "'trian' is not an entry point of demo_pkg")


def test_wheel_task_package_must_be_a_wheel_the_bundle_builds(tmp_path):
    jobs = CLASSIC_WHEEL_JOBS.replace("package_name: demo_pkg", "package_name: other")
    assert_error(wheel_bundle(tmp_path, jobs), "'other' is not the name of a wheel")
    project = wheel_bundle(tmp_path / "no-artifacts", CLASSIC_WHEEL_JOBS)
    (project / "databricks.yml").write_text(DATABRICKS_YML)
    assert_error(project, "no whl artifacts")


def test_wheel_task_compute_must_install_the_wheel(tmp_path):
    classic = CLASSIC_WHEEL_JOBS.replace("../dist/*.whl", "../build/*.whl")
    assert_error(wheel_bundle(tmp_path, classic), "its libraries do not install the wheel")
    serverless = SERVERLESS_WHEEL_JOBS.replace("              - ../dist/*.whl\n", "")
    assert_error(wheel_bundle(tmp_path / "s", serverless), "its environment does not install")
    no_key = SERVERLESS_WHEEL_JOBS.replace("          environment_key: default\n", "")
    assert_error(wheel_bundle(tmp_path / "k", no_key), "needs an environment_key")


# --------------------------------------------------------------------------- schema lookup, CLI


def test_load_schema_prefers_the_environment_variable(tmp_path, monkeypatch):
    path = tmp_path / "schema.json"
    path.write_text(json.dumps({"type": "object"}))
    monkeypatch.setenv(bv.SCHEMA_ENV, str(path))
    assert bv.load_schema() == {"type": "object"}
    monkeypatch.setenv(bv.SCHEMA_ENV, str(tmp_path / "missing.json"))
    with pytest.raises(FileNotFoundError):
        bv.load_schema()


def test_require_schema_skips_locally_and_fails_in_ci(monkeypatch):
    monkeypatch.setattr(bv, "load_schema", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="schema not found"):
        bv.require_schema()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="mandatory when CI is set"):
        bv.require_schema()


def test_cli_exit_code_and_output(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bv, "load_schema", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    project = write_bundle(tmp_path)
    assert bv.main([str(project)]) == 0
    out = capsys.readouterr().out
    assert "SCHEMA NOT FOUND" in out and "[dev] OK" in out and "[prod] OK" in out
    (project / "src/train.py").write_text("print('no header')\n")
    assert bv.main([str(project)]) == 1
    assert "[dev] 1 error(s)" in capsys.readouterr().out
    monkeypatch.setenv("CI", "1")
    (project / "src/train.py").write_text(NOTEBOOK)
    assert bv.main([str(project)]) == 1  # in CI a missing schema is a failure
