"""The SparkSession: the cluster's on Databricks, a tuned local one elsewhere."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from churn_forecast_europe_weekly_mdl import config
from churn_forecast_europe_weekly_mdl.errors import LocalFolderInUseError, MissingTableError

# Local JVM flags. A small heap needs no parallel garbage collector threads.
LOCAL_JVM_FLAGS = ["-XX:+UseSerialGC"]
# For short runs on small data (the tests, the sample): JIT-compile with C1 only. The JVM starts
# and warms up faster, but runs data-heavy queries about 1.5x slower, so runs on larger data keep
# the full JIT.
QUICK_START_JVM_FLAGS = ["-XX:TieredStopAtLevel=1"]
# Spark's classes, archived by `make install` (the local.class_archive module): mapped already
# parsed, they let a local JVM start seconds sooner. It belongs to this virtualenv's
# PySpark and one Java build; a stale archive is ignored by the JVM, which then starts slower.
CLASS_ARCHIVE = Path(sys.prefix) / "spark-classes.jsa"
# The archive only changes how fast the JVM starts: its warnings would only be noise.
QUIET_ARCHIVE_FLAGS = ["-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
# Spark's own log settings for local runs: errors only, from the first line on. Its default profile
# prints its name and a native-library warning (Hadoop's builtin Java classes are what runs here)
# before get_spark can lower the level. Spark takes PySpark's gateway for an interactive shell and
# announces the shell's log level unless the gateway's logger sets the same level as the root.
LOCAL_LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
logger.pyspark.name = org.apache.spark.api.python.PythonGatewayServer
logger.pyspark.level = error
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
"""
# Spark 3.5 and 4.0 put a session's scratch folder in ./artifacts of the working directory
# (SPARK-52396) and, when the JVM exits, delete the scratch folder but not ./artifacts.
SPARK_SCRATCH_PARENT = "artifacts"


def get_spark(app_name: str = "churn_forecast-eu", quick_start: bool = False) -> SparkSession:
    """The session; locally, `quick_start` favours start-up over throughput (tests, small data)."""
    env = config.current()
    if env.is_databricks:
        return SparkSession.builder.getOrCreate()
    jvm_flags = [*LOCAL_JVM_FLAGS, *class_archive_flags()]
    if quick_start:
        jvm_flags += QUICK_START_JVM_FLAGS
    return local_session(env, app_name, jvm_flags)


def class_archive_flags() -> list[str]:
    """JVM flags that map the class archive, if there is one."""
    if not CLASS_ARCHIVE.is_file():
        return []
    return [f"-XX:SharedArchiveFile={CLASS_ARCHIVE}", *QUIET_ARCHIVE_FLAGS]


def log_flags(env: config.Environment) -> list[str]:
    """JVM flags that give Spark the local log settings (written into the local folder, which
    local_session has made)."""
    assert env.local_dir is not None
    settings = env.local_dir / "log4j2.properties"
    if not settings.is_file() or settings.read_text() != LOCAL_LOG4J2:
        settings.write_text(LOCAL_LOG4J2)
    return [f"-Dlog4j2.configurationFile={settings.as_uri()}"]


def stop_jvm(jvm: subprocess.Popen, timeout: float) -> None:
    """Let the local JVM that pyspark started exit, and wait for it: its gateway exits when its
    stdin closes, after running the JVM's shutdown hooks (and writing a class archive, if asked)."""
    jvm.stdin.close()
    jvm.wait(timeout=timeout)


def _remove_scratch_parent_at_exit() -> None:
    """Remove Spark's ./artifacts when this process ends, if this process made it."""
    folder = Path(SPARK_SCRATCH_PARENT).resolve()
    if not folder.exists():  # else someone's own folder, or an earlier session's: not ours
        atexit.register(_stop_jvm_then_remove, folder)


