"""Quality monitor.

Creates the Lakehouse Monitoring monitor of the predictions table the first time (the table
exists only after the first batch inference), or updates it when its configuration differs
from the one below, then waits for a refresh to succeed. The monitor computes profile and drift
metrics per day and per `model_version`, model-quality metrics from the labels the ground-truth
step merged (`label_col`, and the class probabilities), and drift against the
champion's baseline (its held-out rows, which evaluation writes on promotion). Its metric tables
go to the project's schema; its dashboard to the ML engineers group (`manage_group`, at
`manage_permission`: CAN_MANAGE, in prod CAN_READ). Batch inference turns on the predictions
table's change data feed, so a refresh processes only new rows. A new monitor's first refresh,
which Databricks starts itself, is followed rather than started again.

Entry point `refresh_quality_monitor` (the task of that name in resources/jobs.yml; locally
`uv run refresh_quality_monitor --help`). Parameters: `catalog`, `schema`, `assets_dir`,
`manage_group`, `manage_permission`. Runs on Databricks only.
"""

import time
from collections.abc import Sequence
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, ResourceDoesNotExist
from databricks.sdk.service.catalog import (
    MonitorInferenceLog,
    MonitorInferenceLogProblemType,
    MonitorInfo,
    MonitorRefreshInfo,
    QualityMonitorsAPI,
)
from databricks.sdk.service.iam import AccessControlRequest, PermissionLevel

from ml_project import config, naming, problem
from ml_project.errors import WorkspaceOnly
from ml_project.params import get_params

# SDK calls: tables.exists, quality_monitors.get / create / update / list_refreshes /
# run_refresh / get_refresh / delete (the cleanup job), and permissions.update. They exist, with
# these arguments, in databricks-sdk 0.40 (this project's floor, closer to what the Databricks
# Runtime ships) as in 0.162. Newer SDKs mark QualityMonitorsAPI deprecated (in a docstring, no
# warning) in favour of data_quality, which is kept out on purpose: it first appears in 0.68,
# names tables and schemas by UUID, and its InferenceLogConfig has no probability column.
# States are compared by name: 0.40 has no UNKNOWN refresh state (it reads one as None), and
# refresh ids are str in 0.40 but int in 0.162 (they are only passed back).

GRANULARITIES = ["1 day"]
ACTIVE_TIMEOUT_SECONDS = 600
REFRESH_TIMEOUT_SECONDS = 3600
POLL_SECONDS = 10

MONITOR_ACTIVE = "MONITOR_STATUS_ACTIVE"
MONITOR_PENDING = "MONITOR_STATUS_PENDING"
REFRESH_SUCCESS = "SUCCESS"
# A refresh is waited for while in one of these states. Any other final state (FAILED,
# CANCELED, ERROR, UNKNOWN or one this SDK does not know) is a failure.
REFRESH_IN_PROGRESS = {"PENDING", "RUNNING"}


def inference_log() -> MonitorInferenceLog:
    return MonitorInferenceLog(
        problem_type=MonitorInferenceLogProblemType[problem.MONITOR_PROBLEM_TYPE],
        prediction_col=naming.PREDICTION_COLUMN,
        timestamp_col=naming.TIMESTAMP_COLUMN,
        model_id_col=naming.MODEL_VERSION_COLUMN,
        label_col=problem.LABEL_COLUMN,
        # A map class -> probability, as the API asks (databricks-sdk's MonitorInferenceLog).
        prediction_proba_col=naming.PROBABILITIES_COLUMN,
        granularities=GRANULARITIES,
    )


def monitor_spec(catalog: str, schema: str, assets_dir: str) -> dict[str, Any]:
    """The arguments of `quality_monitors.create` for the predictions table."""
    return {
        "table_name": naming.predictions_table(catalog, schema),
        "output_schema_name": f"{catalog}.{schema}",
        "assets_dir": assets_dir,
        "inference_log": inference_log(),
        "baseline_table_name": naming.baseline_table(catalog, schema),
    }


def dashboard_access(manage_group: str, permission: str) -> list[AccessControlRequest]:
    allowed = ["CAN_MANAGE", "CAN_EDIT", "CAN_RUN", "CAN_READ"]  # a dashboard's levels
    if permission not in allowed:
        raise ValueError(f"manage_permission {permission!r} is not one of {', '.join(allowed)}.")
    level = PermissionLevel(permission)
    return [AccessControlRequest(group_name=manage_group, permission_level=level)]


# Desired versus current: pure functions over the SDK dataclasses.


def state_name(state: Any) -> str:
    """An enum state's name; UNKNOWN when the SDK did not recognise it (None)."""
    return state.value if state is not None else "UNKNOWN"


def comparable_log(log: MonitorInferenceLog) -> dict[str, Any]:
    fields = log.as_dict()
    fields["granularities"] = sorted(fields.get("granularities") or [])
    return fields


