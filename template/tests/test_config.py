"""Local mode maps Unity Catalog names through config; names are checked like Unity Catalog does."""

from __future__ import annotations

import fcntl

import pytest

from common import config, naming
from common.errors import LocalFolderInUseError
from common.params import get_params
from common.spark import get_spark


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


def test_a_second_run_on_the_same_local_folder_stops_clearly(tmp_path, monkeypatch):
    folder = tmp_path / "busy"
    folder.mkdir()
    monkeypatch.setenv("MLOPS_LOCAL_DIR", str(folder))
    with (folder / ".lock").open("a") as other_run:
        fcntl.flock(other_run, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(LocalFolderInUseError, match=r"Another local run is using .*busy"):
            get_spark()
    assert sorted(path.name for path in folder.iterdir()) == [".lock"]  # nothing else written
