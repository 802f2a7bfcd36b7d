"""Run a job of the bundle locally, exactly as resources/ declares it.

    make run JOB=training_pipeline
    uv run python -m ml_project.local.jobs batch_inference --target dev

The bundle is read as the Databricks CLI reads it for the target (dev by default): databricks.yml
and its includes, the target's overrides and variables, and the `${...}` references a task's
parameters use. The job's tasks then run in dependency order, each through the entry point its
`python_wheel_task` names, with the `named_parameters` it declares (and the job's parameters,
pushed down as Databricks does), in this process and its local Spark session. `depends_on`
(with a condition's `outcome`), `run_if` and `condition_task` decide what runs, as on
Databricks. A task that needs a workspace (the serving endpoint, the quality monitor, cleanup)
is skipped, saying why, and its dependants follow their `run_if`.

Before any task runs, every task is checked: its entry point exists, it takes the parameters
the job gives it and gets those it needs, every reference resolves, and `depends_on` has no
cycle and names real tasks. Anything wrong stops the run, naming the job, the task and the fix.

Locally, names are the target's without the per-user prefix the CLI adds in dev (the local
stand-ins are yours alone), the user is the local one, and `${bundle.git.commit}` is the commit
checked out here.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import graphlib
import io
import re
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from ml_project import config, params
from ml_project.errors import WorkspaceOnly

PACKAGE = "ml_project"
DEFAULT_TARGET = "dev"
# `${a.b.c}` references, as the CLI parses them; `{{job.parameters.x}}` is a dynamic value
# Databricks fills in at run time.
REFERENCE = re.compile(r"(?<!\$)\$\{([A-Za-z0-9_.\-\[\]]+)\}")
DYNAMIC = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")
# Sequences the CLI merges by key when a target overrides a job.
KEYED = {"tasks": "task_key", "job_clusters": "job_cluster_key", "environments": "environment_key",
         "parameters": "name"}  # fmt: skip

SUCCESS, FAILED, SKIPPED, EXCLUDED = "SUCCESS", "FAILED", "SKIPPED", "EXCLUDED"


class JobDefinitionError(Exception):
    """The job, as resources/ declares it, cannot run: nothing has run."""


# Reading the bundle.


def _merge(base: Any, override: Any) -> Any:
    """The CLI's merge: maps recursively, sequences concatenated, scalars replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(merged[key], value) if key in merged else value
        return merged
    if isinstance(base, list) and isinstance(override, list):
        return base + override
    return override


def _merge_by_key(items: list, key: str) -> list:
    merged: dict[Any, Any] = {}
    for item in items:
        name = item.get(key) if isinstance(item, dict) else id(item)
        merged[name] = _merge(merged[name], item) if name in merged else item
    return list(merged.values())


def load_bundle(root: Path, target: str) -> dict:
    """databricks.yml with its includes and the target applied, references not yet resolved."""
    tree = yaml.safe_load((root / "databricks.yml").read_text())
    for pattern in tree.pop("include", []) or []:
        for path in sorted(root.glob(pattern)):
            tree = _merge(tree, yaml.safe_load(path.read_text()) or {})
    targets = tree.pop("targets", {}) or {}
    if target not in targets:
        raise JobDefinitionError(
            f"No target {target!r} in databricks.yml (targets: {', '.join(targets)})."
        )
    chosen = targets[target] or {}
    variables = tree.get("variables", {}) or {}
    for name, value in (chosen.pop("variables", {}) or {}).items():
        if name not in variables:
            raise JobDefinitionError(f"targets.{target}.variables.{name} is not declared.")
        variables[name] = {**variables[name], "default": value}
    tree = _merge(tree, {key: value for key, value in chosen.items() if key != "default"})
    for job in (tree.get("resources", {}).get("jobs") or {}).values():
        for sequence, key in KEYED.items():
            if isinstance(job.get(sequence), list):
                job[sequence] = _merge_by_key(job[sequence], key)
    tree.setdefault("bundle", {})["target"] = target
    local_values(tree)
    return tree


def local_values(tree: dict) -> None:
    """Fill in, in `tree`, what the CLI learns from the workspace and git: the local user stands
    for the signed-in one, the commit checked out for the deployed one."""
    user = getpass.getuser()
    bundle = tree.setdefault("bundle", {})
    bundle.setdefault("git", {})["commit"] = config.local_git_commit()
    workspace = tree.setdefault("workspace", {}) or {}
    workspace["current_user"] = {"userName": user, "short_name": user}
    workspace.setdefault(
        "root_path", f"/Workspace/Users/{user}/.bundle/{bundle.get('name')}/{bundle['target']}"
    )
    tree["workspace"] = workspace


