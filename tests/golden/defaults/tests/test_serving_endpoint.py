"""Serving endpoint: the configuration it wants, how it compares with the endpoint's, and
create-or-update, without a workspace."""

from __future__ import annotations

from unittest import mock

import pytest
from databricks.sdk.errors import NotFound
from databricks.sdk.service.serving import (
    AiGatewayConfig,
    AiGatewayInferenceTableConfig,
    AiGatewayUsageTrackingConfig,
    EndpointCoreConfigOutput,
    EndpointState,
    EndpointStateConfigUpdate,
    EndpointTag,
    Route,
    ServedEntityOutput,
    ServingEndpointDetailed,
    ServingEndpointPermissionLevel,
    TrafficConfig,
)

from ml_project.deployment import serving_endpoint as se

ARGS = {
    "catalog": "cat",
    "schema": "sch",
    "model": "mdl",
    "endpoint_name": "proj-dev",
    "scale_to_zero": True,
    "manage_group": "ml-engineers",
    "manage_permission": "CAN_MANAGE",
    "query_group": "data-scientists",
    "tags": {"project": "proj", "target": "dev"},
}
TABLE = {"catalog_name": "cat", "schema_name": "sch", "table_name_prefix": "mdl_serving"}


def _endpoint(
    version: str,
    *,
    scale_to_zero: bool = True,
    workload_size: str = se.WORKLOAD_SIZE,
    table: dict | None = None,
    enabled: bool = True,
    gateway: AiGatewayConfig | None = None,
) -> ServingEndpointDetailed:
    """An endpoint as `get` returns it; by default exactly what deploy(version, **ARGS) wants."""
    entity = ServedEntityOutput(
        name=se.SERVED_ENTITY,
        entity_name="cat.sch.mdl",
        entity_version=version,
        workload_size=workload_size,
        scale_to_zero_enabled=scale_to_zero,
    )
    gateway = gateway or AiGatewayConfig()
    gateway.inference_table_config = AiGatewayInferenceTableConfig(
        **(TABLE if table is None else table), enabled=enabled
    )
    return ServingEndpointDetailed(
        name="proj-dev",
        tags=[EndpointTag(key=k, value=v) for k, v in ARGS["tags"].items()],
        id="endpoint-id",
        config=EndpointCoreConfigOutput(
            served_entities=[entity],
            traffic_config=TrafficConfig(
                routes=[Route(served_model_name=se.SERVED_ENTITY, traffic_percentage=100)]
            ),
        ),
        ai_gateway=gateway,
    )


def _desired(version: str = "2", scale_to_zero: bool = True):
    return se.endpoint_config("proj-dev", "cat.sch.mdl", version, scale_to_zero)


def _deploy(endpoint: ServingEndpointDetailed, version: str, **overrides) -> mock.MagicMock:
    workspace = mock.MagicMock()
    workspace.serving_endpoints.get.return_value = endpoint
    workspace.serving_endpoints.update_config_and_wait.return_value = endpoint
    se.deploy(workspace, version=version, **{**ARGS, **overrides})
    return workspace


def test_config_routes_all_traffic_to_the_named_champion_entity():
    config = se.endpoint_config("proj-dev", "cat.sch.mdl", "3", scale_to_zero=False)

    (entity,) = config.served_entities
    assert (entity.name, entity.entity_name, entity.entity_version) == (
        se.SERVED_ENTITY,
        "cat.sch.mdl",
        "3",
    )
    assert entity.scale_to_zero_enabled is False
    (route,) = config.traffic_config.routes
    assert route.served_model_name == entity.name
    assert route.traffic_percentage == 100
    assert "auto_capture_config" not in config.as_dict()


def test_inference_table_goes_to_the_project_schema():
    table = se.inference_table("cat", "sch", "mdl")
    assert table.as_dict() == {**TABLE, "enabled": True}


