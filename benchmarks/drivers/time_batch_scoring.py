"""Batch-inference throughput on the same rows: the champion through the batch inference step's
Spark scoring (`<package>.scoring.score`, a pandas UDF; `spark_udf` before 0.3) against the
model's own `predict` on a pandas frame already in memory.

Runs with the project's interpreter after a local pipeline run, in the same MLOPS_LOCAL_DIR (its
feature table and champion): `python time_batch_scoring.py PACKAGE [REPEATS]`. Prints one
BENCHMARK-REPORT JSON line.
"""

from __future__ import annotations

import importlib
import json
import statistics
import sys
import time

import mlflow

PACKAGE = sys.argv[1]
REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
config = importlib.import_module(f"{PACKAGE}.config")
naming = importlib.import_module(f"{PACKAGE}.naming")
data = importlib.import_module(f"{PACKAGE}.data")
spark_module = importlib.import_module(f"{PACKAGE}.spark")
tracking = importlib.import_module(f"{PACKAGE}.tracking")
scoring = importlib.import_module(f"{PACKAGE}.scoring")


def _times(action, repeats: int) -> list[float]:
    result = []
    for _ in range(repeats):
        begin = time.perf_counter()
        action()
        result.append(time.perf_counter() - begin)
    return result


defaults = config.LOCAL_DEFAULTS
catalog, schema = defaults["catalog"], defaults["schema"]
name = naming.model_name(catalog, schema, defaults["model_name"])
spark = spark_module.get_spark()
version = tracking.alias_version(tracking.setup_mlflow(), name, naming.CHAMPION)
if version is None:
    raise SystemExit(f"{name} has no champion: run the local pipeline first")

features = spark_module.read_table(spark, naming.feature_table(catalog, schema))
frame = features.toPandas()
inputs, _ = data.features_and_label(frame)
rows = len(inputs)

model = mlflow.sklearn.load_model(tracking.model_uri(name, version))
predict = _times(lambda: model.predict(inputs), REPEATS)
pyfunc = mlflow.pyfunc.load_model(tracking.model_uri(name, version))
pyfunc_predict = _times(lambda: pyfunc.predict(inputs), REPEATS)

# The batch step's own scoring expression; the "noop" sink makes Spark compute every row.
records = features.withColumnRenamed(data.ROW_ID, naming.RECORD_ID)
scored = scoring.score(records, model, version)
# The first run starts the Python workers and loads the model in each: reported apart.
# Reported under the key "spark_udf", as before 0.3, so that recorded runs still compare.
spark_udf = _times(lambda: scored.write.format("noop").mode("overwrite").save(), REPEATS + 1)

report = {
    "rows": rows,
    "predict_seconds": predict,
    "pyfunc_predict_seconds": pyfunc_predict,
    "spark_udf_first_seconds": spark_udf[0],
    "spark_udf_seconds": spark_udf[1:],
    "arrow_batch_rows": int(spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch")),
    "scoring": "`scoring.score` (a pandas UDF)",
}
for key in ("predict", "pyfunc_predict", "spark_udf"):
    report[f"{key}_rows_per_second"] = rows / statistics.median(report[f"{key}_seconds"])
report["ratio"] = report["spark_udf_rows_per_second"] / report["predict_rows_per_second"]
print("BENCHMARK-REPORT " + json.dumps(report), flush=True)
