"""The cleanup job: what tasks created is deleted before `bundle destroy`, and a second run finds
nothing to delete."""

from __future__ import annotations

from unittest import mock

from databricks.sdk.errors import NotFound
from databricks.sdk.service.catalog import MonitorInfo

from churn_forecast_europe_weekly_mdl import cleanup

ARGV = ["--catalog=cat", "--schema=sch", "--endpoint_name=proj-prod"]


def _run(workspace: mock.MagicMock, monkeypatch) -> None:
    monkeypatch.setattr(cleanup.config, "on_databricks", lambda: True)
    monkeypatch.setattr(cleanup, "WorkspaceClient", lambda: workspace)
    cleanup.main(ARGV)


def test_cleanup_deletes_what_the_tasks_created(monkeypatch):
    workspace = mock.MagicMock()
    workspace.quality_monitors.get.return_value = MonitorInfo.from_dict(
        {"table_name": "cat.sch.predictions", "dashboard_id": "dash"}
    )

    _run(workspace, monkeypatch)
    workspace.serving_endpoints.delete.assert_called_once_with("proj-prod")
    workspace.quality_monitors.delete.assert_called_once_with(table_name="cat.sch.predictions")
    workspace.lakeview.trash.assert_called_once_with("dash")


def test_a_second_run_finds_nothing_and_succeeds(monkeypatch, capsys):
    workspace = mock.MagicMock()
    workspace.serving_endpoints.delete.side_effect = NotFound("gone")
    workspace.quality_monitors.get.side_effect = NotFound("gone")

    _run(workspace, monkeypatch)
    workspace.quality_monitors.delete.assert_not_called()
    assert "nothing to delete" in capsys.readouterr().out
