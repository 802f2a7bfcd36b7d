"""Batch-inference throughput on the same rows: the champion through `spark_udf` (what the batch
inference step runs) against the model's own `predict` on a pandas frame already in memory.

Runs with the project's interpreter after a local pipeline run, in the same MLOPS_LOCAL_DIR (its
feature table and champion). Prints one BENCHMARK-REPORT JSON line.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import mlflow
from common import config, naming
from common.data import features_and_label
from common.spark import get_spark, read_table
from common.tracking import alias_version, model_uri, setup_mlflow
from inference import batch_inference

REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 3


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
spark = get_spark()
version = alias_version(setup_mlflow(), name, naming.CHAMPION)
if version is None:
    raise SystemExit(f"{name} has no champion: run the local pipeline first")

features = read_table(spark, naming.feature_table(catalog, schema))
frame = features.toPandas()
inputs, _ = features_and_label(frame)
rows = len(inputs)

model = mlflow.sklearn.load_model(model_uri(name, version))
predict = _times(lambda: model.predict(inputs), REPEATS)
pyfunc = mlflow.pyfunc.load_model(model_uri(name, version))
pyfunc_predict = _times(lambda: pyfunc.predict(inputs), REPEATS)

# The batch step's own scoring expression; the "noop" sink makes Spark compute every row.
scored = batch_inference.score(spark, features, name, version)
# The first run starts the Python workers and loads the model in each: reported apart.
spark_udf = _times(lambda: scored.write.format("noop").mode("overwrite").save(), REPEATS + 1)

report = {
    "rows": rows,
    "predict_seconds": predict,
    "pyfunc_predict_seconds": pyfunc_predict,
    "spark_udf_first_seconds": spark_udf[0],
    "spark_udf_seconds": spark_udf[1:],
    "arrow_batch_rows": int(spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch")),
}
for key in ("predict", "pyfunc_predict", "spark_udf"):
    report[f"{key}_rows_per_second"] = rows / statistics.median(report[f"{key}_seconds"])
report["ratio"] = report["spark_udf_rows_per_second"] / report["predict_rows_per_second"]
print("BENCHMARK-REPORT " + json.dumps(report), flush=True)
