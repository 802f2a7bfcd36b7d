"""Local mode: write the sample training data where the UC volume's files would land.

    python -m common.sample_data                 # the bundled sample, as is
    python -m common.sample_data --rows 100000   # resampled with a little noise (benchmarks)

The data ships inside scikit-learn, so nothing is downloaded. The output is deterministic.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common import config, naming, problem

SAMPLE_FILE = "sample.csv"


def write_sample(directory: str | Path, rows: int | None = None, seed: int = 0) -> Path:
    """Write the sample as one CSV file into `directory` (a local folder) and return its path."""
    frame = problem.load_sample()[[*problem.FEATURE_COLUMNS, problem.LABEL_COLUMN]]
    if rows is not None and rows != len(frame):
        rng = np.random.default_rng(seed)
        frame = frame.sample(n=rows, replace=True, random_state=seed).reset_index(drop=True)
        noise = rng.normal(0.0, 0.01, size=(rows, len(problem.FEATURE_COLUMNS)))
        scale = frame[problem.FEATURE_COLUMNS].std().to_numpy()
        frame[problem.FEATURE_COLUMNS] = frame[problem.FEATURE_COLUMNS] + noise * scale
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    path = target / SAMPLE_FILE
    frame.to_csv(path, index=False)
    return path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", default=config.LOCAL_DEFAULTS["catalog"])
    parser.add_argument("--schema", default=config.LOCAL_DEFAULTS["schema"])
    parser.add_argument("--rows", type=int, default=None, help="rows to write (default: all)")
    args = parser.parse_args(argv)
    env = config.local()
    folder = env.path(naming.training_data_path(args.catalog, args.schema))
    path = write_sample(folder, rows=args.rows)
    print(f"Wrote {path}")


if __name__ == "__main__":
    main()
