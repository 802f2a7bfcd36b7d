"""Local mode: write the sample data where the UC volume's files would land.

    uv run python -m ml_project.local.sample_data
    uv run python -m ml_project.local.sample_data --batch 2
    uv run python -m ml_project.local.sample_data --rows 100000

The first (what `make sample` does) writes the bundled sample as training data, and a first
batch of records to score (`inference_data/`, each with a `record_id`) with their labels
(`ground_truth/`, as if they had arrived later). `--batch N` writes batch N alone: new records,
and their labels. `--rows` resamples the sample with a little noise, for training and the batch
alike.

The sample is read_sample()'s: the breast cancer dataset, which ships inside scikit-learn, so
nothing is downloaded. The output is deterministic.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ml_project import config, naming, problem
from ml_project.errors import InputDataError

SAMPLE_FILE = "sample.csv"


def read_sample() -> pd.DataFrame:
    """The sample: a few hundred rows of your data, as its raw files hold them (the columns of
    problem.py, and any others). Replace the body with your own (a CSV file kept in the
    repository, say): the tests and `make pipeline` use it, and they run offline."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    return frame.rename(columns=lambda name: name.replace(" ", "_"))


def load_sample() -> pd.DataFrame:
    """The sample's feature columns and label, as problem.py names them."""
    frame = read_sample()
    wanted = [*problem.FEATURE_COLUMNS, problem.LABEL_COLUMN]
    missing = [column for column in wanted if column not in frame.columns]
    if missing:
        raise InputDataError(
            f"The sample data has no column(s) {', '.join(missing)}, which problem.py names in "
            f"FEATURE_COLUMNS or LABEL_COLUMN. Make read_sample() in {__name__} return a sample "
            "of your data, or correct problem.py (README: Adapt it to your data)."
        )
    return frame[wanted]


def sample_rows(rows: int | None = None, seed: int = 0) -> pd.DataFrame:
    """The sample as it is (no `rows`, seed 0), or `rows` rows drawn from it with a little noise
    on the features (deterministic for a seed)."""
    frame = load_sample()
    if rows is None and seed == 0:
        return frame
    rows = rows or len(frame)
    rng = np.random.default_rng(seed)
    frame = frame.sample(n=rows, replace=True, random_state=seed).reset_index(drop=True)
    noise = rng.normal(0.0, 0.01, size=(rows, len(problem.FEATURE_COLUMNS)))
    scale = frame[problem.FEATURE_COLUMNS].std().to_numpy()
    frame[problem.FEATURE_COLUMNS] = frame[problem.FEATURE_COLUMNS] + noise * scale
    return frame


def write_sample(directory: str | Path, rows: int | None = None, seed: int = 0) -> Path:
    """Write the sample as one CSV file into `directory` (a local folder) and return its path."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    path = target / SAMPLE_FILE
    sample_rows(rows, seed).to_csv(path, index=False)
    return path


def write_batch(
    records_dir: str | Path, labels_dir: str | Path, batch: int = 1, rows: int | None = None
) -> tuple[Path, Path]:
    """Write batch `batch` of records to score (record id and features) into `records_dir`, and
    their labels into `labels_dir`; return both files. Ids are unique across batches."""
    frame = sample_rows(rows, seed=batch - 1)
    frame.insert(0, naming.RECORD_ID, [f"{batch:04d}-{i:06d}" for i in range(len(frame))])
    paths = []
    for folder, columns in (
        (records_dir, [naming.RECORD_ID, *problem.FEATURE_COLUMNS]),
        (labels_dir, [naming.RECORD_ID, problem.LABEL_COLUMN]),
    ):
        path = Path(folder) / f"batch-{batch:04d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        frame[columns].to_csv(path, index=False)
        paths.append(path)
    return paths[0], paths[1]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", default=config.LOCAL_DEFAULTS["catalog"])
    parser.add_argument("--schema", default=config.LOCAL_DEFAULTS["schema"])
    parser.add_argument("--rows", type=int, default=None, help="rows to write (default: all)")
    parser.add_argument(
        "--batch", type=int, default=None, help="write only this batch of records and labels"
    )
    args = parser.parse_args(argv)
    if args.batch is not None and args.batch < 1:
        parser.error("--batch counts from 1")
    env = config.local()
    if args.batch is None:
        folder = env.path(naming.training_data_path(args.catalog, args.schema))
        print(f"Wrote {write_sample(folder, rows=args.rows)}")
    records, labels = write_batch(
        env.path(naming.inference_data_path(args.catalog, args.schema)),
        env.path(naming.ground_truth_path(args.catalog, args.schema)),
        batch=args.batch or 1,
        rows=args.rows,
    )
    print(f"Wrote {records} and {labels}")


if __name__ == "__main__":
    main()
