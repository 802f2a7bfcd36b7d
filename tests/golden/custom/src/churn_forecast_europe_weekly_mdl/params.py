"""Step parameters: command-line options, on Databricks and locally alike.

Each job task runs an entry point of this package's wheel (`python_wheel_task` in
resources/jobs.yml), which gets the task's `named_parameters`, and the job's parameters, as
`--name=value` options. Run locally, the same entry point takes the same options; where one is
left out, the dev target's names (churn_forecast_europe_weekly_mdl.config.LOCAL_DEFAULTS) fill in.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
from collections.abc import Callable, Iterator, Mapping, Sequence

from churn_forecast_europe_weekly_mdl import config


class ParametersChecked(Exception):
    """Raised by get_params while `checking_only`: the step takes the parameters it was given."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.values = values


# Set by the local job runner (the local.jobs module): checking only, and the job parameters of
# the job it runs (None when no job runs the step).
_checking = contextvars.ContextVar("checking", default=False)
_job_parameters: contextvars.ContextVar[frozenset[str] | None] = contextvars.ContextVar(
    "job_parameters", default=None
)


@contextlib.contextmanager
def checking_only() -> Iterator[None]:
    """While in this block, a step's entry point stops right after reading its parameters (it
    raises ParametersChecked): how the local job runner checks a task before running any."""
    token = _checking.set(True)
    try:
        yield
    finally:
        _checking.reset(token)


@contextlib.contextmanager
def as_job(job_parameters: Sequence[str]) -> Iterator[None]:
    """While in this block, steps read their parameters as a job's tasks do on Databricks: no
    local defaults stand in for a parameter the task does not give, and the job's parameters,
    pushed down to every task, are left alone by a step that does not take them."""
    token = _job_parameters.set(frozenset(job_parameters))
    try:
        yield
    finally:
        _job_parameters.reset(token)


def get_params(
    names: Sequence[str],
    description: str,
    defaults: Mapping[str, str] | None = None,
    argv: Sequence[str] | None = None,
    local_defaults: Mapping[str, Callable[[dict[str, str]], str]] | None = None,
    optional: Sequence[str] = (),
) -> dict[str, str]:
    """Return one string value per name; fail clearly if one is empty, unless it is `optional`.

    `local_defaults` derive a value left out from the others, locally only (for example the
    input folder from --catalog and --schema).
    """
    step_defaults = dict(defaults or {})
    pushed_down = _job_parameters.get()
    # Locally, the dev target's names fill in; not for a job's task (the local runner's).
    local = not config.on_databricks() and pushed_down is None
    if local:
        step_defaults = {**config.LOCAL_DEFAULTS, **step_defaults}
    # On a workspace, only the step's own defaults: a dev name must never stand in silently.
    # No abbreviations: a job parameter pushed down as --model=... must not pass for --model-name.
    parser = argparse.ArgumentParser(description=description, allow_abbrev=False)
    for name in names:
        # Jobs pass `--model_name=...` (the key as written in jobs.yml); people type --model-name.
        options = dict.fromkeys([f"--{name.replace('_', '-')}", f"--{name}"])
        parser.add_argument(*options, dest=name, default=step_defaults.get(name, ""))
    if config.on_databricks() or pushed_down:
        # Databricks documents that it passes every job parameter to every task that has
        # named_parameters, used or not: those this step does not take are left alone.
        parsed, ignored = parser.parse_known_args(argv)
        unknown = [arg for arg in ignored if _option_name(arg) not in (pushed_down or ())]
        if unknown and not config.on_databricks():
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        if ignored:
            print(f"Not parameters of this step (job parameters reach every task): {ignored}")
    else:
        parsed = parser.parse_args(argv)
    values = {name: str(value).strip() for name, value in vars(parsed).items()}
    for name, derive in (local_defaults or {}).items() if local else ():
        values[name] = values[name] or derive(values)
    missing = [name for name, value in values.items() if not value and name not in optional]
    if missing:
        raise ValueError(
            f"Missing parameter(s): {', '.join(missing)}. On Databricks set them in the task's "
            "named_parameters (resources/jobs.yml); locally pass --"
            + " --".join(name.replace("_", "-") for name in missing)
            + "."
        )
    if _checking.get():
        raise ParametersChecked(values)
    return values


def _option_name(arg: str) -> str:
    """`--model-name=x` -> `model_name`."""
    return arg.lstrip("-").split("=", 1)[0].replace("-", "_")


def as_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in {"true", "false"}:
        raise ValueError(f"Expected 'true' or 'false', got {value!r}.")
    return lowered == "true"