def monitor_changes(spec: dict[str, Any], monitor: MonitorInfo) -> list[str]:
    """What differs between the existing monitor and `spec`, one line per difference; empty when
    they match. assets_dir is left out: the API cannot change it (see assets_dir_note)."""
    if monitor.inference_log is None:
        raise ValueError(
            f"The monitor of {spec['table_name']} is not an inference log monitor, and its type "
            "cannot be changed. Delete it (Catalog Explorer > the table > Quality, or "
            "`databricks quality-monitors delete`) and run this task again to recreate it."
        )
    have, want = comparable_log(monitor.inference_log), comparable_log(spec["inference_log"])
    changes = [
        f"inference_log.{field}: {have.get(field)!r} -> {want.get(field)!r}"
        for field in sorted(have.keys() | want.keys())
        if have.get(field) != want.get(field)
    ]
    baseline = spec["baseline_table_name"]
    if baseline and monitor.baseline_table_name != baseline:
        changes.append(
            f"baseline_table_name: {monitor.baseline_table_name!r} -> "
            f"{spec['baseline_table_name']!r}"
        )
    if monitor.output_schema_name != spec["output_schema_name"]:
        changes.append(
            f"output_schema_name: {monitor.output_schema_name!r} -> {spec['output_schema_name']!r}"
        )
    return changes


def workspace_path(path: str | None) -> str:
    """`/Workspace/Users/x/` and `/Users/x` are the same folder."""
    path = (path or "").rstrip("/")
    return path.removeprefix("/Workspace") or "/"


def assets_dir_note(spec: dict[str, Any], monitor: MonitorInfo) -> str | None:
    """A notice if the monitor's assets are elsewhere than `spec` asks: the API cannot move them."""
    if monitor.assets_dir is None or workspace_path(monitor.assets_dir) == workspace_path(
        spec["assets_dir"]
    ):
        return None
    return (
        f"The monitor of {spec['table_name']} keeps its dashboard in {monitor.assets_dir}, not "
        f"{spec['assets_dir']}: the assets folder is fixed when a monitor is created. Delete the "
        "monitor and run this task again to recreate it there."
    )


def update_arguments(spec: dict[str, Any], monitor: MonitorInfo) -> dict[str, Any]:
    """Arguments of `quality_monitors.update`: it replaces the monitor's configuration, so keep
    what this task does not manage (schedule, notifications, slices, ...) and the dashboard."""
    return {
        "table_name": spec["table_name"],
        "output_schema_name": spec["output_schema_name"],
        "inference_log": spec["inference_log"],
        "baseline_table_name": spec["baseline_table_name"] or monitor.baseline_table_name,
        "custom_metrics": monitor.custom_metrics,
        "dashboard_id": monitor.dashboard_id,
        "data_classification_config": monitor.data_classification_config,
        "notifications": monitor.notifications,
        "schedule": monitor.schedule,
        "slicing_exprs": monitor.slicing_exprs,
    }


def refresh_to_follow(
    refreshes: Sequence[MonitorRefreshInfo], *, created: bool
) -> MonitorRefreshInfo | None:
    """The refresh to wait for before (or instead of) starting one: the newest pending or
    running refresh; right after `create`, the first refresh Databricks started itself, even if
    it already ended. None if there is none."""
    in_progress = [r for r in refreshes if state_name(r.state) in REFRESH_IN_PROGRESS]
    candidates = in_progress or (list(refreshes) if created else [])
    return max(candidates, key=lambda r: r.start_time_ms or 0, default=None)


def refresh_failure(refresh: MonitorRefreshInfo, table_name: str) -> str | None:
    """Why an ended refresh failed, or None if it succeeded."""
    state = state_name(refresh.state)
    if state == REFRESH_SUCCESS:
        return None
    return (
        f"Refresh {refresh.refresh_id} of the monitor of {table_name} ended in state {state}: "
        f"{refresh.message or 'no message'}. See the refresh history in Catalog Explorer (the "
        "table > Quality)."
    )


# Workspace calls.


def wait_until_active(
    monitors: QualityMonitorsAPI, table_name: str, monitor: MonitorInfo
) -> MonitorInfo:
    """Wait while the monitor is pending; fail clearly unless it ends up active."""
    deadline = time.monotonic() + ACTIVE_TIMEOUT_SECONDS
    while state_name(monitor.status) == MONITOR_PENDING:
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"The monitor of {table_name} is still pending after "
                f"{ACTIVE_TIMEOUT_SECONDS} s; run this task again once it is active."
            )
        time.sleep(POLL_SECONDS)
        monitor = monitors.get(table_name)
    status = state_name(monitor.status)
    if status != MONITOR_ACTIVE:
        raise RuntimeError(
            f"The monitor of {table_name} is in status {status}: "
            f"{monitor.latest_monitor_failure_msg or 'no failure message'}."
        )
    return monitor


def without_missing_tables(
    workspace: WorkspaceClient, spec: dict[str, Any]
) -> dict[str, Any] | None:
    """`spec` as the workspace allows it now: None while the predictions table does not exist
    (no records scored yet); without a baseline while there is none (the champion was promoted
    before evaluation wrote baselines: the next promotion writes it)."""
    tables = workspace.tables
    if not tables.exists(spec["table_name"]).table_exists:
        print(f"{spec['table_name']} does not exist yet (nothing scored): no monitor to refresh.")
        return None
    baseline = spec["baseline_table_name"]
    if not tables.exists(baseline).table_exists:
        print(f"No baseline {baseline} yet: drift is measured between time windows only.")
        return {**spec, "baseline_table_name": None}
    return spec