def _stop_jvm_then_remove(folder: Path) -> None:
    from pyspark import SparkContext

    active = SparkContext._active_spark_context
    if active is not None:
        # Stopped first, so that its Python side (PySpark 3.5's accumulator server) shuts down
        # before the JVM it talks to exits.
        with contextlib.suppress(Exception):
            active.stop()
    jvm = getattr(SparkContext._gateway, "proc", None)  # the JVM process pyspark started
    if jvm is not None and jvm.poll() is None:
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            stop_jvm(jvm, timeout=30)
    with contextlib.suppress(OSError):
        folder.rmdir()  # only if empty: the JVM has removed its scratch folder


def local_session(env: config.Environment, app_name: str, jvm_flags: list[str]) -> SparkSession:
    """A local session for `env`, its JVM started with `jvm_flags` (and the local log settings)."""
    assert env.local_dir is not None
    env.local_dir.mkdir(parents=True, exist_ok=True)
    _lock_local_folder(env.local_dir)
    jvm_flags = [*jvm_flags, *log_flags(env)]
    # Python workers (spark_udf) must use this interpreter, not whatever `python3` is on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.master("local[*]")
        .appName(app_name)
        .config("spark.driver.extraJavaOptions", " ".join(jvm_flags))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        # Tables are read and written by path (see config.table); this only keeps a stray
        # saveAsTable() out of the working directory.
        .config("spark.sql.warehouse.dir", str(env.local_dir / "spark-warehouse"))
        .config("spark.sql.session.timeZone", "UTC")
        # Let adaptive execution size shuffles and cached results by the data: the sample becomes
        # one partition, so one Python worker (each pays ~3 s importing MLflow and scikit-learn)
        # scores it; a million rows still spread over every core.
        .config("spark.sql.optimizer.canChangeCachedPlanOutputPartitioning", "true")
        # One shuffle partition per core, not 200: Spark 3.5 keeps a cached join's 200 partitions,
        # and scoring them starts 200 Python tasks (20 s for 600 rows, against 1 s).
        .config("spark.sql.shuffle.partitions", str(os.cpu_count() or 1))
        # Fewer, larger Arrow batches to the scoring UDF: ~15% more rows/s at 1M rows.
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "50000")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    _remove_scratch_parent_at_exit()
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


# Local folders this process holds, each with its open lock file (held until the process ends).
_locked_folders: dict[Path, TextIO] = {}


def _lock_local_folder(folder: Path) -> None:
    """Claim `folder` for this process. Two processes on one local folder would overwrite each
    other's tables, so the second stops here, before it starts Spark or writes anything."""
    if folder in _locked_folders:
        return
    lock = (folder / ".lock").open("a")
    if not lock_exclusively(lock):
        lock.close()
        raise LocalFolderInUseError(
            f"Another local run is using {folder}: a `make pipeline`, a step, or a notebook or "
            "Python shell that called get_spark(). Let it finish or stop it, or give this run its "
            "own folder: MLOPS_LOCAL_DIR=/some/other/folder make pipeline."
        ) from None
    _locked_folders[folder] = lock


def lock_exclusively(handle: TextIO) -> bool:
    """Take an exclusive lock on an open file without waiting; False if someone else holds it.
    The operating system releases it when the process ends, however it ends."""
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)  # every process locks the same byte: the first
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def read_table(spark: SparkSession, uc_name: str) -> DataFrame:
    """Read a table by its Unity Catalog name (its parquet folder, locally)."""
    env = config.current()
    location = env.table(uc_name)
    if env.is_databricks:
        return spark.read.table(location)
    if not _complete_local_table(location):
        raise MissingTableError(
            f"Table {uc_name} does not exist yet (locally: {location}). Run the step "
            "that writes it first; `make pipeline` runs every step in order."
        )
    # Appends may have added columns (write_table's replace_schema): read them all.
    return spark.read.option("mergeSchema", "true").parquet(location)


def table_exists(spark: SparkSession, uc_name: str) -> bool:
    env = config.current()
    location = env.table(uc_name)
    if env.is_databricks:
        return spark.catalog.tableExists(location)
    return _complete_local_table(location)


