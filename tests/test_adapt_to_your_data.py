"""The generated README's "Adapt it to your data" works: a project switched to another bundled
data set with exactly the edits its README shows passes its lint and tests, and its local
pipeline promotes, scores and labels the new sample.

The edits are read from the rendered README (each ```python block names its file on its first
line), and each top-level definition of a block replaces the one of the same name in that file.
The regression project runs its whole suite and its local pipeline; the classification project,
to keep CI short, the modules whose tests read the sample's values (the others do not depend on
the data), test_jobs.py among them, which runs the bundle's jobs locally as the pipeline does.
"""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
from conftest import render_project
from project_env import install, package_of, uv_run

pytestmark = pytest.mark.slow

SECTION = "## Adapt it to your data"


def documented_edits(readme: str) -> dict[str, str]:
    """{file: code} of the section's python blocks."""
    start = readme.index(SECTION)
    section = readme[start : readme.index("\n## ", start + len(SECTION))]
    edits = {}
    for block in re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL):
        first, _, code = block.partition("\n")
        edits[first.removeprefix("# ").strip()] = code
    return edits


def _names(node: ast.stmt) -> tuple[str, ...]:
    """The names a top-level statement defines."""
    if isinstance(node, ast.FunctionDef | ast.ClassDef):
        return (node.name,)
    if isinstance(node, ast.Assign):
        return tuple(target.id for target in node.targets if isinstance(target, ast.Name))
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return (node.target.id,)
    return ()


def replace_definitions(path: Path, code: str) -> None:
    """Replace each definition in `path` that `code` defines anew (one of each must exist)."""
    for new in ast.parse(code).body:
        source = path.read_text()
        matches = [old for old in ast.parse(source).body if _names(old) == _names(new)]
        assert len(matches) == 1, f"{path} defines {_names(new)} {len(matches)} times"
        old = matches[0]
        first = min([old.lineno, *(d.lineno for d in getattr(old, "decorator_list", []))])
        # The whole lines of the old definition, a trailing `# fmt: skip` comment included.
        lines = source.splitlines(keepends=True)
        replacement = "\n".join(code.splitlines()[new.lineno - 1 : new.end_lineno]) + "\n"
        path.write_text("".join([*lines[: first - 1], replacement, *lines[old.end_lineno :]]))


# The generated test modules that read the sample's rows, sizes or labels.
DATA_TESTS = [
    "tests/test_sample_data.py",
    "tests/test_features.py",
    "tests/test_training.py",
    "tests/test_evaluate.py",
    "tests/test_batch_inference.py",
    "tests/test_ground_truth.py",
    "tests/test_jobs.py",
]


@pytest.mark.parametrize(
    ("problem_type", "tests"), [("regression", []), ("classification", DATA_TESTS)]
)
def test_the_documented_edits_switch_the_project_to_other_data(
    problem_type, tests, copier_template: Path, tmp_path
):
    answers = {"problem_type": problem_type}
    project = render_project(copier_template, tmp_path / problem_type, answers)
    edits = documented_edits((project / "README.md").read_text())
    assert set(edits) == {
        f"src/{package_of(project)}/problem.py",
        f"src/{package_of(project)}/local/sample_data.py",
    }
    for file, code in edits.items():
        replace_definitions(project / file, code)
    install(project)

    uv_run(project, "ruff", "check", ".")
    uv_run(project, "ruff", "format", "--check", ".")
    assert all((project / module).is_file() for module in tests), tests
    output = uv_run(project, "pytest", "-q", "-p", "no:cacheprovider", "-x", *tests)
    assert re.search(r"\d+ passed", output) and not re.search(r"\d+ (failed|error)", output), (
        output[-3000:]
    )
    if tests:
        return  # test_jobs.py ran the bundle's jobs on the new data, as the pipeline does
    shutil.rmtree(project / ".local", ignore_errors=True)
    summary = uv_run(project, "python", "-m", f"{package_of(project)}.local.pipeline")
    assert "gate         version 1 promoted to champion" in summary, summary[-3000:]
    rows = re.search(r"predictions  \S+: (\d+) rows, (\d+) added by version 1", summary)
    assert rows and rows.group(1) == rows.group(2) != "0", summary[-3000:]
    assert re.search(r"labels       (\d+) of \1 predictions labelled, \1 newly", summary), summary
