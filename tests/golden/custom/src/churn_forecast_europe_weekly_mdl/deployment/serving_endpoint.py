"""Serving endpoint.

Points the Model Serving endpoint at the `champion` version of the model: creates the
endpoint on the first promotion (a first `bundle deploy` needs no model version), then
brings it to the desired configuration on every run: the served version, workload size,
scale-to-zero, traffic route and AI Gateway inference table are compared with the
endpoint's, and only what differs is updated. Requests and responses are logged to the
inference table in the project's schema. The endpoint carries the bundle's tags (cost
reports). The ML engineers group (`manage_group`) gets `manage_permission`: CAN_MANAGE, in prod
CAN_QUERY (only the service principal changes prod); the data scientists group can query it.

Entry point `deploy_serving_endpoint` (the task of that name in resources/jobs.yml; locally
`uv run deploy_serving_endpoint --help`). Parameters: `catalog`, `schema`, `model_name` (bare),
`endpoint_name`, `scale_to_zero` (`true`/`false`), `manage_group`, `manage_permission`,
`query_group`, `tags` (`key=value,key=value`). Runs on Databricks only.
"""

import dataclasses
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, ResourceDoesNotExist
from databricks.sdk.service.serving import (
    AiGatewayConfig,
    AiGatewayInferenceTableConfig,
    EndpointCoreConfigInput,
    EndpointStateConfigUpdate,
    EndpointTag,
    Route,
    ServedEntityInput,
    ServedEntityOutput,
    ServingEndpointAccessControlRequest,
    ServingEndpointDetailed,
    ServingEndpointPermissionLevel,
    TrafficConfig,
)

from churn_forecast_europe_weekly_mdl import config, naming
from churn_forecast_europe_weekly_mdl.errors import NoChampionError, WorkspaceOnly
from churn_forecast_europe_weekly_mdl.params import as_bool, get_params
from churn_forecast_europe_weekly_mdl.tracking import alias_version, setup_mlflow

# SDK calls: serving_endpoints.get / create_and_wait / update_config_and_wait / put_ai_gateway /
# wait_get_serving_endpoint_not_updating / update_permissions, and the dataclasses imported above.
# All of them exist, with the arguments used here, in databricks-sdk 0.40 (this project's floor,
# closer to what the Databricks Runtime ships) as well as in 0.162.

# The served entity keeps this name across versions: the route points at it, and a promotion
# only changes the version behind it.
SERVED_ENTITY = naming.CHAMPION
WORKLOAD_SIZE = "Small"
TIMEOUT = timedelta(minutes=45)

# Model Serving's rule for endpoint names.
ENDPOINT_NAME = re.compile(r"[A-Za-z0-9_-]+")
MAX_ENDPOINT_NAME_LENGTH = 63

# The served entity fields this task sets, and so compares with the endpoint's.
ENTITY_FIELDS = ("name", "entity_name", "entity_version", "workload_size", "scale_to_zero_enabled")
TABLE_LOCATION_FIELDS = ("catalog_name", "schema_name", "table_name_prefix")


def check_endpoint_name(name: str) -> str:
    """Return `name` if Model Serving accepts it; otherwise fail with how to fix it."""
    problems = []
    if not ENDPOINT_NAME.fullmatch(name):
        problems.append("it may only contain letters, digits, '-' and '_'")
    if len(name) > MAX_ENDPOINT_NAME_LENGTH:
        problems.append(
            f"it is {len(name)} characters long, at most {MAX_ENDPOINT_NAME_LENGTH} are allowed"
        )
    if problems:
        raise ValueError(
            f"Invalid serving endpoint name {name!r}: {'; '.join(problems)}. Set the "
            "`serving_endpoint_name` bundle variable to a valid name: in databricks.yml under "
            "targets > dev > variables (its default there, ${bundle.name}-dev-"
            "${workspace.current_user.short_name}, grows with the project and user names), or "
            "under the target you deploy; then deploy the bundle again."
        )
    return name


