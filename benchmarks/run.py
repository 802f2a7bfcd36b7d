"""Run every benchmark of DESIGN §8 and record the results.

    make benchmark          # full run: results/<date>.json and the tables in docs/benchmarks.md
    make benchmark-smoke    # tiny sizes, one repeat, nothing recorded: proves the benchmarks run

Options: --sizes 10000 100000, --repeats 5, --only copier pipeline, --label before (a run kept
for comparison, e.g. before a fix; it does not rewrite the docs).

Benchmarks are not tests: nothing here fails on a slow number, only on a broken measure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import copier_bench
import machine
import project_bench
import report
from support import BUILD, REPO_ROOT, log

RESULTS = Path(__file__).resolve().parent / "results"
DOCS = REPO_ROOT / "docs" / "benchmarks.md"
MEASURES = ("copier", "unit_tests", "pipeline", "inference")
FULL = {"sizes": [10_000, 100_000, 1_000_000], "repeats": 3}
SMOKE = {"sizes": [2_000], "repeats": 1}


def run(sizes: list[int], repeats: int, only: set[str]) -> dict:
    project = project_bench.open_project()
    results: dict = {
        "machine": machine.describe(project.python),
        "settings": {"sizes": sizes, "repeats": repeats},
    }
    started = time.perf_counter()
    if "copier" in only:
        results["copy"] = copier_bench.measure_copy(max(repeats, 3))
        results["update"] = copier_bench.measure_update(repeats)
    if "unit_tests" in only or "pipeline" in only:
        results["tool_floor"] = project_bench.measure_tool_floor(project, repeats)
    if "unit_tests" in only:
        results["unit_tests"] = project_bench.measure_unit_tests(project, repeats)
    if "pipeline" in only or "inference" in only:
        pipelines = [project_bench.measure_pipeline(project, rows, repeats) for rows in sizes]
        if "pipeline" in only:
            results["pipeline"] = pipelines
        if "inference" in only:
            # On the largest feature table, with the champion the last pipeline run promoted.
            results["inference"] = project_bench.measure_inference(
                project, Path(pipelines[-1]["local_dir"]), repeats
            )
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
    results = run(sizes, args.repeats or preset["repeats"], set(args.only))
    results["label"] = "smoke" if args.smoke else args.label

    if args.smoke:
        output = BUILD / "smoke.json"
    else:
        name = time.strftime("%Y-%m-%d") + (f"-{args.label}" if args.label else "")
        output = RESULTS / f"{name}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    log(f"raw results: {output.relative_to(REPO_ROOT)}")
    print(report.summary_table(results["summary"]))
    if not args.smoke and not args.label and set(args.only) == set(MEASURES):
        report.write_docs(DOCS, results, output, RESULTS)
        log(f"tables written to {DOCS.relative_to(REPO_ROOT)}")
    missing = report.missing_measures(results, set(args.only))
    if missing:
        log(f"no result for: {', '.join(missing)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
