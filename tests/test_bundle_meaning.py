"""What the rendered bundles mean, per target, as the CLI resolves them (includes, target
overrides, variables): modes and identities, access, the objects jobs write to, triggers, and
operations (DESIGN.md section 4). tests/test_bundle_validation.py checks that they are valid;
these check that they say what a team needs."""

from __future__ import annotations

import pytest
from bundle_validation import bundle_targets, merge_bundle
from test_render import ANSWER_SETS, answers_of

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


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_dev_is_private_and_staging_and_prod_are_production(render, name):
    """Dev: development mode (per-user names, paused triggers); staging and prod: production mode
    (one shared copy at root_path, the CLI's production checks)."""
    project = render(name)
    for target in bundle_targets(project):
        tree, _ = merge_bundle(project, target)
        expected = "development" if target == "dev" else "production"
        assert tree["bundle"].get("mode") == expected, target
        if target != "dev":
            assert "root_path" in tree["workspace"], target


# What each task parameter that names a Unity Catalog object must be: the object the bundle declares
# (in dev the CLI prefixes schema and model names per user; a plain variable would miss that).
OBJECT_PARAMETERS = {
    "schema": "${resources.schemas.ml_schema.name}",
    "model_name": "${resources.registered_models.model.name}",
    "experiment_name": "${resources.experiments.training.name}",
}


def volume(catalog: str) -> str:
    """The input volume's path, through its resources (variables are substituted by then)."""
    return f"/Volumes/{catalog}/{OBJECT_PARAMETERS['schema']}/${{resources.volumes.input.name}}/"


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_jobs_read_and_write_the_objects_the_bundle_declares(render, name):
    project = render(name)
    for target in bundle_targets(project):
        tree, _ = merge_bundle(project, target)
        resources = tree["resources"]
        catalog = resources["schemas"]["ml_schema"]["catalog_name"]
        assert catalog == answers_of(project)[f"{target}_catalog"], target
        for kind in ("volumes", "registered_models"):
            for body in resources[kind].values():
                assert body["catalog_name"] == catalog, (target, kind)
                assert body["schema_name"] == OBJECT_PARAMETERS["schema"], (target, kind)
        for key, task in _tasks(tree).items():
            named = task["python_wheel_task"].get("named_parameters", {})
            expected = {**OBJECT_PARAMETERS, "catalog": catalog}
            for parameter in expected.keys() & named.keys():
                assert named[parameter] == expected[parameter], (target, key, parameter)
            for parameter in ("input_path", "input", "labels"):
                if parameter in named:
                    path = str(named[parameter])
                    assert path.startswith(volume(catalog)), (target, key, parameter)


@pytest.mark.parametrize("name", ANSWER_SETS)
def test_triggers_and_schedules_are_as_answered(render, name):
    project = render(name)
    answers = answers_of(project)
    jobs = merge_bundle(project, "prod")[0]["resources"]["jobs"]
    catalog = answers["prod_catalog"]
    training = jobs["training_pipeline"]
    trigger = answers["training_trigger"]
    assert ("trigger" in training) == (trigger == "file_arrival")
    if trigger == "file_arrival":
        url = training["trigger"]["file_arrival"]["url"]
        assert url == volume(catalog) + "training_data/"
    schedule = training.get("schedule", {}).get("quartz_cron_expression")
    assert schedule == (answers["training_schedule"] if trigger == "schedule" else None)
    inference = jobs["batch_inference"]["schedule"]
    assert inference == {
        "quartz_cron_expression": answers["inference_schedule"],
        "timezone_id": "UTC",
    }
