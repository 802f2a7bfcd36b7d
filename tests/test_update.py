"""`copier update` keeps a team's edits: from every recorded release to the working tree, and as a
no-op when the version does not change.

From a 0.1.x release the update crosses the 0.2.0 migration (migrations/v0_2_0__one_package.py):
the six top-level packages in src/ become src/<package_name>/, and the team's edits, own modules and
tests move along with their imports rewritten; the team's notebook folder, which a job of theirs
names, stays.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import copier
import pytest
import yaml
from answer_sets import REPO_ROOT
from bundle_validation import require_schema, validate_project
from copier import Settings
from copier.errors import UnsafeTemplateError, UserMessageError
from packaging.version import Version
from project_env import install, uv_run
from prompts import message_problems
from template_repo import build_template_repo, git, head_version, migration_versions, releases
from test_render import project_files
from yamllint import linter
from yamllint.config import YamlLintConfig

CONFLICT_MARKERS = ("<<<<<<< ", ">>>>>>> ")
ONE_PACKAGE = Version("0.2.0")  # the release that introduced src/<package_name>/
PACKAGE = "ml_project"  # package_name's default for the default answers (project_slug ml-project)

# Edits a team makes after generating. Template-owned bundle files, appended to:
BUNDLE_EDITS = {
    "databricks.yml": "\n# Team note: cost centre 4711 pays for this bundle.\n",
    "resources/jobs.yml": "\n# Team note: the inference schedule follows the sales calendar.\n",
}
# Code, in the layout of the version the project was generated at: a tuned hyperparameter in the
# problem definition, a helper module of the team's own, imported by the training step, and a
# test of the team's own importing it.
HYPERPARAMETER = ('"learning_rate": 0.02,', '"learning_rate": 0.05,  # team: tuned on 2026 data')
TEAM_HELPERS = (
    '"""The team\'s own helpers."""\n\n\ndef shout(text: str) -> str:\n    return text.upper()\n'
)
TEAM_FUNCTION = '\n\ndef team_helper() -> str:\n    return shout("kept")\n'
TEAM_TEST = (
    "from {module}.team_helpers import shout\n\n\n"
    "def test_team_helper():\n"
    '    assert shout("kept") == "KEPT"\n'
)
# ... and an import added to a generated test's fixture, below an import the 0.2 layout renames.
CONFTEST_ANCHOR = "    from {steps}training import evaluate, train\n"
CONFTEST_LINE = "    from {module}.team_helpers import shout  # noqa: F401 (the team's fixtures)\n"
# ... and a notebook folder of the team's own, run by a job of theirs that names it by path: it
# stays where it is (a notebook, not a module of the package), its import follows the package.
TEAM_NOTEBOOK = (
    "# Databricks notebook source\n"
    "from {module}.naming import feature_table\n\n"
    "# COMMAND ----------\n\n"
    'print(feature_table("main", "ml"))\n'
)
TEAM_NOTEBOOK_JOB = """\
# The team's exploration notebooks, in a job of their own.
resources:
  jobs:
    explore:
      name: ${bundle.name}-explore-${bundle.target}
      tasks:
        - task_key: explore
          notebook_task:
            notebook_path: ../src/notebooks/explore.py
"""
OLD_IMPORT = re.compile(
    r"^\s*(from|import)\s+(common|feature_engineering|training|inference|deployment|monitoring)\b",
    re.MULTILINE,
)


def copy_at(template: Path, version: str, project: Path, data: dict | None = None) -> Path:
    copier.run_copy(
        str(template), project, vcs_ref=version, data=data, defaults=True, unsafe=False, quiet=True
    )
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", f"Generate at template {version}")
    return project


def crosses_a_migration(project: Path, version: str) -> bool:
    recorded = Version(str(recorded_answers(project)["_commit"]))
    return any(recorded < migration <= Version(version) for migration in migration_versions())


