"""Quality monitor: the monitor it wants on the predictions table, how it compares with an
existing one, and create / update / refresh, without a workspace."""

from __future__ import annotations

from unittest import mock

import pytest
from databricks.sdk.errors import NotFound
from databricks.sdk.service.catalog import (
    MonitorInfo,
    MonitorRefreshInfo,
    MonitorRefreshListResponse,
)

from ml_project import naming, problem
from ml_project.monitoring import quality_monitor as qm

SPEC = qm.monitor_spec("cat", "sch", "/Workspace/Users/me/.bundle/p/dev/monitoring")
ACCESS = qm.dashboard_access("ml-engineers", "CAN_MANAGE")
SCHEDULE = {"quartz_cron_expression": "0 0 6 * * ?", "timezone_id": "UTC"}


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch):
    monkeypatch.setattr(qm, "POLL_SECONDS", 0)


def _monitor(status: str = "MONITOR_STATUS_ACTIVE", **overrides) -> MonitorInfo:
    """A monitor as `get` returns it; by default exactly SPEC. from_dict, because the required
    fields of MonitorInfo differ between SDK versions."""
    fields = {
        "table_name": SPEC["table_name"],
        "status": status,
        "output_schema_name": SPEC["output_schema_name"],
        "assets_dir": SPEC["assets_dir"],
        "inference_log": SPEC["inference_log"].as_dict(),
        "baseline_table_name": SPEC["baseline_table_name"],
        "dashboard_id": "dash",
        "schedule": SCHEDULE,
        **overrides,
    }
    return MonitorInfo.from_dict(fields)


def _refresh(refresh_id: int, state: str, start: int = 0, message: str | None = None):
    return MonitorRefreshInfo.from_dict(
        {"refresh_id": refresh_id, "state": state, "start_time_ms": start, "message": message}
    )


def _refreshes(*refreshes: MonitorRefreshInfo) -> MonitorRefreshListResponse:
    return MonitorRefreshListResponse(refreshes=list(refreshes))


def test_monitor_watches_the_predictions_table_batch_inference_writes():
    spec = qm.monitor_spec("cat", "sch", "/Workspace/x/monitoring")
    log = spec["inference_log"]

    assert spec["table_name"] == "cat.sch.predictions"
    assert spec["output_schema_name"] == "cat.sch"
    assert spec["assets_dir"] == "/Workspace/x/monitoring"
    assert log.problem_type.value == problem.MONITOR_PROBLEM_TYPE
    assert (log.prediction_col, log.timestamp_col, log.model_id_col) == (
        naming.PREDICTION_COLUMN,
        naming.TIMESTAMP_COLUMN,
        naming.MODEL_VERSION_COLUMN,
    )
    assert log.granularities == ["1 day"]
    # Model quality from the merged labels, drift against the champion's held-out rows.
    assert log.label_col == problem.LABEL_COLUMN
    assert spec["baseline_table_name"] == "cat.sch.predictions_baseline"


@pytest.mark.parametrize("level", ["CAN_MANAGE", "CAN_READ"])
def test_the_dashboard_goes_to_the_engineers_at_their_level(level):
    """They manage it in dev and staging; in prod they read it."""
    (entry,) = qm.dashboard_access("ml-engineers", level)
    assert (entry.group_name, entry.permission_level.value) == ("ml-engineers", level)
    with pytest.raises(ValueError, match="is not one of"):
        qm.dashboard_access("ml-engineers", "CAN_QUERY")


# Comparing.


def test_a_monitor_that_matches_has_no_changes():
    assert qm.monitor_changes(SPEC, _monitor()) == []


def test_granularity_order_does_not_matter():
    log = {**SPEC["inference_log"].as_dict(), "granularities": ["1 week", "1 day"]}
    spec = {**SPEC, "inference_log": qm.inference_log()}
    spec["inference_log"].granularities = ["1 day", "1 week"]
    assert qm.monitor_changes(spec, _monitor(inference_log=log)) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("granularities", ["1 hour"]),
        ("prediction_col", "score"),
        ("timestamp_col", "ts"),
        ("model_id_col", "version"),
        (
            "problem_type",
            "PROBLEM_TYPE_REGRESSION"
            if problem.MONITOR_PROBLEM_TYPE == "PROBLEM_TYPE_CLASSIFICATION"
            else "PROBLEM_TYPE_CLASSIFICATION",
        ),
        ("label_col", "outcome"),
    ],
)
def test_each_inference_log_field_is_compared(field, value):
    log = {**SPEC["inference_log"].as_dict(), field: value}
    (change,) = qm.monitor_changes(SPEC, _monitor(inference_log=log))
    assert change.startswith(f"inference_log.{field}:")