def served_entity(model_name: str, version: str, scale_to_zero: bool) -> ServedEntityInput:
    return ServedEntityInput(
        name=SERVED_ENTITY,
        entity_name=model_name,
        entity_version=version,
        workload_size=WORKLOAD_SIZE,
        scale_to_zero_enabled=scale_to_zero,
    )


def traffic_config() -> TrafficConfig:
    return TrafficConfig(routes=[Route(served_model_name=SERVED_ENTITY, traffic_percentage=100)])


def endpoint_config(
    endpoint_name: str, model_name: str, version: str, scale_to_zero: bool
) -> EndpointCoreConfigInput:
    return EndpointCoreConfigInput(
        name=endpoint_name,
        served_entities=[served_entity(model_name, version, scale_to_zero)],
        traffic_config=traffic_config(),
    )


def inference_table(catalog: str, schema: str, model: str) -> AiGatewayInferenceTableConfig:
    """AI Gateway inference table `<catalog>.<schema>.<model>_serving_payload`."""
    return AiGatewayInferenceTableConfig(
        catalog_name=catalog, schema_name=schema, table_name_prefix=f"{model}_serving", enabled=True
    )


def permission_level(value: str) -> ServingEndpointPermissionLevel:
    allowed = [level.value for level in ServingEndpointPermissionLevel]
    if value not in allowed:
        raise ValueError(f"manage_permission {value!r} is not one of {', '.join(allowed)}.")
    return ServingEndpointPermissionLevel(value)


def access_control(
    manage_group: str, manage_permission: str, query_group: str
) -> list[ServingEndpointAccessControlRequest]:
    return [
        ServingEndpointAccessControlRequest(
            group_name=manage_group, permission_level=permission_level(manage_permission)
        ),
        ServingEndpointAccessControlRequest(
            group_name=query_group, permission_level=ServingEndpointPermissionLevel.CAN_QUERY
        ),
    ]


def parse_tags(text: str) -> dict[str, str]:
    """`key=value,key=value` as a dict (the task's `tags` parameter)."""
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    if any(len(pair) != 2 or not pair[0].strip() for pair in pairs):
        raise ValueError(f"tags {text!r} must be key=value pairs separated by commas.")
    return {key.strip(): value.strip() for key, value in pairs}


def missing_tags(endpoint: ServingEndpointDetailed, tags: dict[str, str]) -> list[EndpointTag]:
    """The tags `endpoint` lacks or has with another value (others are left alone)."""
    have = {tag.key: tag.value for tag in endpoint.tags or []}
    return [EndpointTag(key=k, value=v) for k, v in tags.items() if have.get(k) != v]


# Desired versus current: pure functions over the SDK dataclasses.


def entity_spec(entity: ServedEntityInput | ServedEntityOutput) -> dict[str, Any]:
    """The fields this task sets, normalised (the API leaves out a false boolean)."""
    spec = {field: getattr(entity, field) for field in ENTITY_FIELDS}
    spec["entity_version"] = None if entity.entity_version is None else str(entity.entity_version)
    spec["scale_to_zero_enabled"] = bool(entity.scale_to_zero_enabled)
    return spec


def route_specs(traffic: TrafficConfig | None) -> list[tuple[str | None, int]]:
    """(served entity name, percentage) per route, sorted."""
    routes = (traffic.routes if traffic else None) or []
    # Newer APIs may name the entity in served_entity_name (a field SDK 0.40 lacks).
    return sorted(
        (
            route.served_model_name or getattr(route, "served_entity_name", None),
            route.traffic_percentage or 0,
        )
        for route in routes
    )


