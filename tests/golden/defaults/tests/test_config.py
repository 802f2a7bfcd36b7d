"""Local mode maps Unity Catalog names through config; names are checked like Unity Catalog does."""

from __future__ import annotations

import pytest

from ml_project import config, naming
from ml_project.errors import LocalFolderInUseError
from ml_project.params import get_params
from ml_project.spark import get_spark, lock_exclusively


def test_local_mode_maps_tables_and_volumes(local_env):
    assert local_env.table("cat.sch.features") == f"{local_env.local_dir}/tables/cat/sch/features"
    assert (
        local_env.path("/Volumes/cat/sch/input/x")
        == f"{local_env.local_dir}/volumes/cat/sch/input/x"
    )
    assert local_env.tracking_uri == local_env.registry_uri
    assert local_env.tracking_uri.startswith("sqlite:///")


def test_databricks_uses_unity_catalog_names_and_stores_as_they_are():
    env = config.databricks()
    assert env.table("cat.sch.features") == "cat.sch.features"
    assert env.path("/Volumes/cat/sch/input/x") == "/Volumes/cat/sch/input/x"
    assert (env.tracking_uri, env.registry_uri) == ("databricks", "databricks-uc")


@pytest.mark.parametrize("bad", ["model", "sch.model", "a.b.c.d", "cat..model", "cat.sch.my model"])
def test_model_names_must_have_three_levels(bad):
    with pytest.raises(ValueError, match="3-level"):
        config.split_three_level(bad, what="model")


def test_model_name_parameter_is_the_bare_name():
    assert naming.model_name("cat", "sch", "mdl") == "cat.sch.mdl"
    with pytest.raises(ValueError, match="bare model name"):
        naming.model_name("cat", "sch", "cat.sch.mdl")


def test_local_parameters_come_from_the_command_line():
    params = get_params(["catalog", "schema"], "test", argv=["--schema", "other"])
    assert params == {"catalog": config.LOCAL_DEFAULTS["catalog"], "schema": "other"}
    with pytest.raises(ValueError, match="Missing parameter"):
        get_params(["catalog"], "test", argv=["--catalog", " "])


def test_jobs_pass_named_parameters_as_options(monkeypatch, capsys):
    """A wheel task gets its named_parameters, and every job parameter, as --name=value."""
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    argv = ["--catalog=main", "--model_name=churn", "--run_label=nightly"]
    assert get_params(["catalog", "model_name"], "test", argv=argv) == {
        "catalog": "main",
        "model_name": "churn",
    }
    assert "--run_label=nightly" in capsys.readouterr().out
    # On a workspace no dev name stands in for a parameter the job forgot.
    with pytest.raises(ValueError, match=r"Missing parameter.*model_name"):
        get_params(["catalog", "model_name"], "test", argv=["--catalog=main"])


def test_a_local_default_derives_from_the_other_parameters(monkeypatch):
    derived = {"input_path": lambda values: f"/Volumes/{values['catalog']}/{values['schema']}"}
    params = get_params(
        ["catalog", "schema", "input_path"], "test", argv=["--schema", "mine"],
        local_defaults=derived,
    )  # fmt: skip
    assert params["input_path"] == f"/Volumes/{config.LOCAL_DEFAULTS['catalog']}/mine"
    # On a workspace nothing is derived: the job must pass it.
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    with pytest.raises(ValueError, match=r"Missing parameter.*input_path"):
        get_params(
            ["catalog", "schema", "input_path"], "test", argv=["--catalog=c", "--schema=s"],
            local_defaults=derived,
        )  # fmt: skip


def test_locally_an_option_a_step_does_not_take_is_an_error(capsys):
    with pytest.raises(SystemExit):
        get_params(["catalog"], "test", argv=["--catalgo", "main"])
    assert "unrecognized arguments: --catalgo" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # no abbreviations: --cat is not --catalog
        get_params(["catalog"], "test", argv=["--cat", "main"])


def test_a_second_run_on_the_same_local_folder_stops_clearly(tmp_path, monkeypatch):
    folder = tmp_path / "busy"
    folder.mkdir()
    monkeypatch.setenv("MLOPS_LOCAL_DIR", str(folder))
    with (folder / ".lock").open("a") as other_run:
        assert lock_exclusively(other_run)
        with pytest.raises(LocalFolderInUseError, match=r"Another local run is using .*busy"):
            get_spark()
    assert sorted(path.name for path in folder.iterdir()) == [".lock"]  # nothing else written
