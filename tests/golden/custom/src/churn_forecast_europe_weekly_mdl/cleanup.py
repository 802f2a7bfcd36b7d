"""Removing what the jobs' tasks created in the workspace, before a target is destroyed.

The serving endpoint and the quality monitor are created by tasks, not declared in the bundle
(a first deploy could not create them), so `databricks bundle destroy` does not remove them. Run
this job first:

    databricks bundle run -t <target> cleanup
    databricks bundle destroy -t <target>

It deletes the serving endpoint and the quality monitor with its dashboard; what is already gone is
skipped, so it can run again.
The monitor's metric tables are in the schema, which `bundle destroy` drops.

Entry point `cleanup` (the job of that name in resources/jobs.yml). Parameters: `catalog`,
`schema`, `endpoint_name`. Runs on Databricks only.
"""

from collections.abc import Sequence

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, ResourceDoesNotExist

from churn_forecast_europe_weekly_mdl import config, naming
from churn_forecast_europe_weekly_mdl.errors import WorkspaceOnly
from churn_forecast_europe_weekly_mdl.params import get_params


def delete_endpoint(workspace: WorkspaceClient, name: str) -> bool:
    """Delete the serving endpoint `name`; False if there is none."""
    try:
        workspace.serving_endpoints.delete(name)
    except (NotFound, ResourceDoesNotExist):
        print(f"No serving endpoint {name}: nothing to delete")
        return False
    print(f"Deleted serving endpoint {name}")
    return True


def delete_monitor(workspace: WorkspaceClient, table_name: str) -> bool:
    """Delete the quality monitor of `table_name` and its dashboard (the API leaves dashboards
    behind); False if there is no monitor."""
    try:
        monitor = workspace.quality_monitors.get(table_name)
    except (NotFound, ResourceDoesNotExist):
        print(f"No quality monitor on {table_name}: nothing to delete")
        return False
    workspace.quality_monitors.delete(table_name=table_name)
    print(f"Deleted the quality monitor of {table_name}")
    if monitor.dashboard_id:
        try:
            workspace.lakeview.trash(monitor.dashboard_id)
        except (NotFound, ResourceDoesNotExist):
            return True
        print(f"Moved its dashboard {monitor.dashboard_id} to the trash")
    return True


def main(argv: Sequence[str] | None = None) -> None:
    params = get_params(
        ["catalog", "schema", "endpoint_name"],
        "Delete what the jobs created in the workspace (Databricks only).",
        argv=argv,
    )
    if not config.on_databricks():
        raise WorkspaceOnly("This job cleans a workspace before `databricks bundle destroy`.")
    workspace = WorkspaceClient()
    delete_endpoint(workspace, params["endpoint_name"])
    delete_monitor(workspace, naming.predictions_table(params["catalog"], params["schema"]))


if __name__ == "__main__":
    main()
