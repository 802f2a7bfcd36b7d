"""Step parameters: notebook widgets on Databricks, command-line options locally.

A job passes `base_parameters`, which a notebook reads as widgets. Run locally, the same step
takes `--name value` options whose defaults are the dev target's names (common.config).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence

from common import config


def get_params(
    names: Sequence[str],
    description: str,
    defaults: Mapping[str, str] | None = None,
    argv: Sequence[str] | None = None,
) -> dict[str, str]:
    """Return one string value per name; fail clearly if one is empty."""
    step_defaults = dict(defaults or {})
    local_defaults = {**config.LOCAL_DEFAULTS, **step_defaults}
    if config.on_databricks():
        from databricks.sdk.runtime import dbutils  # only importable on a cluster

        # No dev names as silent defaults on a workspace: only the step's own defaults.
        for name in names:
            dbutils.widgets.text(name, step_defaults.get(name, ""))
        values = {name: dbutils.widgets.get(name).strip() for name in names}
    else:
        parser = argparse.ArgumentParser(description=description)
        for name in names:
            parser.add_argument(
                f"--{name.replace('_', '-')}", dest=name, default=local_defaults.get(name, "")
            )
        values = {name: str(value).strip() for name, value in vars(parser.parse_args(argv)).items()}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ValueError(
            f"Missing parameter(s): {', '.join(missing)}. On Databricks set them in the job's "
            "base_parameters (resources/jobs.yml); locally pass --" + " --".join(missing) + "."
        )
    return values


def as_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in {"true", "false"}:
        raise ValueError(f"Expected 'true' or 'false', got {value!r}.")
    return lowered == "true"