def share_dashboard(
    workspace: WorkspaceClient, monitor: MonitorInfo, access: list[AccessControlRequest]
) -> None:
    """Give the group its level on the monitor's dashboard (on every run: prod may have changed
    it). Other entries stay."""
    if monitor.dashboard_id:
        workspace.permissions.update("dashboards", monitor.dashboard_id, access_control_list=access)


def ensure_monitor(
    workspace: WorkspaceClient, spec: dict[str, Any], access: list[AccessControlRequest]
) -> tuple[MonitorInfo, bool]:
    """Create the monitor if it is missing, or update it if it differs from `spec`; wait until
    it is active; share its dashboard. Return it, and whether this call created it."""
    monitors = workspace.quality_monitors
    table_name = spec["table_name"]
    try:
        monitor = monitors.get(table_name)
    except (NotFound, ResourceDoesNotExist):
        print(f"Creating the quality monitor of {table_name}")
        monitor = wait_until_active(monitors, table_name, monitors.create(**spec))
        share_dashboard(workspace, monitor, access)
        return monitor, True
    monitor = wait_until_active(monitors, table_name, monitor)
    note = assets_dir_note(spec, monitor)
    if note:
        print(note)
    share_dashboard(workspace, monitor, access)
    changes = monitor_changes(spec, monitor)
    if not changes:
        print(f"The quality monitor of {table_name} already matches its specification")
        return monitor, False
    print(f"Updating the quality monitor of {table_name}: " + "; ".join(changes))
    updated = monitors.update(**update_arguments(spec, monitor))
    return wait_until_active(monitors, table_name, updated), False


def wait_for_refresh(
    monitors: QualityMonitorsAPI, table_name: str, refresh: MonitorRefreshInfo
) -> MonitorRefreshInfo:
    """Poll the refresh until it is no longer pending or running; return it."""
    deadline = time.monotonic() + REFRESH_TIMEOUT_SECONDS
    while state_name(refresh.state) in REFRESH_IN_PROGRESS:
        if time.monotonic() >= deadline:
            raise TimeoutError(
                f"Refresh {refresh.refresh_id} of the monitor of {table_name} is still "
                f"{state_name(refresh.state)} after {REFRESH_TIMEOUT_SECONDS} s. It goes on in "
                "the background: follow it in Catalog Explorer (the table > Quality)."
            )
        time.sleep(POLL_SECONDS)
        refresh = monitors.get_refresh(table_name, refresh.refresh_id)
    return refresh


def refresh_monitor(
    monitors: QualityMonitorsAPI, table_name: str, *, created: bool
) -> MonitorRefreshInfo:
    """Make sure a refresh covers the new predictions and succeeds; return it.

    Databricks starts a first refresh when it creates a monitor: that one is followed instead of
    starting a second one. Otherwise a refresh still in progress is waited for (another one
    would be rejected), then a new one is started.
    """
    refreshes = monitors.list_refreshes(table_name).refreshes or []
    followed = refresh_to_follow(refreshes, created=created)
    if followed is not None:
        why = "the first refresh, started on creation" if created else "started before this run"
        print(f"Waiting for refresh {followed.refresh_id} of the monitor of {table_name} ({why})")
        followed = wait_for_refresh(monitors, table_name, followed)
        failure = refresh_failure(followed, table_name)
        if created:
            if failure:
                raise RuntimeError(failure)
            return followed
        if failure:
            print(f"Note: {failure}")
    refresh = monitors.run_refresh(table_name)
    print(f"Started refresh {refresh.refresh_id} of the monitor of {table_name}")
    refresh = wait_for_refresh(monitors, table_name, refresh)
    failure = refresh_failure(refresh, table_name)
    if failure:
        raise RuntimeError(failure)
    return refresh


def main(argv: Sequence[str] | None = None) -> None:
    params = get_params(
        ["catalog", "schema", "assets_dir", "manage_group", "manage_permission"],
        "Create or update, then refresh, the quality monitor (Databricks only).",
        defaults={"manage_permission": "CAN_MANAGE"},
        argv=argv,
    )
    access = dashboard_access(params["manage_group"], params["manage_permission"])
    if not config.on_databricks():
        raise WorkspaceOnly("The quality monitor is refreshed by the inference job on Databricks.")
    workspace = WorkspaceClient()
    spec = without_missing_tables(
        workspace, monitor_spec(params["catalog"], params["schema"], params["assets_dir"])
    )
    if spec is None:
        return
    _, created = ensure_monitor(workspace, spec, access)
    refresh = refresh_monitor(workspace.quality_monitors, spec["table_name"], created=created)
    print(f"Refresh {refresh.refresh_id} of the monitor of {spec['table_name']} succeeded")


if __name__ == "__main__":
    main()