def update_to(project: Path, version: str, **options) -> None:
    # unsafe (the CLI's --trust) only where Copier runs a migration: the docs say exactly that.
    copier.run_update(
        project,
        vcs_ref=version,
        defaults=True,
        overwrite=True,
        unsafe=crosses_a_migration(project, version),
        quiet=True,
        **options,
    )


def recorded_answers(project: Path) -> dict:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())


def old_layout_releases() -> list[str]:
    return [r["version"] for r in releases() if Version(r["version"]) < ONE_PACKAGE]


def layout(project: Path) -> dict[str, str]:
    """Where the team's code edits go: the 0.1 layout, or the package."""
    if (project / "src" / "common").is_dir():
        return {
            "module": "common",
            "steps": "",
            "shared": "src/common",
            "training": "src/training",
        }
    package = recorded_answers(project)["package_name"]
    return {
        "module": package,
        "steps": f"{package}.",
        "shared": f"src/{package}",
        "training": f"src/{package}/training",
    }


def make_team_edits(project: Path) -> None:
    for relpath, addition in BUNDLE_EDITS.items():
        with (project / relpath).open("a") as file:
            file.write(addition)
    where = layout(project)
    problem = project / where["shared"] / "problem.py"
    assert HYPERPARAMETER[0] in problem.read_text()
    problem.write_text(problem.read_text().replace(*HYPERPARAMETER, 1))
    (project / where["shared"] / "team_helpers.py").write_text(TEAM_HELPERS)
    train = project / where["training"] / "train.py"
    anchor = f"from {where['module']}.tracking import"
    assert anchor in train.read_text()
    helper_import = f"from {where['module']}.team_helpers import shout\n{anchor}"
    train.write_text(train.read_text().replace(anchor, helper_import, 1) + TEAM_FUNCTION)
    (project / "tests" / "test_team.py").write_text(TEAM_TEST.format(module=where["module"]))
    conftest = project / "tests" / "conftest.py"
    anchor = CONFTEST_ANCHOR.format(**where)
    assert anchor in conftest.read_text()
    conftest.write_text(
        conftest.read_text().replace(anchor, anchor + CONFTEST_LINE.format(**where))
    )
    (project / "src" / "notebooks").mkdir()
    (project / "src" / "notebooks" / "explore.py").write_text(TEAM_NOTEBOOK.format(**where))
    (project / "resources" / "explore.yml").write_text(TEAM_NOTEBOOK_JOB)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Team edits")


def assert_team_edits_kept(project: Path, package: str = PACKAGE) -> None:
    """The edits are in the package, imports rewritten, nothing to resolve, the bundle valid."""
    root = project / "src" / package
    for relpath, addition in BUNDLE_EDITS.items():
        assert addition.strip() in (project / relpath).read_text(), f"{relpath}: edit lost"
    problem = (root / "problem.py").read_text()
    assert HYPERPARAMETER[1] in problem and HYPERPARAMETER[0] not in problem, "hyperparameter lost"
    assert (root / "team_helpers.py").read_text() == TEAM_HELPERS
    train = (root / "training" / "train.py").read_text()
    assert f"from {package}.team_helpers import shout\n" in train
    assert TEAM_FUNCTION.strip() in train
    assert (project / "tests" / "test_team.py").read_text() == TEAM_TEST.format(module=package)
    assert CONFTEST_LINE.format(module=package) in (project / "tests" / "conftest.py").read_text()
    notebook = project / "src" / "notebooks" / "explore.py"
    assert notebook.read_text() == TEAM_NOTEBOOK.format(module=package), "notebook moved or lost"
    assert (project / "resources" / "explore.yml").read_text() == TEAM_NOTEBOOK_JOB
    assert sorted(path.name for path in (project / "src").iterdir()) == sorted(
        [package, "notebooks"]
    )

    files = project_files(project)
    old_imports = [
        path for path in files if path.suffix == ".py" and OLD_IMPORT.search(path.read_text())
    ]
    assert not old_imports, f"0.1 imports left in {old_imports}"
    assert not [path for path in files if path.suffix == ".rej"]
    conflicted = [
        path
        for path in files
        if any(m in path.read_text(errors="ignore") for m in CONFLICT_MARKERS)
    ]
    assert not conflicted, f"unexpected conflicts in {conflicted}"
    assert git(project, "ls-files", "--unmerged") == "", "files left unmerged"
    config = YamlLintConfig(file=str(project / ".yamllint.yaml"))
    for path in files:
        if path.suffix in {".yml", ".yaml"}:
            assert not list(linter.run(path.read_text(), config, str(path))), path
    errors = validate_project(project, require_schema())
    assert not any(errors.values()), errors


