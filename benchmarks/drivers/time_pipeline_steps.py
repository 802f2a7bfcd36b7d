"""Run the generated project's local pipeline (`<package>.local.pipeline.main`, unchanged) and time
each step. Runs with the project's own interpreter (`python time_pipeline_steps.py PACKAGE`);
prints one BENCHMARK-REPORT JSON line.

The pipeline imports its steps when it needs them, so each step function is wrapped as its
module is imported (an import hook): the code that runs, and when it runs, is exactly what
`make pipeline` runs. Spark's start may overlap other work, so steps need not add up to the
whole.
"""

from __future__ import annotations

import importlib
import importlib.abc
import json
import sys
import time

START = time.perf_counter()
PACKAGE = sys.argv[1]
seconds: dict[str, float] = {}

# module -> (function, step name)
TIMED = {
    f"{PACKAGE}.{module}": timed
    for module, timed in {
        "spark": ("get_spark", "spark_session"),
        "feature_engineering.features": ("run", "features"),
        "training.train": ("run", "train"),
        "training.evaluate": ("run", "evaluate"),
        "inference.batch_inference": ("run", "batch_inference"),
    }.items()
}


def _wrap(module: object, attribute: str, step: str) -> None:
    function = getattr(module, attribute)

    def timed(*args, **kwargs):
        begin = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[step] = seconds.get(step, 0.0) + time.perf_counter() - begin

    setattr(module, attribute, timed)


class _TimeSteps(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in TIMED:
            return None
        # The spec the other finders give: however the project is installed (editable or not).
        spec = None
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(name, path, target)
                if spec is not None:
                    break
        if spec is None or spec.loader is None:
            return spec
        execute = spec.loader.exec_module

        def exec_and_wrap(module):
            execute(module)
            _wrap(module, *TIMED[name])

        spec.loader.exec_module = exec_and_wrap
        return spec


sys.meta_path.insert(0, _TimeSteps())
local_pipeline = importlib.import_module(f"{PACKAGE}.local.pipeline")  # after the hook

seconds["imports"] = time.perf_counter() - START
begin = time.perf_counter()
exit_code = local_pipeline.main([])
seconds["main"] = time.perf_counter() - begin
missing = [step for _, step in TIMED.values() if step not in seconds]
if missing:
    raise SystemExit(f"steps not timed (renamed?): {missing}")
print("BENCHMARK-REPORT " + json.dumps({"exit_code": exit_code, "seconds": seconds}), flush=True)