def config_changes(
    endpoint: ServingEndpointDetailed, desired: EndpointCoreConfigInput
) -> list[str]:
    """What differs between the endpoint's served entities and traffic and `desired`, one line
    per difference; empty when they match."""
    current = endpoint.config
    current_entities = (current.served_entities if current else None) or []
    have = {spec["name"]: spec for spec in map(entity_spec, current_entities)}
    want = {spec["name"]: spec for spec in map(entity_spec, desired.served_entities or [])}
    changes = []
    for name in sorted(have.keys() | want.keys(), key=str):
        if name not in want:
            changes.append(f"remove served entity {name}")
        elif name not in have:
            changes.append(f"add served entity {name}")
        else:
            changes.extend(
                f"{name}.{field}: {have[name][field]!r} -> {want[name][field]!r}"
                for field in ENTITY_FIELDS
                if have[name][field] != want[name][field]
            )
    have_routes = route_specs(current.traffic_config if current else None)
    want_routes = route_specs(desired.traffic_config)
    if have_routes != want_routes:
        changes.append(f"traffic routes: {have_routes} -> {want_routes}")
    return changes


def table_spec(table: AiGatewayInferenceTableConfig | None) -> dict[str, Any]:
    """Location and enabled flag (the API leaves out a false boolean)."""
    if table is None:
        return {"enabled": False}
    spec = {field: getattr(table, field) for field in TABLE_LOCATION_FIELDS}
    spec["enabled"] = bool(table.enabled)
    return spec


def inference_table_steps(
    current: AiGatewayInferenceTableConfig | None, desired: AiGatewayInferenceTableConfig
) -> list[AiGatewayInferenceTableConfig]:
    """The inference table configs to put, in order, to get from `current` to `desired`; empty
    when they match. The API does not move an enabled table to another catalog, schema or
    prefix: it must be disabled first (the old table keeps its rows)."""
    have, want = table_spec(current), table_spec(desired)
    if have == want:
        return []
    moved = any(have.get(field) != want[field] for field in TABLE_LOCATION_FIELDS)
    if current is not None and have["enabled"] and moved:
        return [dataclasses.replace(current, enabled=False), desired]
    return [desired]


def ai_gateway_arguments(
    current: AiGatewayConfig | None, table: AiGatewayInferenceTableConfig
) -> dict[str, Any]:
    """Arguments of `put_ai_gateway`: it replaces the whole AI Gateway configuration, so keep the
    settings this task does not manage (rate limits, guardrails, ...) and set the table. The
    arguments are AiGatewayConfig's fields in the installed SDK (0.40 has no fallback_config)."""
    current = current or AiGatewayConfig()
    arguments = {field.name: getattr(current, field.name) for field in dataclasses.fields(current)}
    return {**arguments, "inference_table_config": table}


def describe_table(table: AiGatewayInferenceTableConfig) -> str:
    if not table.enabled:
        return "disabled"
    return f"{table.catalog_name}.{table.schema_name}.{table.table_name_prefix}_payload"


# Workspace calls.


def is_updating(endpoint: ServingEndpointDetailed) -> bool:
    return bool(
        endpoint.state and endpoint.state.config_update == EndpointStateConfigUpdate.IN_PROGRESS
    )


def reconcile(
    workspace: WorkspaceClient,
    endpoint: ServingEndpointDetailed,
    desired: EndpointCoreConfigInput,
    table: AiGatewayInferenceTableConfig,
) -> ServingEndpointDetailed:
    """Bring an existing endpoint to `desired` and `table`, changing only what differs."""
    endpoints = workspace.serving_endpoints
    name = desired.name
    assert name is not None
    if is_updating(endpoint):
        # A second update is rejected while one is in progress; compare with its outcome.
        print(f"Endpoint {name} is being updated: waiting for that update to finish")
        endpoint = endpoints.wait_get_serving_endpoint_not_updating(name, timeout=TIMEOUT)
    changes = config_changes(endpoint, desired)
    current_gateway = endpoint.ai_gateway
    steps = inference_table_steps(
        current_gateway.inference_table_config if current_gateway else None, table
    )
    if not changes and not steps:
        print(f"Endpoint {name} already matches the desired configuration: nothing to update")
        return endpoint
    if changes:
        print(f"Updating endpoint {name}: " + "; ".join(changes))
        endpoint = endpoints.update_config_and_wait(
            name,
            served_entities=desired.served_entities,
            traffic_config=desired.traffic_config,
            timeout=TIMEOUT,
        )
    for step in steps:
        print(f"Setting the inference table of endpoint {name} to {describe_table(step)}")
        endpoints.put_ai_gateway(name, **ai_gateway_arguments(current_gateway, step))
    return endpoint