def assert_migration_report(output: str, package: str = PACKAGE) -> None:
    """The 0.2.0 migration's output: the notebook stayed, and no line is left naming what moved
    (the template's new files name none; the team's job names the notebook, which stayed)."""
    assert (
        "Left in place (a Databricks notebook, named in resources/explore.yml): "
        "src/notebooks/explore.py"
    ) in output, output
    assert f"They import {package} from its wheel now" in output, output
    assert "still name the 0.1 layout" not in output, output


def test_same_version_update_changes_nothing(tmp_path):
    template = build_template_repo(tmp_path, release_versions=[])
    project = copy_at(template, head_version(), tmp_path / "project")
    update_to(project, head_version())
    assert git(project, "status", "--porcelain") == "", "rendering is not deterministic"


def values_of(key: str, tree: object) -> list:
    """Every value of `key` in a YAML tree, at any depth."""
    if isinstance(tree, dict):
        return [v for k, v in tree.items() if k == key] + [
            found for v in tree.values() for found in values_of(key, v)
        ]
    if isinstance(tree, list):
        return [found for item in tree for found in values_of(key, item)]
    return []


def runtime_pins(project: Path) -> dict[str, str]:
    """The runtime dependency group of the project's pyproject.toml: {package: pinned version}."""
    group = tomllib.loads((project / "pyproject.toml").read_text())["dependency-groups"]["runtime"]
    return dict(pin.split("==") for pin in group if "==" in pin)


def test_runtime_update_from_17_3_to_18_gives_the_18_project_and_keeps_team_edits(tmp_path):
    """`copier update -d runtime=18` on a 17.3 project with team edits: the 18 profile's pins and
    cluster key, the edits kept, and every other file as a project generated on 18 has it (whose
    tests and local run tests/test_generated_project.py runs)."""
    profile = yaml.safe_load((REPO_ROOT / "includes" / "runtime_profiles.yml").read_text())["18"]
    template = build_template_repo(tmp_path, release_versions=[])
    project = copy_at(template, head_version(), tmp_path / "project", data={"runtime": "17.3"})
    before = runtime_pins(project)
    make_team_edits(project)

    update_to(project, head_version(), data={"runtime": "18"})

    assert recorded_answers(project)["runtime"] == "18"
    pins = runtime_pins(project)
    assert pins != before
    for package in ("pyspark", "mlflow", "pandas", "numpy", "scikit-learn", "pyarrow"):
        assert pins[package] == str(profile[package]), package
    keys = {
        key
        for path in (project / "resources").glob("*.yml")
        for key in values_of("spark_version", yaml.safe_load(path.read_text()))
    }
    assert keys == {profile["spark_version"]}
    assert_team_edits_kept(project)

    fresh = copy_at(template, head_version(), tmp_path / "fresh", data={"runtime": "18"})
    edited = {*BUNDLE_EDITS, f"src/{PACKAGE}/problem.py", f"src/{PACKAGE}/training/train.py"}
    edited |= {"tests/conftest.py"}
    for path in project_files(fresh):
        relpath = path.relative_to(fresh).as_posix()
        if relpath not in edited:
            assert (project / relpath).read_text() == path.read_text(), relpath


