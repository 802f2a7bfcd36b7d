"""The floor under the generated project's test suite and local pipeline: what the tools alone cost.

Starts a local Spark session as the project's tests do, creates an MLflow SQLite store, logs a
tiny scikit-learn model and scores 10 rows through `spark_udf`: the least any run that checks
scoring the way the project does can cost, before the project's own work. Runs with the project's
interpreter in an empty MLOPS_LOCAL_DIR (`python tool_floor.py PACKAGE`); prints one
BENCHMARK-REPORT JSON line.
"""

from __future__ import annotations

import importlib
import json
import sys
import time

START = time.perf_counter()
seconds: dict[str, float] = {}


def lap(step: str, since: float) -> float:
    now = time.perf_counter()
    seconds[step] = now - since
    return now


import mlflow  # noqa: E402 (timed)
import pandas as pd  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402

get_spark = importlib.import_module(f"{sys.argv[1]}.spark").get_spark
setup_mlflow = importlib.import_module(f"{sys.argv[1]}.tracking").setup_mlflow

begin = lap("imports", START)
spark = get_spark("floor", quick_start=True)
begin = lap("spark_session", begin)
setup_mlflow("floor")
frame = pd.DataFrame({"x": [float(i) for i in range(10)], "y": [2.0 * i for i in range(10)]})
model = LinearRegression().fit(frame[["x"]], frame["y"])
with mlflow.start_run():
    info = mlflow.sklearn.log_model(
        model, "model", input_example=frame[["x"]].head(2), pip_requirements=["scikit-learn"]
    )
begin = lap("mlflow_log_model", begin)
predict = mlflow.pyfunc.spark_udf(spark, info.model_uri, result_type="double", env_manager="local")
scored = spark.createDataFrame(frame).select(predict("x").alias("p")).toPandas()
assert len(scored) == 10, scored
lap("first_spark_udf", begin)
seconds["total"] = time.perf_counter() - START
print("BENCHMARK-REPORT " + json.dumps({"seconds": seconds}), flush=True)