def deploy(
    workspace: WorkspaceClient,
    *,
    catalog: str,
    schema: str,
    model: str,
    version: str,
    endpoint_name: str,
    scale_to_zero: bool,
    manage_group: str,
    manage_permission: str,
    query_group: str,
    tags: dict[str, str],
) -> ServingEndpointDetailed:
    """Create the endpoint, or bring it to the desired configuration (served entity, traffic and
    inference table); return it once it is ready."""
    check_endpoint_name(endpoint_name)
    model_name = naming.model_name(catalog, schema, model)
    desired = endpoint_config(endpoint_name, model_name, version, scale_to_zero)
    table = inference_table(catalog, schema, model)
    endpoints = workspace.serving_endpoints
    try:
        endpoint = endpoints.get(endpoint_name)
    except (NotFound, ResourceDoesNotExist):
        print(f"Creating endpoint {endpoint_name} serving {model_name} version {version}")
        endpoint = endpoints.create_and_wait(
            endpoint_name,
            config=desired,
            ai_gateway=AiGatewayConfig(inference_table_config=table),
            tags=[EndpointTag(key=key, value=value) for key, value in tags.items()],
            timeout=TIMEOUT,
        )
    else:
        endpoint = reconcile(workspace, endpoint, desired, table)
        add = missing_tags(endpoint, tags)
        if add:
            listed = ", ".join(f"{tag.key}={tag.value}" for tag in add)
            print(f"Tagging endpoint {endpoint_name}: {listed}")
            endpoints.patch(endpoint_name, add_tags=add)
    assert endpoint.id is not None
    # Sets these groups' levels; other entries (the service principal that created it) stay.
    endpoints.update_permissions(
        endpoint.id,
        access_control_list=access_control(manage_group, manage_permission, query_group),
    )
    return endpoint


def main(argv: Sequence[str] | None = None) -> None:
    params = get_params(
        [
            "catalog",
            "schema",
            "model_name",
            "endpoint_name",
            "scale_to_zero",
            "manage_group",
            "manage_permission",
            "query_group",
            "tags",
        ],
        "Point the serving endpoint at the champion model (Databricks only).",
        defaults={"scale_to_zero": "true", "manage_permission": "CAN_MANAGE"},
        argv=argv,
        optional=["tags"],
    )
    check_endpoint_name(params["endpoint_name"])
    permission_level(params["manage_permission"])
    tags = parse_tags(params["tags"])
    if not config.on_databricks():
        raise WorkspaceOnly("The serving endpoint is deployed by the training job on Databricks.")
    full_name = naming.model_name(params["catalog"], params["schema"], params["model_name"])
    version = alias_version(setup_mlflow(), full_name, naming.CHAMPION)
    if version is None:
        raise NoChampionError(f"{full_name} has no '{naming.CHAMPION}' version to serve yet.")
    deploy(
        WorkspaceClient(),
        catalog=params["catalog"],
        schema=params["schema"],
        model=params["model_name"],
        version=version,
        endpoint_name=params["endpoint_name"],
        scale_to_zero=as_bool(params["scale_to_zero"]),
        manage_group=params["manage_group"],
        manage_permission=params["manage_permission"],
        query_group=params["query_group"],
        tags=tags,
    )


if __name__ == "__main__":
    main()