def _ref(reference: str) -> str:
    return "${" + reference + "}"


@dataclass
class Context:
    """What `${...}` references resolve to, locally."""

    tree: dict

    def lookup(self, reference: str, seen: tuple[str, ...] = ()) -> Any:
        if reference in seen:
            raise JobDefinitionError(f"{_ref(reference)} refers to itself.")
        parts = reference.split(".")
        if parts[0] == "var" and len(parts) == 2:
            variable = (self.tree.get("variables") or {}).get(parts[1])
            if variable is None or "default" not in variable:
                raise JobDefinitionError(
                    f"{_ref(reference)}: no variable of that name has a value."
                )
            return self.resolve(variable["default"], (*seen, reference))
        node: Any = self.tree
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                raise JobDefinitionError(
                    f"{_ref(reference)} does not resolve: nothing of that name in the bundle."
                )
            node = node[part]
        return self.resolve(node, (*seen, reference))

    def resolve(self, value: Any, seen: tuple[str, ...] = ()) -> Any:
        if isinstance(value, dict):
            return {key: self.resolve(item, seen) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item, seen) for item in value]
        if not isinstance(value, str):
            return value
        whole = REFERENCE.fullmatch(value)
        if whole:  # a whole-string reference keeps the referenced value's type
            return self.lookup(whole.group(1), seen)
        return REFERENCE.sub(lambda m: str(self.lookup(m.group(1), seen)), value)


# The job's tasks.


@dataclass
class Task:
    key: str
    depends_on: list[tuple[str, str | None]]  # (task, the condition outcome it waits for)
    run_if: str = "ALL_SUCCESS"
    entry_point: str | None = None
    # Its named_parameters and the job's parameters, as Databricks passes them: text.
    parameters: dict[str, str] = field(default_factory=dict)
    condition: dict | None = None

    @property
    def argv(self) -> list[str]:
        """The command line the entry point gets: --name=value per parameter."""
        return [f"--{name}={value}" for name, value in self.parameters.items()]


@dataclass
class Result:
    key: str
    state: str
    seconds: float = 0.0
    message: str = ""


def job_tasks(tree: dict, job_key: str) -> tuple[list[Task], dict[str, str]]:
    """The job's tasks with their parameters resolved, and its job parameters."""
    jobs = (tree.get("resources") or {}).get("jobs") or {}
    if job_key not in jobs:
        raise JobDefinitionError(
            f"No job {job_key!r} in resources/ (jobs: {', '.join(jobs) or 'none'})."
        )
    context = Context(tree)
    job = jobs[job_key]
    job_params = {
        p["name"]: _text(context.resolve(p.get("default", ""))) for p in job.get("parameters") or []
    }
    tasks = []
    for spec in job.get("tasks") or []:
        key = spec["task_key"]
        where = f"Job {job_key}, task {key}"
        try:
            depends = [(d["task_key"], d.get("outcome")) for d in spec.get("depends_on") or []]
            task = Task(key, depends, spec.get("run_if", "ALL_SUCCESS"))
            if "python_wheel_task" in spec:
                wheel = spec["python_wheel_task"]
                if wheel.get("package_name") != PACKAGE:
                    raise JobDefinitionError(
                        f"it runs package {wheel.get('package_name')!r}, not this project's "
                        f"{PACKAGE!r}: set python_wheel_task.package_name to {PACKAGE}."
                    )
                task.entry_point = wheel["entry_point"]
                named = context.resolve(wheel.get("named_parameters") or {})
                pushed = {**named, **job_params}  # a job parameter wins, as on Databricks
                task.parameters = {name: _text(value) for name, value in pushed.items()}
            elif "condition_task" in spec:
                task.condition = context.resolve(spec["condition_task"])
            else:
                kinds = [k for k in spec if k.endswith("_task")]
                raise JobDefinitionError(
                    f"its {', '.join(kinds) or 'task type'} cannot run locally: only "
                    "python_wheel_task and condition_task do."
                )
        except JobDefinitionError as error:
            raise JobDefinitionError(f"{where}: {error}") from None
        tasks.append(task)
    return tasks, job_params


def _text(value: Any) -> str:
    """A parameter value as Databricks passes it: a string; booleans as true/false."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def entry_point(name: str) -> Callable[[list[str]], Any] | None:
    """This project's entry point `name` (any group, as Databricks looks it up), or None."""
    for candidate in metadata.entry_points(name=name):
        if candidate.dist is None or candidate.dist.name.replace("-", "_") == PACKAGE:
            return candidate.load()
    return None