@pytest.mark.parametrize("level", ["CAN_MANAGE", "CAN_QUERY"])
def test_permissions_of_engineers_and_query_groups(level):
    """Engineers manage the endpoint in dev and staging; in prod they may only query it."""
    acl = {entry.group_name: entry.permission_level for entry in se.access_control("a", level, "b")}
    assert acl == {
        "a": ServingEndpointPermissionLevel(level),
        "b": ServingEndpointPermissionLevel.CAN_QUERY,
    }


def test_an_unknown_permission_level_is_refused():
    with pytest.raises(ValueError, match="manage_permission 'CAN_WRITE' is not one of"):
        se.access_control("a", "CAN_WRITE", "b")


def test_tags_parameter():
    assert se.parse_tags("project=p, target=prod") == {"project": "p", "target": "prod"}
    assert se.parse_tags("") == {}
    with pytest.raises(ValueError, match="key=value pairs"):
        se.parse_tags("project")


@pytest.mark.parametrize("name", ["proj-dev", "a_b-C9", "x" * 63])
def test_valid_endpoint_names_pass(name):
    assert se.check_endpoint_name(name) == name


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("x" * 64, "64 characters long"),
        ("proj-dev-first.last", "letters, digits"),
        ("proj dev", "letters, digits"),
        ("", "letters, digits"),
    ],
)
def test_invalid_endpoint_names_say_how_to_fix_them(name, problem):
    with pytest.raises(ValueError, match="serving_endpoint_name") as error:
        se.check_endpoint_name(name)
    assert problem in str(error.value)
    assert "databricks.yml" in str(error.value)


def test_a_too_long_name_fails_before_any_workspace_call():
    workspace = mock.MagicMock()
    dev_name = "p" * 30 + "-dev-" + "u" * 30
    with pytest.raises(ValueError, match="at most 63"):
        se.deploy(workspace, version="1", **{**ARGS, "endpoint_name": dev_name})
    assert workspace.mock_calls == []


def test_main_checks_the_name_before_anything_else():
    argv = ["--endpoint-name", "n" * 64, "--manage-group", "g", "--query-group", "q"]
    with pytest.raises(ValueError, match="serving_endpoint_name"):
        se.main([*argv, "--catalog", "cat", "--schema", "sch", "--model-name", "mdl"])


def test_an_endpoint_that_matches_needs_no_change():
    endpoint = _endpoint("2")
    current_table = endpoint.ai_gateway.inference_table_config

    assert se.config_changes(endpoint, _desired("2")) == []
    assert se.inference_table_steps(current_table, se.inference_table("cat", "sch", "mdl")) == []


@pytest.mark.parametrize(
    ("endpoint", "change"),
    [
        (_endpoint("1"), "champion.entity_version: '1' -> '2'"),
        (_endpoint("2", scale_to_zero=False), "champion.scale_to_zero_enabled: False -> True"),
        (_endpoint("2", workload_size="Medium"), "champion.workload_size: 'Medium' -> 'Small'"),
    ],
)
def test_each_served_entity_field_is_compared(endpoint, change):
    assert se.config_changes(endpoint, _desired("2")) == [change]


def test_extra_entities_and_other_routes_are_changes():
    endpoint = _endpoint("2")
    endpoint.config.served_entities.append(ServedEntityOutput(name="old", entity_version="1"))
    endpoint.config.traffic_config.routes = [
        Route(served_model_name=se.SERVED_ENTITY, traffic_percentage=50),
        Route(served_model_name="old", traffic_percentage=50),
    ]
    changes = se.config_changes(endpoint, _desired("2"))
    assert changes[0] == "remove served entity old"
    assert changes[1].startswith("traffic routes:")


def test_an_endpoint_without_config_differs():
    endpoint = ServingEndpointDetailed(name="proj-dev", id="endpoint-id")
    assert se.config_changes(endpoint, _desired("2")) == [
        "add served entity champion",
        "traffic routes: [] -> [('champion', 100)]",
    ]