@pytest.mark.parametrize("release", [r["version"] for r in releases()])
def test_update_from_release_keeps_team_edits(tmp_path, capfd, release):
    template = build_template_repo(tmp_path, release_versions=[release])
    project = copy_at(template, release, tmp_path / "project")
    make_team_edits(project)
    capfd.readouterr()

    update_to(project, head_version())

    assert recorded_answers(project)["_commit"] == head_version()
    assert_team_edits_kept(project)
    if Version(release) < ONE_PACKAGE:
        # The moves are staged renames: git log --follow keeps the history of each file.
        staged = git(project, "diff", "--cached", "--name-status", "-M")
        for old, new in [
            ("src/common/problem.py", f"src/{PACKAGE}/problem.py"),
            ("src/common/team_helpers.py", f"src/{PACKAGE}/team_helpers.py"),
            ("src/training/train.py", f"src/{PACKAGE}/training/train.py"),
        ]:
            assert re.search(rf"^R\d+\t{old}\t{new}$", staged, re.MULTILINE), staged
        assert not list(Path(git(project, "rev-parse", "--git-dir").strip()).glob("copier-*"))
        assert_migration_report(capfd.readouterr().out)


@pytest.mark.skipif(not old_layout_releases(), reason="no 0.1.x release recorded")
def test_a_package_name_answered_during_the_update_gets_the_package(tmp_path, capfd):
    """Copier asks package_name after the "before" stage, which moved the files under the default
    name: the "after" stage moves them to the answer (here from the user's Copier settings, as an
    interactive answer would)."""
    release = old_layout_releases()[-1]
    template = build_template_repo(tmp_path, release_versions=[release])
    project = copy_at(template, release, tmp_path / "project")
    make_team_edits(project)
    capfd.readouterr()

    update_to(project, head_version(), settings=Settings(defaults={"package_name": "churn_model"}))

    assert recorded_answers(project)["package_name"] == "churn_model"
    assert_team_edits_kept(project, package="churn_model")
    assert_migration_report(capfd.readouterr().out, package="churn_model")


@pytest.mark.skipif(not old_layout_releases(), reason="no 0.1.x release recorded")
def test_a_real_conflict_in_a_moved_file_is_inline_and_unmerged_as_copier_marks_it(tmp_path):
    """A project in a subfolder of its repository (a monorepo) whose team also rewrote a line that
    0.2.0 changes: that line conflicts, inline and unmerged in git as Copier marks its own
    conflicts; every other edit is merged."""
    release = old_layout_releases()[-1]
    template = build_template_repo(tmp_path, release_versions=[release])
    repo = tmp_path / "monorepo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    project = repo / "ml"
    copier.run_copy(str(template), project, vcs_ref=release, defaults=True, quiet=True)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", f"Generate at template {release}")
    problem = project / "src" / "common" / "problem.py"
    line = "Everything specific to the problem type lives here."
    assert line in problem.read_text()
    problem.write_text(problem.read_text().replace(line, "Our problem, as we define it."))
    make_team_edits(project)

    update_to(project, head_version())

    text = (project / "src" / PACKAGE / "problem.py").read_text()
    assert text.count("<<<<<<< before updating") == 1 and "Our problem, as we define it." in text
    assert HYPERPARAMETER[1] in text, "the edit beside the conflict was lost"
    unmerged = git(repo, "ls-files", "--unmerged")
    assert {row.split("\t")[1] for row in unmerged.splitlines()} == {f"ml/src/{PACKAGE}/problem.py"}
    assert (
        f"from {PACKAGE}.team_helpers import shout"
        in (project / "src" / PACKAGE / "training" / "train.py").read_text()
    )


@pytest.mark.skipif(not old_layout_releases(), reason="no 0.1.x release recorded")
def test_update_over_a_dirty_tree_stops_before_touching_anything(tmp_path):
    release = old_layout_releases()[-1]
    template = build_template_repo(tmp_path, release_versions=[release])
    project = copy_at(template, release, tmp_path / "project")
    problem = project / "src" / "common" / "problem.py"
    problem.write_text(problem.read_text().replace(*HYPERPARAMETER, 1))  # not committed

    with pytest.raises(UserMessageError, match="Destination repository is dirty; cannot continue"):
        update_to(project, head_version())

    assert git(project, "status", "--porcelain") == " M src/common/problem.py\n"
    assert HYPERPARAMETER[1] in problem.read_text()
    assert not (project / "src" / PACKAGE).exists()
    assert recorded_answers(project)["_commit"] == release


