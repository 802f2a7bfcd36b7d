"""Results as Markdown: the summary against the targets, the details, and before/after.

docs/benchmarks.md keeps its hand-written text; only the parts between the markers below are
rewritten: the results of a full run, and the time to first green (a full run, or
`--only first_green`), each naming the run it comes from.
"""

from __future__ import annotations

import json
from pathlib import Path

START = "<!-- benchmark-results:start (written by `make benchmark`; edit benchmarks/report.py) -->"
END = "<!-- benchmark-results:end -->"
FIRST_GREEN_START = (
    "<!-- first-green-results:start (written by `make benchmark`; edit benchmarks/report.py) -->"
)
FIRST_GREEN_END = "<!-- first-green-results:end -->"
TOOLS = {"pip": "pip + venv", "uv": "uv"}
CACHES = {"cold": "cold cache", "warm": "warm cache", "offline": "warm cache, `--offline`"}
GIB = 2**30
MILLION = 1_000_000


def _rows(count: int) -> str:
    return f"{count // MILLION}M" if count % MILLION == 0 else f"{count // 1000}k"


def summary(results: dict) -> list[dict]:
    """One line per measure: its value, its target, and whether the target is met."""
    lines = []

    def add(measure: str, value: float, unit: str, target: str | None, met: bool | None) -> None:
        lines.append(
            {"measure": measure, "value": value, "unit": unit, "target": target, "met": met}
        )

    if "copy" in results:
        ratio = results["copy"]["cli_ratio"]
        add("`copier copy`: full template / one-file template", ratio, "x", "≤ 1.3", ratio <= 1.3)
        add(
            "floor: the same files, no templating / one-file template (Copier's per-file cost)",
            results["copy"]["cli_same_files_ratio"], "x", None, None,
        )  # fmt: skip
    if "update" in results:
        seconds = results["update"]["median"]
        add("`copier update` across a release with a migration", seconds, "s", "≤ 2 s",
            seconds <= 2)  # fmt: skip
        add(
            "floor: `copier update` of a one-file template, same move and migration",
            results["update"]["one_file_median"], "s", None, None,
        )  # fmt: skip
    for run in results.get("pipeline", []):
        target = {100_000: 20, MILLION: 50}.get(run["rows"])
        add(
            f"local pipeline end to end, {_rows(run['rows'])} rows",
            run["seconds"],
            "s",
            f"≤ {target} s" if target else None,
            run["seconds"] <= target if target else None,
        )
    if "inference" in results:
        inference = results["inference"]
        at_million = inference["rows"] == MILLION
        add(
            f"batch inference, {_scoring(inference)} / model's `predict` rows/s, "
            f"{_rows(inference['rows'])}",
            inference["ratio"],
            "x",
            "≥ 0.5x at 1M" if at_million else None,
            inference["ratio"] >= 0.5 if at_million else None,
        )
    if "unit_tests" in results:
        seconds = results["unit_tests"]["seconds"]
        add("generated project's unit test suite", seconds, "s", "≤ 20 s", seconds <= 20)
    if "tool_floor" in results:
        add(
            "floor: start Spark, create an MLflow store, score once through `spark_udf`",
            results["tool_floor"]["seconds"], "s", None, None,
        )  # fmt: skip
    if "first_green" in results:
        variants = results["first_green"]["variants"]
        for cache in ("cold", "warm", "offline"):
            for tool in ("pip", "uv"):
                if f"{tool}_{cache}" in variants:
                    add(f"time to first green, {TOOLS[tool]}, {CACHES[cache]}",
                        variants[f"{tool}_{cache}"]["seconds"], "s", None, None)  # fmt: skip
            if cache in results["first_green"]["uv_over_pip"]:
                # The offline run is compared with pip's warm run.
                uv, against = ("uv `--offline`", "warm") if cache == "offline" else ("uv", cache)
                add(f"time to first green, {uv} / pip + venv, {CACHES[against]}",
                    results["first_green"]["uv_over_pip"][cache], "x", None, None)  # fmt: skip
    return lines


def missing_measures(results: dict, wanted: set[str]) -> list[str]:
    keys = {
        "copier": ["copy", "update"],
        "unit_tests": ["unit_tests"],
        "pipeline": ["pipeline"],
        "inference": ["inference"],
        "first_green": ["first_green"],
    }
    return [key for measure in wanted for key in keys[measure] if not results.get(key)]


def _value(line: dict) -> str:
    unit = line["unit"]
    return f"{line['value']:.2f}{unit}" if unit == "x" else f"{line['value']:.1f} {unit}"


def _status(met: bool | None) -> str:
    return "—" if met is None else ("met" if met else "**missed**")