def test_a_disabled_or_missing_inference_table_is_enabled_in_one_step():
    desired = se.inference_table("cat", "sch", "mdl")
    assert se.inference_table_steps(None, desired) == [desired]
    disabled = AiGatewayInferenceTableConfig(catalog_name="old", schema_name="s", enabled=False)
    assert se.inference_table_steps(disabled, desired) == [desired]


def test_moving_an_enabled_inference_table_disables_it_first():
    desired = se.inference_table("cat", "sch", "mdl")
    current = AiGatewayInferenceTableConfig(**{**TABLE, "schema_name": "old"}, enabled=True)

    first, second = se.inference_table_steps(current, desired)

    assert first.as_dict() == {**TABLE, "schema_name": "old", "enabled": False}
    assert second is desired


def test_ai_gateway_update_keeps_the_other_gateway_settings():
    usage = AiGatewayUsageTrackingConfig(enabled=True)
    table = se.inference_table("cat", "sch", "mdl")

    arguments = se.ai_gateway_arguments(AiGatewayConfig(usage_tracking_config=usage), table)

    assert arguments["usage_tracking_config"] is usage
    assert arguments["inference_table_config"] is table
    assert se.ai_gateway_arguments(None, table)["inference_table_config"] is table


def test_first_promotion_creates_the_endpoint_with_an_inference_table():
    workspace = mock.MagicMock()
    workspace.serving_endpoints.get.side_effect = NotFound("no such endpoint")
    workspace.serving_endpoints.create_and_wait.return_value = _endpoint("1")

    se.deploy(workspace, version="1", **ARGS)

    kwargs = workspace.serving_endpoints.create_and_wait.call_args.kwargs
    assert kwargs["config"].served_entities[0].entity_version == "1"
    assert kwargs["ai_gateway"].inference_table_config.enabled is True
    assert {(t.key, t.value) for t in kwargs["tags"]} == {("project", "proj"), ("target", "dev")}
    workspace.serving_endpoints.update_config_and_wait.assert_not_called()
    workspace.serving_endpoints.update_permissions.assert_called_once()


def test_later_promotion_updates_the_served_version():
    workspace = _deploy(_endpoint("1"), version="2")

    kwargs = workspace.serving_endpoints.update_config_and_wait.call_args.kwargs
    assert kwargs["served_entities"][0].entity_version == "2"
    assert kwargs["traffic_config"].routes[0].served_model_name == se.SERVED_ENTITY
    workspace.serving_endpoints.create_and_wait.assert_not_called()
    workspace.serving_endpoints.put_ai_gateway.assert_not_called()


def test_a_scale_to_zero_change_is_applied_without_a_new_version():
    workspace = _deploy(_endpoint("2", scale_to_zero=True), version="2", scale_to_zero=False)

    kwargs = workspace.serving_endpoints.update_config_and_wait.call_args.kwargs
    assert kwargs["served_entities"][0].scale_to_zero_enabled is False
    workspace.serving_endpoints.put_ai_gateway.assert_not_called()


def test_a_workload_size_change_is_applied():
    workspace = _deploy(_endpoint("2", workload_size="Large"), version="2")

    kwargs = workspace.serving_endpoints.update_config_and_wait.call_args.kwargs
    assert kwargs["served_entities"][0].workload_size == se.WORKLOAD_SIZE


def test_a_matching_endpoint_is_left_alone_and_says_so(capsys):
    workspace = _deploy(_endpoint("2"), version="2")

    workspace.serving_endpoints.update_config_and_wait.assert_not_called()
    workspace.serving_endpoints.put_ai_gateway.assert_not_called()
    workspace.serving_endpoints.patch.assert_not_called()  # its tags are there already
    workspace.serving_endpoints.update_permissions.assert_called_once()
    assert "nothing to update" in capsys.readouterr().out


