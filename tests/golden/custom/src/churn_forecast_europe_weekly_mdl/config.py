"""Where the code runs, and what that changes: the only module that knows about local mode.

On Databricks, tables and models live in Unity Catalog, MLflow talks to the workspace and the
training files land in a UC volume. Locally (a laptop, CI), the same code runs on local PySpark
with a SQLite MLflow store, and a project folder (`.local/` by default) stands in for the
workspace:

    Unity Catalog / workspace                 local stand-in
    --------------------------------------    ---------------------------------------------
    table   <catalog>.<schema>.<table>        .local/tables/<catalog>/<schema>/<table> (parquet)
    volume  /Volumes/<catalog>/<schema>/...   .local/volumes/<catalog>/<schema>/...
    MLflow  databricks / databricks-uc        sqlite:///.local/mlflow.db (tracking and registry)
    model   <catalog>.<schema>.<model>        the same 3-level name, in the SQLite registry

Local tables are folders, read and written by path: no metastore to start (Hive's takes seconds)
or to lock, and a table is kept between runs simply because its files are.

Everything else in the code is the same on both. Environment variable:
    MLOPS_LOCAL_DIR   folder for the local stand-ins (default: ./.local)
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

# What the local run uses when no parameter is given: the dev target's names.
LOCAL_DEFAULTS = {
    "catalog": "ml_dev",
    "schema": "churn",
    "model_name": "churn_classifier",
    "experiment_name": "churn_forecast-eu",
}


@dataclass(frozen=True)
class Environment:
    """Everything that differs between a Databricks workspace and a local run."""

    name: str
    tracking_uri: str
    registry_uri: str
    # What stands for the `/Volumes` root.
    volumes_root: str
    # Local only: the folder that holds the tables, volumes and MLflow store.
    local_dir: Path | None = None

    @property
    def is_databricks(self) -> bool:
        return self.local_dir is None

    def table(self, uc_name: str) -> str:
        """Where the table `catalog.schema.table` is: the Unity Catalog name itself on Databricks,
        the folder of its parquet files locally (the spark module reads and writes them)."""
        parts = split_three_level(uc_name, what="table")
        if self.local_dir is None:
            return uc_name
        return str(self.local_dir.joinpath("tables", *parts))

    def path(self, path: str) -> str:
        """A `/Volumes/...` path as this environment sees it."""
        if path.startswith("/Volumes/"):
            return self.volumes_root + path[len("/Volumes") :]
        return path

    def volume_path(self, catalog: str, schema: str, volume: str, *parts: str) -> str:
        return self.path("/".join(["/Volumes", catalog, schema, volume, *parts]))


def databricks() -> Environment:
    return Environment(
        name="databricks",
        tracking_uri="databricks",
        registry_uri="databricks-uc",
        volumes_root="/Volumes",
    )


def local(local_dir: str | os.PathLike[str] | None = None) -> Environment:
    root = Path(local_dir or os.environ.get("MLOPS_LOCAL_DIR") or ".local").resolve()
    store = f"sqlite:///{root / 'mlflow.db'}"
    return Environment(
        name="local",
        tracking_uri=store,
        registry_uri=store,
        volumes_root=str(root / "volumes"),
        local_dir=root,
    )


def on_databricks() -> bool:
    # Set by every Databricks runtime, classic and serverless.
    return "DATABRICKS_RUNTIME_VERSION" in os.environ


def current() -> Environment:
    """The environment this process runs in (read again on every call: tests change it)."""
    return databricks() if on_databricks() else local()


def local_git_commit() -> str:
    """The commit checked out here, recorded on local runs as the bundle records the deployed one
    on Databricks; empty outside a git repository."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def split_three_level(name: str, what: str = "name") -> tuple[str, str, str]:
    """Split `catalog.schema.object`, refusing anything else.

    Unity Catalog requires three levels; the local SQLite registry and Spark catalog would accept
    other shapes silently, so the check is made here, for both.
    """
    parts = name.split(".")
    valid = len(parts) == 3 and all(
        part and all(c.isalnum() or c in "_-" for c in part) for part in parts
    )
    if not valid:
        raise ValueError(
            f"{what} {name!r} is not a Unity Catalog 3-level name <catalog>.<schema>.<{what}> "
            "(letters, digits, '_' or '-' in each part)."
        )
    return parts[0], parts[1], parts[2]
