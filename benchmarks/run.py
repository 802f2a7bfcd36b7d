"""Run every benchmark of DESIGN §8 and record the results.

    make benchmark          # full run: results/<date>.json and the tables in docs/benchmarks.md
    make benchmark-smoke    # tiny sizes, one repeat, nothing recorded: proves the benchmarks run

Options: --sizes 10000 100000, --repeats 5, --only copier pipeline, --label before (a run kept
for comparison, e.g. before a fix; it does not rewrite the docs). A run of some measures only
(--only) is recorded as results/<date>-<measures>.json; of the docs, it rewrites only the time to
first green section, when it measured that.

Time to first green runs once per full run (--repeats sets it too): each run installs PySpark &
co. five times, twice from an empty cache (first_green.py).

Benchmarks are not tests: nothing here fails on a slow number, only on a broken measure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import copier_bench
import first_green
import machine
import project_bench
import report
from support import BUILD, REPO_ROOT, log

RESULTS = Path(__file__).resolve().parent / "results"
DOCS = REPO_ROOT / "docs" / "benchmarks.md"
MEASURES = ("copier", "unit_tests", "pipeline", "inference", "first_green")
PROJECT_MEASURES = {"unit_tests", "pipeline", "inference"}
FULL = {"sizes": [10_000, 100_000, 1_000_000], "repeats": 3, "first_green_repeats": 1}
SMOKE = {"sizes": [2_000], "repeats": 1, "first_green_repeats": 1}


def run(sizes: list[int], repeats: int, first_green_repeats: int, only: set[str],
        smoke: bool) -> dict:  # fmt: skip
    # The smoke's time to first green installs into the benchmark project's environment.
    needs_project = only & PROJECT_MEASURES or (smoke and "first_green" in only)
    project = project_bench.open_project(smoke) if needs_project else None
    results: dict = {
        "machine": machine.describe(project.python if project else None),
        "settings": {
            "sizes": sizes, "repeats": repeats, "first_green_repeats": first_green_repeats,
        },
    }  # fmt: skip
    if project:
        results["project"] = project.describe()
    started = time.perf_counter()
    if "copier" in only:
        results["copy"] = copier_bench.measure_copy(max(repeats, 3))
        results["update"] = copier_bench.measure_update(repeats)
    if "unit_tests" in only or "pipeline" in only:
        results["tool_floor"] = project_bench.measure_tool_floor(project, repeats)
    if "unit_tests" in only:
        results["unit_tests"] = project_bench.measure_unit_tests(project, repeats, smoke)
    if "pipeline" in only or "inference" in only:
        pipelines = [project_bench.measure_pipeline(project, rows, repeats) for rows in sizes]
        if "pipeline" in only:
            results["pipeline"] = pipelines
        if "inference" in only:
            # On the largest feature table, with the champion the last pipeline run promoted.
            results["inference"] = project_bench.measure_inference(
                project, Path(pipelines[-1]["local_dir"]), repeats
            )
    if "first_green" in only:
        # Last: its installs and test runs are the heaviest load on the machine.
        results["first_green"] = first_green.measure(
            first_green_repeats, smoke_project=project if smoke else None
        )
        if results["machine"]["project_runtime"] is None:
            uv_runs = [r for r in results["first_green"]["runs"] if r["tool"] == "uv"]
            results["machine"]["project_runtime"] = uv_runs[-1]["versions"]
    results["machine"]["load_at_end"] = machine.load()
    results["total_seconds"] = time.perf_counter() - started
    results["summary"] = report.summary(results)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; record nothing")
    parser.add_argument("--sizes", type=int, nargs="+", help="rows of the pipeline runs")
    parser.add_argument("--repeats", type=int, help="runs per measure (the median is kept)")
    parser.add_argument("--only", nargs="+", choices=MEASURES, default=list(MEASURES))
    parser.add_argument("--label", default="", help="kept apart for comparison; docs untouched")
    args = parser.parse_args(argv)
    preset = SMOKE if args.smoke else FULL
    sizes = args.sizes or preset["sizes"]
    only = set(args.only)
    results = run(
        sizes,
        args.repeats or preset["repeats"],
        args.repeats or preset["first_green_repeats"],
        only,
        args.smoke,
    )
    results["label"] = "smoke" if args.smoke else args.label
    partial = only != set(MEASURES)

    if args.smoke:
        output = BUILD / "smoke.json"
    else:
        parts = [time.strftime("%Y-%m-%d")]
        if partial:
            parts += [name.replace("_", "-") for name in MEASURES if name in only]
        if args.label:
            parts.append(args.label)
        output = RESULTS / f"{'-'.join(parts)}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    log(f"raw results: {output.relative_to(REPO_ROOT)}")
    print(report.summary_table(results["summary"]))
    if not args.smoke and not args.label:
        if not partial:
            report.write_docs(DOCS, results, output, RESULTS)
        if "first_green" in only:
            report.write_first_green_docs(DOCS, results, output, RESULTS)
        if not partial or "first_green" in only:
            log(f"tables written to {DOCS.relative_to(REPO_ROOT)}")
    missing = report.missing_measures(results, only)
    if missing:
        log(f"no result for: {', '.join(missing)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
