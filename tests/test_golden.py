"""The generated projects are the golden renders under tests/golden/: a template change shows up
as a diff of real projects, reviewed with the change (`make golden` refreshes them)."""

from __future__ import annotations

import golden
import pytest
from conftest import render_project


@pytest.mark.parametrize("name", list(golden.SETS))
def test_generated_project_matches_its_golden_render(copier_template, tmp_path, name):
    project = render_project(copier_template, tmp_path / name, golden.SETS[name])
    expected = golden.texts(golden.GOLDEN / name)
    assert expected, f"no golden render of {name}: run `make golden`"
    problems = golden.differences(name, expected, golden.texts(project))
    assert not problems, "\n".join(
        [*problems, "", "Intended? Run `make golden` and review `git diff tests/golden`."]
    )