def _complete_local_table(location: str) -> bool:
    # Spark writes _SUCCESS last: a folder without it holds no complete table.
    return (Path(location) / "_SUCCESS").is_file()


@contextlib.contextmanager
def cached_locally(df: DataFrame) -> Iterator[DataFrame]:
    """`df`, cached while the block runs when local, so that several actions on it parse the
    input once (parsing is what costs on a laptop). Unchanged on Databricks: serverless compute
    cannot cache, and a cluster reads the files in parallel."""
    if config.current().is_databricks:
        yield df
        return
    cached = df.cache()
    try:
        yield cached
    finally:
        cached.unpersist()


def write_table(df: DataFrame, uc_name: str, mode: str, replace_schema: bool = False) -> None:
    """Write a table by its Unity Catalog name: a Delta table on Databricks (the default format
    there), parquet files locally (Delta's jars cannot be fetched offline).

    `replace_schema` lets the columns change (Delta refuses that by default): an overwrite
    replaces them, an append adds the new ones. Locally, read_table merges the files' schemas."""
    env = config.current()
    if env.is_databricks:
        writer = df.write.mode(mode)
        if replace_schema:
            option = "overwriteSchema" if mode == "overwrite" else "mergeSchema"
            writer = writer.option(option, "true")
        writer.saveAsTable(env.table(uc_name))
    else:
        df.write.mode(mode).parquet(env.table(uc_name))


CHANGE_DATA_FEED = "delta.enableChangeDataFeed"


def enable_change_data_feed(spark: SparkSession, uc_name: str) -> None:
    """Record row-level changes of a Delta table, so that readers such as the quality monitor
    process only what changed; a table that has it already is left alone (each ALTER would be a
    new table version). Nothing to do locally (parquet)."""
    if not config.current().is_databricks:
        return
    table = quoted(uc_name)
    found = spark.sql(f"SHOW TBLPROPERTIES {table} ('{CHANGE_DATA_FEED}')").collect()
    if found and str(found[0]["value"]).lower() == "true":
        return
    spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES ({CHANGE_DATA_FEED} = true)")


def update_matching(
    spark: SparkSession, uc_name: str, updates: DataFrame, key: str, columns: list[str]
) -> None:
    """Set `columns` on the table's rows whose `key` matches a row of `updates` (one row per key,
    values not NULL). A Delta MERGE on Databricks; locally the parquet folder is rewritten."""
    env = config.current()
    if env.is_databricks:
        view = f"updates_{uuid.uuid4().hex}"
        updates.select(key, *columns).createOrReplaceTempView(view)
        changed = " OR ".join(f"NOT (t.`{c}` <=> s.`{c}`)" for c in columns)
        assignments = ", ".join(f"t.`{c}` = s.`{c}`" for c in columns)
        try:
            spark.sql(
                f"MERGE INTO {quoted(uc_name)} AS t USING {view} AS s ON t.`{key}` = s.`{key}` "
                f"WHEN MATCHED AND ({changed}) THEN UPDATE SET {assignments}"
            )
        finally:
            spark.catalog.dropTempView(view)
        return
    location = Path(env.table(uc_name))
    current = spark.read.option("mergeSchema", "true").parquet(str(location))
    new = updates.select(key, *[F.col(c).alias(f"__new_{c}") for c in columns])
    merged = current.join(new, key, "left").select(
        *[
            F.coalesce(F.col(f"__new_{c}"), F.col(c)).cast(dtype).alias(c)
            if c in columns
            else F.col(c)
            for c, dtype in current.dtypes
        ]
    )
    # Spark cannot overwrite a folder it reads from: write beside it, then swap.
    staging = location.with_name(location.name + ".updating")
    merged.write.mode("overwrite").parquet(str(staging))
    shutil.rmtree(location)
    staging.rename(location)


def quoted(uc_name: str) -> str:
    """`catalog`.`schema`.`table` for SQL: parts may hold '-' (config.split_three_level)."""
    return ".".join(f"`{part}`" for part in config.split_three_level(uc_name, what="table"))
