"""A class-data-sharing archive for the local Spark JVM: `make install` writes it, get_spark maps
it (ml_project.spark.CLASS_ARCHIVE).

A cold JVM spends seconds loading and verifying Spark's classes before its first job. Java 13+ can
archive the classes a run loaded (-XX:ArchiveClassesAtExit) and map them, already parsed, at the
next start (-XX:SharedArchiveFile): a local session starts and runs its first jobs about 3 s
sooner. The archive belongs to this virtualenv's PySpark jars and to one Java build, so it lives
in the virtualenv. When either changes, the JVM finds it stale and starts without it, only slower;
`make install` writes a new one. Locally only: Databricks starts its own JVM.

    uv run python -m ml_project.local.class_archive
    # what `make install` runs (about 30 s)
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from ml_project import config, spark
from ml_project.spark import CLASS_ARCHIVE as ARCHIVE


def write() -> Path:
    """Run the kinds of Spark work the steps do, then let the JVM archive the classes it loaded.

    The JVM writes the archive as it exits; it is written under a temporary name and renamed when
    complete, so a session starting meanwhile never maps half a file.
    """
    partial = ARCHIVE.with_name(f"{ARCHIVE.name}.{os.getpid()}.partial")
    try:
        with tempfile.TemporaryDirectory(prefix="class-archive-") as scratch:
            session = spark.local_session(
                config.local(scratch),
                "class-archive",
                [
                    *spark.LOCAL_JVM_FLAGS,
                    f"-XX:ArchiveClassesAtExit={partial}",
                    *spark.QUIET_ARCHIVE_FLAGS,
                ],
            )
            jvm = session.sparkContext._gateway.proc  # the JVM process pyspark started
            try:
                _exercise(session, Path(scratch))
            finally:
                session.stop()
                try:
                    spark.stop_jvm(jvm, timeout=300)  # the JVM writes the archive as it exits
                except subprocess.TimeoutExpired:
                    jvm.kill()  # so that it stops writing before the partial file is removed
                    jvm.wait()
                    raise
        if not partial.is_file():
            raise RuntimeError(f"Java exited without writing the class archive {partial}.")
        partial.replace(ARCHIVE)
    finally:
        partial.unlink(missing_ok=True)
    return ARCHIVE


def _exercise(session: SparkSession, scratch: Path) -> None:
    """CSV in, typed and de-duplicated, cached, written and read as parquet, scored through a
    pandas UDF over Arrow, and collected to pandas: what features, training and inference do."""
    import pandas as pd

    csv = scratch / "input.csv"
    pd.DataFrame({"x": [float(i) for i in range(1000)], "y": ["1"] * 1000}).to_csv(csv, index=False)
    raw = session.read.option("header", "true").csv(str(csv))
    typed = raw.select(
        F.xxhash64("x", "y").alias("id"),
        F.expr("try_cast(x AS DOUBLE)").alias("x"),
        F.expr("try_cast(y AS DOUBLE)").alias("y"),
    ).dropDuplicates(["id"])
    cached = typed.cache()
    cached.agg(F.count(F.lit(1)), F.count_if(F.col("y").isNull())).first()
    cached.write.mode("overwrite").parquet(str(scratch / "table"))

    # pandas_udf reads these type hints at run time: no `from __future__ import annotations` here.
    @F.pandas_udf("double")
    def double(values: pd.Series) -> pd.Series:
        return values * 2

    table = session.read.parquet(str(scratch / "table"))
    table.select("*", double("x").alias("p"), F.current_timestamp().alias("t")).write.mode(
        "append"
    ).parquet(str(scratch / "scored"))
    table.where(F.col("id") % 5 == 0).toPandas()


def main() -> None:
    if config.on_databricks():
        sys.exit("Only for local runs: Databricks starts its own JVM.")
    if not os.access(ARCHIVE.parent, os.W_OK):
        print(f"Skipped the Spark class archive: {ARCHIVE.parent} is not writable.")
        return
    print(f"Wrote {write()}: local Spark sessions now start faster.")


if __name__ == "__main__":
    main()
