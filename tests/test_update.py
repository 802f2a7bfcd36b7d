"""`copier update` keeps a team's edits: from every recorded release to the working tree, and as a
no-op when the version does not change."""

from __future__ import annotations

from pathlib import Path

import copier
import pytest
import yaml
from bundle_validation import require_schema, validate_project
from template_repo import build_template_repo, git, head_version, releases
from test_render import project_files
from yamllint import linter
from yamllint.config import YamlLintConfig

CONFLICT_MARKERS = ("<<<<<<< ", ">>>>>>> ")

# Edits a team makes after generating: (file, text appended). Template-owned bundle files and
# user-owned code and tests alike must keep them through an update.
USER_EDITS = {
    "databricks.yml": "\n# Team note: cost centre 4711 pays for this bundle.\n",
    "resources/jobs.yml": "\n# Team note: the inference schedule follows the sales calendar.\n",
    "src/training/train.py": "\n\ndef team_helper() -> str:\n    return 'kept'\n",
}
USER_FILE = ("tests/test_team.py", "def test_team_rule():\n    assert 'team' in 'our team'\n")


def copy_at(template: Path, version: str, project: Path) -> Path:
    copier.run_copy(
        str(template), project, vcs_ref=version, defaults=True, unsafe=False, quiet=True
    )
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", f"Generate at template {version}")
    return project


def update_to(project: Path, version: str) -> None:
    copier.run_update(
        project, vcs_ref=version, defaults=True, overwrite=True, unsafe=True, quiet=True
    )


def recorded_version(project: Path) -> str:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"]


def test_same_version_update_changes_nothing(tmp_path):
    template = build_template_repo(tmp_path, release_versions=[])
    project = copy_at(template, head_version(), tmp_path / "project")
    update_to(project, head_version())
    assert git(project, "status", "--porcelain") == "", "rendering is not deterministic"


@pytest.mark.parametrize("release", [r["version"] for r in releases()])
def test_update_from_release_keeps_user_edits(tmp_path, release):
    template = build_template_repo(tmp_path, release_versions=[release])
    project = copy_at(template, release, tmp_path / "project")
    for relpath, addition in USER_EDITS.items():
        with (project / relpath).open("a") as file:
            file.write(addition)
    (project / USER_FILE[0]).write_text(USER_FILE[1])
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Team edits")

    update_to(project, head_version())

    assert recorded_version(project) == head_version()
    for relpath, addition in USER_EDITS.items():
        assert addition.strip() in (project / relpath).read_text(), (
            f"the edit to {relpath} was lost"
        )
    assert (project / USER_FILE[0]).read_text() == USER_FILE[1]
    files = project_files(project)
    assert not [path for path in files if path.suffix == ".rej"]
    conflicted = [
        path
        for path in files
        if any(m in path.read_text(errors="ignore") for m in CONFLICT_MARKERS)
    ]
    assert not conflicted, f"unexpected conflicts in {conflicted}"
    config = YamlLintConfig(file=str(project / ".yamllint.yaml"))
    for path in files:
        if path.suffix in {".yml", ".yaml"}:
            assert not list(linter.run(path.read_text(), config, str(path))), path
    errors = validate_project(project, require_schema())
    assert not any(errors.values()), errors