def test_same_version_only_adds_a_missing_inference_table():
    usage = AiGatewayUsageTrackingConfig(enabled=True)
    endpoint = _endpoint("2", enabled=False, gateway=AiGatewayConfig(usage_tracking_config=usage))

    workspace = _deploy(endpoint, version="2")

    workspace.serving_endpoints.update_config_and_wait.assert_not_called()
    args = workspace.serving_endpoints.put_ai_gateway.call_args
    assert args.args == ("proj-dev",)
    assert args.kwargs["inference_table_config"].as_dict() == {**TABLE, "enabled": True}
    assert args.kwargs["usage_tracking_config"] is usage


def test_a_moved_inference_table_is_disabled_then_set():
    endpoint = _endpoint("2", table={**TABLE, "table_name_prefix": "old_serving"})

    workspace = _deploy(endpoint, version="2")

    calls = workspace.serving_endpoints.put_ai_gateway.call_args_list
    tables = [call.kwargs["inference_table_config"].as_dict() for call in calls]
    assert tables == [
        {**TABLE, "table_name_prefix": "old_serving", "enabled": False},
        {**TABLE, "enabled": True},
    ]
    workspace.serving_endpoints.update_config_and_wait.assert_not_called()


def test_an_update_in_progress_is_waited_for_before_comparing():
    busy = _endpoint("1")
    busy.state = EndpointState(config_update=EndpointStateConfigUpdate.IN_PROGRESS)
    workspace = mock.MagicMock()
    workspace.serving_endpoints.get.return_value = busy
    workspace.serving_endpoints.wait_get_serving_endpoint_not_updating.return_value = _endpoint("2")

    se.deploy(workspace, version="2", **ARGS)

    workspace.serving_endpoints.wait_get_serving_endpoint_not_updating.assert_called_once()
    workspace.serving_endpoints.update_config_and_wait.assert_not_called()


def _run_task(champion: str, endpoint: ServingEndpointDetailed, monkeypatch) -> mock.MagicMock:
    """The job's deploy_serving_endpoint task, its entry point, with `champion` as the alias."""
    workspace = mock.MagicMock()
    workspace.serving_endpoints.get.return_value = endpoint
    workspace.serving_endpoints.update_config_and_wait.return_value = endpoint
    monkeypatch.setattr(se.config, "on_databricks", lambda: True)
    monkeypatch.setattr(se, "setup_mlflow", mock.MagicMock())
    monkeypatch.setattr(se, "alias_version", lambda _client, name, alias: champion)
    monkeypatch.setattr(se, "WorkspaceClient", lambda: workspace)
    argv = ["--catalog=cat", "--schema=sch", "--model_name=mdl", "--endpoint_name=proj-dev"]
    groups = ["--manage_group=ml-engineers", "--query_group=data-scientists"]
    se.main([*argv, *groups, "--tags=project=proj,target=dev"])
    return workspace


def test_the_task_changes_nothing_when_the_gate_kept_the_champion(monkeypatch, capsys):
    """Evaluate kept the champion (the challenger was not better): the serving task that follows
    in the job finds the endpoint already serving it and updates nothing."""
    workspace = _run_task("2", _endpoint("2"), monkeypatch)

    endpoints = workspace.serving_endpoints
    endpoints.create_and_wait.assert_not_called()
    endpoints.update_config_and_wait.assert_not_called()
    endpoints.put_ai_gateway.assert_not_called()
    assert "nothing to update" in capsys.readouterr().out


def test_the_task_serves_a_new_champion(monkeypatch):
    workspace = _run_task("3", _endpoint("2"), monkeypatch)

    kwargs = workspace.serving_endpoints.update_config_and_wait.call_args.kwargs
    assert kwargs["served_entities"][0].entity_version == "3"


def test_an_existing_endpoint_gets_the_tags_it_lacks_and_keeps_its_others():
    endpoint = _endpoint("1")
    endpoint.tags = [EndpointTag(key="project", value="proj"), EndpointTag(key="owner", value="x")]
    workspace = _deploy(endpoint, version="1")

    workspace.serving_endpoints.patch.assert_called_once()
    added = workspace.serving_endpoints.patch.call_args.kwargs["add_tags"]
    assert [(t.key, t.value) for t in added] == [("target", "dev")]
