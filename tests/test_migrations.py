"""Migrations: the machinery, hermetically, and each real migration script on its own.

A synthetic two-file template, versioned 1.0.0 / 2.0.0 / 3.0.0 in a throwaway repo, carries one
migration at 2.0.0 that uses the real migrations/_helpers.py. It proves that a migration runs
exactly once, in its stage, and not at all when an update does not straddle its version; and that
a staged move keeps the user's edit while a question rename keeps the user's answer.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import copier
import plumbum
import pytest
import yaml
from answer_sets import REPO_ROOT
from template_repo import git

sys.path.insert(0, str(REPO_ROOT / "migrations"))
import _helpers

MIGRATION = """\
import os
from pathlib import Path
import _helpers

context = _helpers.Context.from_environment()
with open(os.environ["MIGRATION_LOG"], "a") as log:
    log.write(f"{context.stage} {context.version_from} {context.version_to}\\n")
_helpers.move_path(Path("notes.txt"), Path("docs/notes.txt"))
_helpers.rename_answers({"owner": "team"})
"""


def _template_version(repo: Path, version: str, *, renamed: bool) -> None:
    """Version 1 asks `owner` and writes notes.txt; from 2 on, `team` and docs/notes.txt."""
    question = "team" if renamed else "owner"
    notes = "docs/notes.txt" if renamed else "notes.txt"
    config = {
        "_answers_file": ".copier-answers.yml",
        "_subdirectory": "template",
        question: {"type": "str", "default": "nobody"},
    }
    if renamed:
        config["_migrations"] = [
            {
                "version": "2.0.0",
                "when": "{{ _stage == 'before' }}",
                "command": ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/migrations/v2.py"],
            }
        ]
    for child in repo.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    (repo / "template" / Path(notes).parent).mkdir(parents=True, exist_ok=True)
    (repo / "copier.yml").write_text(yaml.safe_dump(config))
    (repo / "template" / "{{ _copier_conf.answers_file }}.jinja").write_text(
        "{{ _copier_answers|to_nice_yaml -}}\n"
    )
    heading = "# Team notes" if version == "3.0.0" else "# Notes"
    (repo / "template" / f"{notes}.jinja").write_text(
        f"{heading}\nOwned by {{{{ {question} }}}}.\nLine two.\n"
    )
    if renamed:
        (repo / "migrations").mkdir()
        shutil.copy(REPO_ROOT / "migrations" / "_helpers.py", repo / "migrations")
        (repo / "migrations" / "v2.py").write_text(MIGRATION)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", version)
    git(repo, "tag", version)


@pytest.fixture
def synthetic_template(tmp_path) -> Path:
    repo = tmp_path / "synthetic-template"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    _template_version(repo, "1.0.0", renamed=False)
    _template_version(repo, "2.0.0", renamed=True)
    _template_version(repo, "3.0.0", renamed=True)
    return repo


@pytest.fixture
def migration_log(tmp_path, monkeypatch) -> Path:
    log = tmp_path / "migration.log"
    log.touch()
    # Copier runs migrations with plumbum's environment, a copy taken at start-up: patch both.
    monkeypatch.setenv("MIGRATION_LOG", str(log))
    monkeypatch.setitem(plumbum.local.env, "MIGRATION_LOG", str(log))
    return log


def _project(template: Path, version: str, dst: Path, **data) -> Path:
    copier.run_copy(str(template), dst, vcs_ref=version, data=data, defaults=True, quiet=True)
    git(dst, "init", "--quiet", "--initial-branch=main")
    git(dst, "add", "--all")
    git(dst, "commit", "--quiet", "-m", "generated")
    return dst


def _update(project: Path, version: str) -> None:
    copier.run_update(
        project, vcs_ref=version, defaults=True, overwrite=True, unsafe=True, quiet=True
    )
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--allow-empty", "-m", f"update to {version}")


def test_migration_runs_once_in_its_stage_and_keeps_edits(
    synthetic_template, migration_log, tmp_path
):
    project = _project(synthetic_template, "1.0.0", tmp_path / "project", owner="data-team")
    with (project / "notes.txt").open("a") as notes:
        notes.write("A line the team added.\n")
    git(project, "commit", "--quiet", "-am", "team edit")

    _update(project, "2.0.0")
    assert migration_log.read_text().splitlines() == ["before 1.0.0 2.0.0"]
    moved = (project / "docs" / "notes.txt").read_text()
    assert "A line the team added." in moved, "the staged move lost the user's edit"
    assert "Owned by data-team." in moved, "the renamed question lost the user's answer"
    assert not (project / "notes.txt").exists()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["team"] == "data-team" and "owner" not in answers

    _update(project, "3.0.0")
    assert migration_log.read_text().splitlines() == ["before 1.0.0 2.0.0"], "it ran twice"


def test_migration_does_not_run_when_the_update_does_not_straddle_it(
    synthetic_template, migration_log, tmp_path
):
    project = _project(synthetic_template, "2.0.0", tmp_path / "project", team="data-team")
    _update(project, "3.0.0")
    assert migration_log.read_text() == ""


# --- the helpers on their own ---------------------------------------------------------------


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    git(tmp_path, "init", "--quiet")
    return tmp_path


def test_move_path_stages_the_move_and_is_idempotent(repo):
    (repo / "old.yml").write_text("edited: true\n")
    git(repo, "add", "old.yml")
    assert _helpers.move_path(Path("old.yml"), Path("new/dir/new.yml"))
    staged = git(repo, "diff", "--cached", "--name-status", "-M")
    assert (
        "new/dir/new.yml" in staged and (repo / "new/dir/new.yml").read_text() == "edited: true\n"
    )
    assert not _helpers.move_path(Path("old.yml"), Path("new/dir/new.yml"))


def test_move_path_refuses_to_overwrite(repo):
    (repo / "old.yml").write_text("a\n")
    (repo / "new.yml").write_text("b\n")
    with pytest.raises(SystemExit, match="already exists"):
        _helpers.move_path(Path("old.yml"), Path("new.yml"))


def test_rename_answers_keeps_values_and_is_idempotent(repo):
    answers = repo / ".copier-answers.yml"
    answers.write_text("_commit: 1.0.0\nowner: data-team\n")
    assert _helpers.rename_answers({"owner": "team"}) == ["owner"]
    assert yaml.safe_load(answers.read_text()) == {"_commit": "1.0.0", "team": "data-team"}
    assert _helpers.rename_answers({"owner": "team"}) == []


def test_context_reads_copiers_environment(monkeypatch):
    for name, value in {
        "STAGE": "after",
        "VERSION_PEP440_FROM": "0.1.0",
        "VERSION_PEP440_TO": "0.2.0",
    }.items():
        monkeypatch.setenv(name, value)
    context = _helpers.Context.from_environment()
    assert (context.stage, context.version_from, context.version_to) == ("after", "0.1.0", "0.2.0")


def test_every_migration_follows_the_convention():
    """Each `_migrations` entry: command + version + when, running a script that exists."""
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    scripts = {path.name for path in (REPO_ROOT / "migrations").glob("v*.py")}
    used = set()
    for migration in config.get("_migrations", []):
        assert set(migration) >= {"command", "version", "when"}, migration
        script = Path(migration["command"][-1]).name
        assert script in scripts, f"{script} is not in migrations/"
        used.add(script)
    assert used == scripts, f"scripts no migration runs: {scripts - used}"
    assert subprocess.run([sys.executable, "-c", "import yaml"], check=False).returncode == 0


def test_a_conflicting_edit_is_inline_and_reviewable(synthetic_template, migration_log, tmp_path):
    """Template 3.0.0 changes the heading the team changed too: markers inline, no .rej file."""
    project = _project(synthetic_template, "2.0.0", tmp_path / "project", team="data-team")
    notes = project / "docs" / "notes.txt"
    notes.write_text(notes.read_text().replace("# Notes", "# Our notes"))
    git(project, "commit", "--quiet", "-am", "team edit")
    copier.run_update(
        project, vcs_ref="3.0.0", defaults=True, overwrite=True, unsafe=True, quiet=True
    )
    text = notes.read_text()
    assert "<<<<<<< before updating" in text and ">>>>>>> after updating" in text
    assert "# Our notes" in text and "# Team notes" in text
    assert not list(project.rglob("*.rej"))