def check(job_key: str, tasks: list[Task], job_params: dict[str, str]) -> list[str]:
    """Everything that would stop the job, found before anything runs."""
    problems = []
    keys = {task.key for task in tasks}
    graph = {}
    for task in tasks:
        where = f"Job {job_key}, task {task.key}"
        unknown = [key for key, _ in task.depends_on if key not in keys]
        if unknown:
            problems.append(f"{where}: depends_on names no task of the job: {', '.join(unknown)}.")
        graph[task.key] = [key for key, _ in task.depends_on]
        if task.entry_point is not None:
            problems += _check_parameters(where, task, job_params)
        if task.condition is not None:
            problems += _check_condition(where, task, job_params, keys)
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as error:
        cycle = " -> ".join(error.args[1])
        problems.append(f"Job {job_key}: depends_on has a cycle: {cycle}. Remove one dependency.")
    return problems


def _check_parameters(where: str, task: Task, job_params: dict[str, str]) -> list[str]:
    assert task.entry_point is not None
    function = entry_point(task.entry_point)
    if function is None:
        return [
            f"{where}: entry point {task.entry_point!r} is not one of this project's "
            "([project.scripts] in pyproject.toml). Name one of them, or add it there and run "
            "`uv sync`."
        ]
    errors = io.StringIO()
    try:
        with (
            params.checking_only(),
            params.as_job(list(job_params)),
            contextlib.redirect_stderr(errors),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            function(task.argv)
    except params.ParametersChecked:
        return []
    except SystemExit:  # argparse: an option the step does not take
        said = errors.getvalue().strip().splitlines()
        reason = said[-1] if said else "its parameters do not parse"
        return [f"{where}: {reason}. Fix its named_parameters in resources/."]
    except ValueError as error:  # a parameter missing or empty
        return [f"{where}: {error}"]
    return [f"{where}: its entry point did not read its parameters first (params.get_params)."]


def _dynamic(name: str) -> str:
    """A dynamic value reference as jobs.yml writes it: the name in double braces."""
    return "{" * 2 + name + "}" * 2


def _check_condition(
    where: str, task: Task, job_params: dict[str, str], keys: set[str]
) -> list[str]:
    assert task.condition is not None
    problems = []
    for side in ("left", "right"):
        for name in DYNAMIC.findall(str(task.condition.get(side, ""))):
            parts = name.split(".")
            if parts[:2] == ["job", "parameters"] and len(parts) == 3:
                if parts[2] not in job_params:
                    problems.append(f"{where}: {_dynamic(name)} names no job parameter.")
            elif parts[0] == "tasks" and len(parts) == 4 and parts[2] == "values":
                if parts[1] not in keys:
                    problems.append(f"{where}: {_dynamic(name)} names no task of the job.")
            else:
                problems.append(f"{where}: {_dynamic(name)} is not a value the runner knows.")
    if task.condition.get("op") not in OPERATORS:
        problems.append(f"{where}: condition_task op {task.condition.get('op')!r} is unknown.")
    return problems


# Running.

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "EQUAL_TO": lambda a, b: a == b,
    "NOT_EQUAL": lambda a, b: a != b,
    "GREATER_THAN": lambda a, b: a > b,
    "GREATER_THAN_OR_EQUAL": lambda a, b: a >= b,
    "LESS_THAN": lambda a, b: a < b,
    "LESS_THAN_OR_EQUAL": lambda a, b: a <= b,
}