def test_the_baseline_table_is_compared_and_updated():
    monitor = _monitor(baseline_table_name=None)  # a monitor created before baselines
    assert qm.monitor_changes(SPEC, monitor) == [
        "baseline_table_name: None -> 'cat.sch.predictions_baseline'"
    ]
    assert qm.update_arguments(SPEC, monitor)["baseline_table_name"] == SPEC["baseline_table_name"]


def test_the_output_schema_is_compared():
    (change,) = qm.monitor_changes(SPEC, _monitor(output_schema_name="cat.other"))
    assert change == "output_schema_name: 'cat.other' -> 'cat.sch'"


def test_a_monitor_of_another_type_cannot_be_updated():
    monitor = _monitor(inference_log=None, snapshot={})
    with pytest.raises(ValueError, match="not an inference log monitor"):
        qm.monitor_changes(SPEC, monitor)


def test_another_assets_dir_is_only_reported():
    same = _monitor(assets_dir=SPEC["assets_dir"].removeprefix("/Workspace") + "/")
    assert qm.assets_dir_note(SPEC, same) is None
    note = qm.assets_dir_note(SPEC, _monitor(assets_dir="/Users/me/elsewhere"))
    assert note is not None and "fixed when a monitor is created" in note


def test_update_keeps_what_the_task_does_not_manage():
    arguments = qm.update_arguments(SPEC, _monitor(slicing_exprs=["country"]))

    assert arguments["inference_log"] is SPEC["inference_log"]
    assert arguments["output_schema_name"] == "cat.sch"
    assert arguments["schedule"].quartz_cron_expression == SCHEDULE["quartz_cron_expression"]
    assert arguments["slicing_exprs"] == ["country"]
    assert arguments["dashboard_id"] == "dash"


# Creating and updating.


def test_missing_monitor_is_created_and_its_dashboard_shared():
    workspace = mock.MagicMock()
    workspace.quality_monitors.get.side_effect = NotFound("no monitor")
    workspace.quality_monitors.create.return_value = _monitor()

    _, created = qm.ensure_monitor(workspace, SPEC, ACCESS)

    assert created is True
    workspace.quality_monitors.create.assert_called_once_with(**SPEC)
    args = workspace.permissions.update.call_args
    assert args.args[:2] == ("dashboards", "dash")
    assert args.kwargs["access_control_list"] == ACCESS


def test_a_new_monitor_that_fails_to_activate_fails_clearly():
    workspace = mock.MagicMock()
    workspace.quality_monitors.get.side_effect = [
        NotFound("no monitor"),
        _monitor("MONITOR_STATUS_ERROR", latest_monitor_failure_msg="no permission"),
    ]
    workspace.quality_monitors.create.return_value = _monitor("MONITOR_STATUS_PENDING")

    with pytest.raises(RuntimeError, match="MONITOR_STATUS_ERROR: no permission"):
        qm.ensure_monitor(workspace, SPEC, ACCESS)


def test_a_monitor_that_stays_pending_times_out(monkeypatch):
    monkeypatch.setattr(qm, "ACTIVE_TIMEOUT_SECONDS", 0)
    workspace = mock.MagicMock()
    workspace.quality_monitors.get.return_value = _monitor("MONITOR_STATUS_PENDING")

    with pytest.raises(TimeoutError, match="still pending"):
        qm.ensure_monitor(workspace, SPEC, ACCESS)


def test_existing_monitor_that_matches_is_left_as_it_is(capsys):
    workspace = mock.MagicMock()
    workspace.quality_monitors.get.return_value = _monitor()

    _, created = qm.ensure_monitor(workspace, SPEC, ACCESS)

    assert created is False
    workspace.quality_monitors.create.assert_not_called()
    workspace.quality_monitors.update.assert_not_called()
    assert "already matches" in capsys.readouterr().out
    # The dashboard's access is set again: the level may have changed (prod reads only).
    workspace.permissions.update.assert_called_once()


def test_existing_monitor_that_differs_is_updated():
    old_log = {**SPEC["inference_log"].as_dict(), "granularities": ["1 hour"]}
    workspace = mock.MagicMock()
    workspace.quality_monitors.get.return_value = _monitor(inference_log=old_log)
    workspace.quality_monitors.update.return_value = _monitor()

    _, created = qm.ensure_monitor(workspace, SPEC, ACCESS)

    assert created is False
    kwargs = workspace.quality_monitors.update.call_args.kwargs
    assert kwargs["table_name"] == "cat.sch.predictions"
    assert kwargs["inference_log"].granularities == ["1 day"]
    assert kwargs["schedule"].timezone_id == "UTC"
    workspace.quality_monitors.create.assert_not_called()


# Refreshing.


