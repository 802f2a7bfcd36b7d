"""The sample data the tests and `make pipeline` use: read_sample() in local/sample_data.py, held
to the columns problem.py names."""

from __future__ import annotations

import pytest

from churn_forecast_europe_weekly_mdl import problem
from churn_forecast_europe_weekly_mdl.errors import InputDataError
from churn_forecast_europe_weekly_mdl.local.sample_data import load_sample


def test_the_sample_has_the_columns_of_problem_py(sample):
    assert list(sample.columns) == [*problem.FEATURE_COLUMNS, problem.LABEL_COLUMN]


def test_a_column_the_sample_lacks_is_named_with_what_to_change(monkeypatch):
    monkeypatch.setattr(problem, "FEATURE_COLUMNS", [*problem.FEATURE_COLUMNS, "not_in_sample"])
    with pytest.raises(InputDataError, match=r"no column\(s\) not_in_sample, .*read_sample\(\)"):
        load_sample()