@pytest.mark.slow
@pytest.mark.skipif(not old_layout_releases(), reason="no 0.1.x release recorded")
def test_updated_project_passes_its_own_tests(tmp_path):
    """The newest 0.1.x project with team edits, updated: the team's test passes, every module
    imports, and both jobs run end to end (once, for the newest release only; the whole suite of
    a fresh project runs in test_generated_project)."""
    release = old_layout_releases()[-1]
    template = build_template_repo(tmp_path, release_versions=[release])
    project = copy_at(template, release, tmp_path / "project")
    make_team_edits(project)
    update_to(project, head_version())

    install(project)
    tests = ["tests/test_team.py", "tests/test_package.py", "tests/test_jobs.py"]
    output = uv_run(project, "pytest", "-q", "-rA", "-p", "no:cacheprovider", *tests)
    assert "PASSED tests/test_team.py::test_team_helper" in output, output
    summary = re.search(r"^\d+ passed.*$", output, re.MULTILINE)  # uv_run checked the exit code
    assert summary and "failed" not in summary.group(0), output


@pytest.mark.skipif(not old_layout_releases(), reason="no 0.1.x release recorded")
def test_an_update_across_a_migration_needs_trust_and_says_so(tmp_path):
    """Without --trust Copier refuses, naming migrations, before touching anything."""
    release = old_layout_releases()[-1]
    template = build_template_repo(tmp_path, release_versions=[release])
    project = copy_at(template, release, tmp_path / "project")
    with pytest.raises(UnsafeTemplateError, match="migrations"):
        copier.run_update(project, vcs_ref=head_version(), defaults=True, overwrite=True)
    assert git(project, "status", "--porcelain") == ""
    assert recorded_answers(project)["_commit"] == release


def hand_edit_answer(project: Path, question: str, value: str) -> None:
    answers = recorded_answers(project)
    answers[question] = value
    (project / ".copier-answers.yml").write_text(yaml.safe_dump(answers, sort_keys=False))
    git(project, "commit", "--quiet", "-am", f"Hand-edit {question}")


# A release older than the one whose validators refuse `${` (0.2.0 accepts it), and the newest.
HAND_EDIT_FROM = [r["version"] for r in releases() if Version(r["version"]) >= ONE_PACKAGE][-1:]


@pytest.mark.parametrize("release", [*HAND_EDIT_FROM, None], ids=lambda r: r or "head")
def test_a_hand_edited_answer_goes_through_the_validators_on_update(tmp_path, release):
    """Copier checks recorded answers with the validators of the version the project records and
    of the new one; one the new validators refuse stops the update before anything is written (by
    itself Copier would drop it and take the default), and once fixed the update keeps it."""
    template = build_template_repo(tmp_path, release_versions=[release] if release else [])
    project = copy_at(template, release or head_version(), tmp_path / "project")
    hand_edit_answer(project, "ml_engineers_group", "ml-${bundle.target}")
    head = git(project, "rev-parse", "HEAD")

    with pytest.raises(ValueError, match="question 'ml_engineers_group'") as refused:
        update_to(project, head_version())
    assert message_problems("ml_engineers_group", str(refused.value)) == []
    assert git(project, "status", "--porcelain") == "", "the refused update wrote files"
    assert git(project, "rev-parse", "HEAD") == head

    # Fixed to a name the validators accept, however odd: the update keeps it.
    hand_edit_answer(project, "ml_engineers_group", "ml engineers #prod")
    update_to(project, head_version())
    assert recorded_answers(project)["ml_engineers_group"] == "ml engineers #prod"