def summary_table(lines: list[dict]) -> str:
    table = ["| measure | result | target | status |", "| --- | --- | --- | --- |"]
    for line in lines:
        table.append(
            f"| {line['measure']} | {_value(line)} | {line['target'] or '—'} | "
            f"{_status(line['met'])} |"
        )
    return "\n".join(table)


def _commit(m: dict) -> str:
    """The template's commit the run rendered (`-dirty`: with uncommitted edits), if recorded."""
    return f"; template at `{m['template_commit']}`" if "template_commit" in m else ""


def _machine_line(m: dict) -> str:
    return (
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM, {m['os']}; "
        f"load average (1, 5, 15 min) {m['load_at_start']} at the start, "
        f"{m['load_at_end']} at the end."
    )


def _tools_line(m: dict) -> str:
    tools = m["template_tools"]
    uv = f", uv {tools['uv']}" if "uv" in tools else ""
    return f"- Template tools: Python {tools['python']}, copier {tools['copier']}{uv}."


def _project_line(results: dict) -> str:
    m = results["machine"]
    runtime = m["project_runtime"]
    # Runs before the one-package layout (0.2) recorded no project details.
    before_0_2 = {
        "runtime": "17.3",
        "installed_with": "pip into a venv, the 0.1 layout's code on PYTHONPATH",
    }
    project = results.get("project", before_0_2)
    package = f"package `{project['package_name']}`, " if "package_name" in project else ""
    installed = (
        f"; installed with {project['installed_with']}" if "installed_with" in project else ""
    )
    return (
        f"- Generated project (default answers: {package}runtime {project['runtime']}"
        f"{installed}): Python {runtime['python']}, PySpark {runtime['pyspark']}, MLflow "
        f"{runtime['mlflow']}, scikit-learn {runtime['scikit-learn']}, pandas {runtime['pandas']}, "
        f"pyarrow {runtime['pyarrow']}; {m['java']}."
    )


def _machine(results: dict) -> str:
    m = results["machine"]
    return "\n".join(
        [
            f"- Date: {m['date']}; whole run {results['total_seconds'] / 60:.0f} min; "
            f"{results['settings']['repeats']} runs per measure, medians shown{_commit(m)}.",
            _machine_line(m),
            _tools_line(m),
            _project_line(results),
        ]
    )


def _scoring(inference: dict) -> str:
    """How the batch step scored in that run: `spark_udf` before the generated project's 0.3
    layout (runs recorded then name nothing), its `scoring.score` pandas UDF since."""
    return inference.get("scoring", "`spark_udf`")