def _number(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value


def evaluate_condition(
    condition: dict, job_params: dict[str, str], task_values: dict[str, dict[str, Any]]
) -> bool:
    """A condition_task's outcome: numbers compare as numbers, anything else as text."""

    def value(side: str) -> str:
        def fill(match: re.Match) -> str:
            parts = match.group(1).split(".")
            if parts[0] == "job":
                return job_params[parts[2]]
            if parts[1] not in task_values or parts[3] not in task_values[parts[1]]:
                raise RuntimeError(f"task value {match.group(1)} was not set")
            return str(task_values[parts[1]][parts[3]])

        return DYNAMIC.sub(fill, str(condition.get(side, "")))

    left, right = value("left"), value("right")
    a, b = _number(left), _number(right)
    if not (isinstance(a, float) and isinstance(b, float)):
        a, b = left, right
    return OPERATORS[condition["op"]](a, b)


def should_run(task: Task, results: dict[str, Result], outcomes: dict[str, bool]) -> str | None:
    """None if the task runs; else the state it gets (SKIPPED or EXCLUDED), from its
    dependencies' states and its run_if, as Databricks decides."""
    states = []
    for key, outcome in task.depends_on:
        state = results[key].state
        if outcome is not None and state == SUCCESS and str(outcomes.get(key)).lower() != outcome:
            state = EXCLUDED  # the condition went the other way
        states.append(state)
    if not states:
        return None
    done = [s for s in states if s in (SUCCESS, FAILED)]
    rules = {
        "ALL_SUCCESS": all(s == SUCCESS for s in states),
        "AT_LEAST_ONE_SUCCESS": SUCCESS in states,
        "NONE_FAILED": FAILED not in states and bool(done),
        "ALL_DONE": True,
        "AT_LEAST_ONE_FAILED": FAILED in states,
        "ALL_FAILED": bool(done) and all(s == FAILED for s in done),
    }
    if rules.get(task.run_if, False):
        return None
    return EXCLUDED if EXCLUDED in states and FAILED not in states else SKIPPED


def run_job(job_key: str, tasks: list[Task], job_params: dict[str, str]) -> list[Result]:
    by_key = {task.key: task for task in tasks}
    order = graphlib.TopologicalSorter({t.key: [k for k, _ in t.depends_on] for t in tasks})
    results: dict[str, Result] = {}
    outcomes: dict[str, bool] = {}
    task_values: dict[str, dict[str, Any]] = {}
    for key in order.static_order():
        task = by_key[key]
        blocked = should_run(task, results, outcomes)
        if blocked is not None:
            why = (
                "a condition upstream went the other way"
                if blocked == EXCLUDED
                else (f"run_if {task.run_if} is not met by its dependencies")
            )
            results[key] = Result(key, blocked, message=why)
            continue
        print(f"\n=== {job_key} / {key}", flush=True)
        began = time.perf_counter()
        try:
            if task.condition is not None:
                outcomes[key] = evaluate_condition(task.condition, job_params, task_values)
                print(f"condition: {str(outcomes[key]).lower()}")
                result = Result(key, SUCCESS, message=f"outcome {str(outcomes[key]).lower()}")
            else:
                function = entry_point(task.entry_point or "")
                assert function is not None
                with params.as_job(list(job_params)):
                    function(task.argv)
                result = Result(key, SUCCESS)
        except WorkspaceOnly as skipped:
            result = Result(key, SKIPPED, message=f"needs a workspace: {skipped}")
        except (Exception, SystemExit) as error:  # the task fails; the job goes on as Databricks
            if isinstance(error, SystemExit) and not error.code:
                result = Result(key, SUCCESS)
            else:
                traceback.print_exc()
                result = Result(key, FAILED, message=f"{type(error).__name__}: {error}")
        result.seconds = time.perf_counter() - began
        results[key] = result
    return [results[task.key] for task in tasks]


def summary(job_key: str, target: str, results: list[Result]) -> str:
    lines = [f"\nRun of {job_key} ({target}, local)"]
    width = max(len(result.key) for result in results)
    for result in results:
        seconds = f"{result.seconds:6.1f} s" if result.state in (SUCCESS, FAILED) else " " * 8
        note = f"  {result.message}" if result.message else ""
        lines.append(f"  {result.key:<{width}}  {result.state:<8} {seconds}{note}")
    return "\n".join(lines)


def checked(tree: dict, job_key: str) -> tuple[list[Task], dict[str, str]]:
    """A job of a loaded bundle: its tasks and job parameters, checked; JobDefinitionError if it
    cannot run."""
    tasks, job_params = job_tasks(tree, job_key)
    problems = check(job_key, tasks, job_params)
    if problems:
        raise JobDefinitionError("\n".join(problems))
    return tasks, job_params


def prepare(
    job_key: str, target: str = DEFAULT_TARGET, root: Path | None = None
) -> tuple[list[Task], dict[str, str]]:
    """The job's tasks and job parameters from the project's bundle, checked."""
    return checked(load_bundle(root or project_root(), target), job_key)


def run(job_key: str, target: str = DEFAULT_TARGET, root: Path | None = None) -> list[Result]:
    """Check, then run, a job of the bundle; print its summary; return each task's result."""
    if config.on_databricks():
        raise SystemExit("This runs the bundle's jobs locally; on Databricks use bundle run.")
    tasks, job_params = prepare(job_key, target, root)
    results = run_job(job_key, tasks, job_params)
    print(summary(job_key, target, results))
    return results


def project_root() -> Path:
    """The folder with databricks.yml: the working directory or one of its parents."""
    for folder in [Path.cwd(), *Path.cwd().parents]:
        if (folder / "databricks.yml").is_file():
            return folder
    raise JobDefinitionError("No databricks.yml here or above: run this in the project.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job", help="the job's key in resources/, e.g. training_pipeline")
    parser.add_argument("--target", default=DEFAULT_TARGET, help="bundle target (default: dev)")
    args = parser.parse_args(argv)
    try:
        results = run(args.job, args.target)
    except JobDefinitionError as error:
        print(f"Nothing ran:\n{error}", file=sys.stderr)
        return 2
    return 1 if any(result.state == FAILED for result in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