def test_refresh_to_follow():
    done, running = _refresh(1, "SUCCESS", 1), _refresh(2, "RUNNING", 2)
    assert qm.refresh_to_follow([done, running], created=False) is running
    assert qm.refresh_to_follow([done], created=False) is None
    assert qm.refresh_to_follow([done], created=True) is done
    assert qm.refresh_to_follow([], created=True) is None


def test_after_create_the_first_refresh_is_followed_not_started_again():
    monitors = mock.MagicMock()
    monitors.list_refreshes.return_value = _refreshes(_refresh(7, "PENDING"))
    monitors.get_refresh.side_effect = [_refresh(7, "RUNNING"), _refresh(7, "SUCCESS")]

    refresh = qm.refresh_monitor(monitors, SPEC["table_name"], created=True)

    assert refresh.refresh_id == 7
    monitors.run_refresh.assert_not_called()
    assert monitors.get_refresh.call_args.args == (SPEC["table_name"], 7)


def test_after_create_a_refresh_is_started_if_none_is_listed():
    monitors = mock.MagicMock()
    monitors.list_refreshes.return_value = _refreshes()
    monitors.run_refresh.return_value = _refresh(1, "SUCCESS")

    qm.refresh_monitor(monitors, SPEC["table_name"], created=True)

    monitors.run_refresh.assert_called_once_with(SPEC["table_name"])


def test_an_existing_monitor_waits_for_a_refresh_in_progress_then_starts_its_own():
    monitors = mock.MagicMock()
    monitors.list_refreshes.return_value = _refreshes(_refresh(3, "RUNNING"))
    monitors.get_refresh.side_effect = [_refresh(3, "SUCCESS"), _refresh(4, "SUCCESS")]
    monitors.run_refresh.return_value = _refresh(4, "PENDING")

    refresh = qm.refresh_monitor(monitors, SPEC["table_name"], created=False)

    assert refresh.refresh_id == 4
    assert [call.args[1] for call in monitors.get_refresh.call_args_list] == [3, 4]
    monitors.run_refresh.assert_called_once()


@pytest.mark.parametrize("state", ["FAILED", "CANCELED", "ERROR", "UNKNOWN"])
def test_a_refresh_that_does_not_succeed_fails_the_task(state):
    monitors = mock.MagicMock()
    monitors.list_refreshes.return_value = _refreshes()
    monitors.run_refresh.return_value = _refresh(5, "PENDING")
    monitors.get_refresh.return_value = _refresh(5, state, message="out of memory")

    with pytest.raises(RuntimeError, match=r"ended in state (FAILED|CANCELED|UNKNOWN)"):
        qm.refresh_monitor(monitors, SPEC["table_name"], created=False)


def test_a_failed_first_refresh_fails_the_task():
    monitors = mock.MagicMock()
    monitors.list_refreshes.return_value = _refreshes(_refresh(1, "FAILED", message="boom"))

    with pytest.raises(RuntimeError, match=r"Refresh 1 .* FAILED: boom"):
        qm.refresh_monitor(monitors, SPEC["table_name"], created=True)
    monitors.run_refresh.assert_not_called()


def test_a_refresh_that_never_ends_times_out(monkeypatch):
    monkeypatch.setattr(qm, "REFRESH_TIMEOUT_SECONDS", 0)
    monitors = mock.MagicMock()
    monitors.list_refreshes.return_value = _refreshes()
    monitors.run_refresh.return_value = _refresh(9, "RUNNING")

    with pytest.raises(TimeoutError, match=r"Refresh 9 .* still RUNNING"):
        qm.refresh_monitor(monitors, SPEC["table_name"], created=False)


# What exists yet.


def _tables(*existing: str) -> mock.MagicMock:
    workspace = mock.MagicMock()
    workspace.tables.exists.side_effect = lambda name: mock.Mock(table_exists=name in existing)
    return workspace


def test_nothing_scored_yet_is_nothing_to_monitor(capsys):
    """Batch inference found no records (no input yet): the job goes on without failing."""
    assert qm.without_missing_tables(_tables(), SPEC) is None
    assert "nothing scored" in capsys.readouterr().out


def test_a_monitor_without_a_baseline_until_a_promotion_writes_one(capsys):
    spec = qm.without_missing_tables(_tables(SPEC["table_name"]), SPEC)
    assert spec is not None and spec["baseline_table_name"] is None
    assert "No baseline" in capsys.readouterr().out
    # An existing monitor keeps the baseline it has; a missing one is no change to apply.
    assert qm.monitor_changes(spec, _monitor(baseline_table_name=None)) == []
    kept = qm.update_arguments(spec, _monitor())["baseline_table_name"]
    assert kept == SPEC["baseline_table_name"]
    both = _tables(SPEC["table_name"], SPEC["baseline_table_name"])
    assert qm.without_missing_tables(both, SPEC) == SPEC