def _pipeline_table(runs: list[dict]) -> str:
    steps = ["imports", "spark_session", "features", "train", "evaluate", "batch_inference"]
    header = ["rows", "end to end", *[s.replace("_", " ") for s in steps], "peak RSS", "CPU"]
    table = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for run in runs:
        cpu = sorted(r["cpu_seconds"] for r in run["runs"])[len(run["runs"]) // 2]
        cells = [
            _rows(run["rows"]),
            f"**{run['seconds']:.1f} s**",
            *[f"{run['steps'].get(step, 0):.1f}" for step in steps],
            f"{run['peak_rss'] / GIB:.2f} GiB",
            f"{cpu:.0f} s",
        ]
        table.append("| " + " | ".join(cells) + " |")
    return "\n".join(table)


def _details(results: dict) -> str:
    parts = []
    if "pipeline" in results:
        parts += [
            "### Local pipeline, per step (seconds)",
            "",
            "First run on a fresh `.local/` of what `make pipeline` runs, on data written by the "
            "project's sample-data module with `--rows N`. End to end is the wall time of the "
            "process, interpreter start included; peak RSS sums every process of the tree "
            "(Python, the JVM, Spark's Python workers); CPU is user + system time of the tree. "
            "Spark starts in the background while the pipeline imports its steps and opens the "
            "MLflow store, so the steps need not add up to the whole.",
            "",
            _pipeline_table(results["pipeline"]),
            "",
        ]
    if "inference" in results:
        i = results["inference"]
        parts += [
            f"### Batch inference on {_rows(i['rows'])} rows",
            "",
            "| path | rows/s |",
            "| --- | --- |",
            f"| model's own `predict` (scikit-learn, pandas frame in memory) | "
            f"{i['predict_rows_per_second']:,.0f} |",
            f"| `mlflow.pyfunc` model's `predict` (schema enforcement added) | "
            f"{i['pyfunc_predict_rows_per_second']:,.0f} |",
            f"| {_scoring(i)}, the batch step's expression, feature table read included | "
            f"{i['spark_udf_rows_per_second']:,.0f} |",
            "",
            f"The first {_scoring(i)} pass, which starts the Python workers and loads the model in "
            f"each, took {i['spark_udf_first_seconds']:.1f} s; later passes are the median above. "
            f"Arrow batches of {i['arrow_batch_rows']:,} rows.",
            "",
        ]
    if "copy" in results:
        c = results["copy"]["median"]
        parts += [
            "### `copier copy` (seconds)",
            "",
            "| template | in process (`run_copy`) | CLI (`copier copy`) |",
            "| --- | --- | --- |",
            f"| full template, default answers ({results['copy']['files']} files) | "
            f"{c['in_process.full']:.2f} | {c['cli.full']:.2f} |",
            f"| the same {results['copy']['files']} files, plain, one question | "
            f"{c['in_process.same_files']:.2f} | {c['cli.same_files']:.2f} |",
            f"| one file, one question (copier's floor) | {c['in_process.one_file']:.2f} | "
            f"{c['cli.one_file']:.2f} |",
            f"| ratio full / floor | {results['copy']['in_process_ratio']:.2f} | "
            f"{results['copy']['cli_ratio']:.2f} |",
            f"| ratio same files / floor | {results['copy']['in_process_same_files_ratio']:.2f} | "
            f"{results['copy']['cli_same_files_ratio']:.2f} |",
            "",
        ]
    if "update" in results:
        u = results["update"]
        parts += [
            f'`copier update` {u["from"]} → {u["to"]} (a renamed file and its "before" '
            f"migration; a user's edit kept): runs "
            + ", ".join(f"{s:.2f}" for s in u["seconds"])
            + " s. The same move and migration in a one-file template (Copier's floor): "
            + ", ".join(f"{s:.2f}" for s in u["one_file_seconds"])
            + " s.",
            "",
        ]
    if "unit_tests" in results:
        t = results["unit_tests"]
        parts += [
            f"Unit tests: {t['passed']} passed; runs "
            + ", ".join(f"{r['seconds']:.1f}" for r in t["runs"])
            + f" s; peak RSS {t['peak_rss'] / GIB:.2f} GiB.",
            "",
        ]
    if "tool_floor" in results:
        f = results["tool_floor"]
        median_run = sorted(f["runs"], key=lambda run: run["seconds"])[len(f["runs"]) // 2]
        steps = median_run["steps"]
        parts += [
            "Tool floor (`benchmarks/drivers/tool_floor.py`, a fresh process in the project's "
            "venv): runs "
            + ", ".join(f"{r['seconds']:.1f}" for r in f["runs"])
            + " s; "
            + ", ".join(f"{name.replace('_', ' ')} {value:.1f} s" for name, value in steps.items())
            + ". No test suite or pipeline run that scores through `spark_udf` in a fresh process "
            "can take less on this machine.",
            "",
        ]
    return "\n".join(parts)


def _comparison(before: dict, after: dict, before_name: str) -> str:
    old = {line["measure"]: line for line in before["summary"]}
    table = [
        f"Before: `{before_name}` ({before['machine']['date']}, load "
        f"{before['machine']['load_at_start']}). After: this run.",
        "",
        "| measure | before | after | target |",
        "| --- | --- | --- | --- |",
    ]
    for line in after["summary"]:
        previous = old.get(line["measure"])
        table.append(
            f"| {line['measure']} | {_value(previous) if previous else '—'} | {_value(line)} | "
            f"{line['target'] or '—'} |"
        )
    return "\n".join(table)


def generated_section(results: dict, output: Path, results_dir: Path) -> str:
    parts = [
        START,
        "",
        _machine(results),
        f"- Raw results: `{output.relative_to(results_dir.parent.parent)}`.",
        "",
        summary_table(results["summary"]),
        "",
        _details(results),
    ]
    befores = sorted(results_dir.glob("*-before.json"))
    if befores:
        before = json.loads(befores[-1].read_text())
        parts += ["### Before and after the fixes", "", _comparison(before, results,
                  befores[-1].name), ""]  # fmt: skip
    parts.append(END)
    return "\n".join(parts)


def write_docs(docs: Path, results: dict, output: Path, results_dir: Path) -> None:
    section = generated_section(results, output, results_dir)
    text = docs.read_text() if docs.exists() else "# Benchmarks\n"
    if START.split(" (")[0] in text and END in text:
        head = text[: text.index(START.split(" (")[0])]
        tail = text[text.index(END) + len(END) :]
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    docs.write_text(text)


def _gib(count: int | None) -> str:
    return "—" if count is None else f"{count / GIB:.2f} GiB"


def _first_green_table(fg: dict) -> str:
    variants = fg["variants"]
    phases = ("copy", "install", "tests")
    header = ["cache", "tool", *phases, "copy → green"]
    table = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for cache in ("cold", "warm", "offline"):
        pip = variants.get(f"pip_{'warm' if cache == 'offline' else cache}")
        uv = variants.get(f"uv_{cache}")
        rows = [("pip", pip), ("uv", uv)] if cache != "offline" else [("uv", uv)]
        for tool, variant in rows:
            if variant:
                cells = [f"{variant['phases'][phase]:.1f} s" for phase in phases]
                total = f"**{variant['seconds']:.1f} s**"
                table.append(f"| {CACHES[cache]} | {TOOLS[tool]} | " + " | ".join(cells) +
                             f" | {total} |")  # fmt: skip
        if pip and uv:
            ratios = [f"{uv['phases'][phase] / pip['phases'][phase]:.2f}x" for phase in phases]
            versus = "uv / pip" if cache != "offline" else "uv `--offline` / pip, warm"
            total = f"**{uv['seconds'] / pip['seconds']:.2f}x**"
            table.append(f"| {CACHES[cache]} | {versus} | " + " | ".join(ratios) + f" | {total} |")
    return "\n".join(table)


def _first_green_runs(fg: dict) -> str:
    """Every run, in the order they ran."""
    header = ["#", "tool", "cache", "copy → green", "install (CPU)", "tests (CPU)",
              "built from source", "cache after install"]  # fmt: skip
    table = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for number, run in enumerate(fg["runs"], 1):
        install, tests = run["phases"]["install"], run["phases"]["tests"]
        cells = [
            str(number),
            TOOLS[run["tool"]],
            CACHES[run["cache"]],
            f"{run['seconds']:.1f} s",
            f"{install['seconds']:.1f} s ({install['cpu_seconds']:.0f} s)",
            f"{tests['seconds']:.1f} s ({tests['cpu_seconds']:.0f} s)",
            ", ".join(run["built_from_source"]) or "nothing",
            _gib(run["cache_bytes_after_install"]),
        ]
        table.append("| " + " | ".join(cells) + " |")
    archives = [f"{run['class_archive_seconds']:.1f}" for run in fg["runs"]
                if "class_archive_seconds" in run]  # fmt: skip
    notes = [f"Tests: {', '.join(sorted({str(run['passed']) for run in fg['runs']}))} passed."]
    if archives:
        notes.append(
            "`make install`'s Spark class archive, written after each `--offline` run and counted "
            f"in no total: {', '.join(archives)} s."
        )
    return "\n".join(table) + "\n\n" + " ".join(notes)


def first_green_section(results: dict, output: Path, results_dir: Path) -> str:
    fg = results["first_green"]
    m = results["machine"]
    runtime = m["project_runtime"]
    repeats = results["settings"].get("first_green_repeats", 1)
    pips = sorted({run["versions"]["pip"] for run in fg["runs"] if run["tool"] == "pip"})
    return "\n".join(
        [
            FIRST_GREEN_START,
            "",
            "### Time to first green",
            "",
            f"- Date: {m['date']}; {repeats} run{'s' if repeats > 1 else ''} of each variant"
            f"{', medians shown' if repeats > 1 else ''}{_commit(m)}; raw results: "
            f"`{output.relative_to(results_dir.parent.parent)}`.",
            _machine_line(m),
            f"- Tools: copier {m['template_tools']['copier']}, {fg['uv']}, pip "
            f"{', '.join(pips) or '—'} (what `python -m venv --upgrade-deps` installs); both on "
            f"{fg['python']} (Python {runtime['python']}).",
            f"- Generated project (default answers): PySpark {runtime['pyspark']} (an sdist: "
            f"built on a cold install), MLflow {runtime['mlflow']}, scikit-learn "
            f"{runtime['scikit-learn']}, pandas {runtime['pandas']}, pyarrow "
            f"{runtime['pyarrow']}; {m['java']}.",
            "",
            _first_green_table(fg),
            "",
            "Each cell is the median of its column's runs, so phases need not add up to the "
            "total; CPU is user + system time of the process tree."
            if repeats > 1
            else "CPU is user + system time of the process tree.",
            "",
            "Every run, in order:",
            "",
            _first_green_runs(fg),
            "",
            FIRST_GREEN_END,
        ]
    )


def write_first_green_docs(docs: Path, results: dict, output: Path, results_dir: Path) -> None:
    """Rewrite the time to first green section; placed after the full run's results at first."""
    section = first_green_section(results, output, results_dir)
    text = docs.read_text() if docs.exists() else "# Benchmarks\n"
    start = FIRST_GREEN_START.split(" (")[0]
    if start in text and FIRST_GREEN_END in text:
        head = text[: text.index(start)]
        tail = text[text.index(FIRST_GREEN_END) + len(FIRST_GREEN_END) :]
        text = head + section + tail
    elif END in text:
        at = text.index(END) + len(END)
        text = text[:at] + "\n\n" + section + text[at:]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    docs.write_text(text)
