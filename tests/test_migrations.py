"""Migrations: the machinery, hermetically, and each real migration script on its own.

A synthetic two-file template, versioned 1.0.0 / 2.0.0 / 3.0.0 in a throwaway repo, carries one
migration at 2.0.0 that uses the real migrations/_helpers.py. It proves that a migration runs
exactly once, in its stage, and not at all when an update does not straddle its version; and that
a staged move keeps the user's edit while a question rename keeps the user's answer.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import copier
import plumbum
import pytest
import yaml
from answer_sets import REPO_ROOT
from bundle_validation import require_schema, validate_project
from packaging.version import Version
from template_repo import _ensure_commit, git, releases

sys.path.insert(0, str(REPO_ROOT / "migrations"))
import _helpers

MIGRATION = """\
import importlib.util
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
    # ... but as a conflict: Copier merges a file at a new path against an empty base, so even
    # an edit the template never touched conflicts. Hence v0_2_0__one_package.py merges itself.
    assert moved.count("<<<<<<< before updating") == 1, moved
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
    """Each `_migrations` entry: command + version + when, running a script that exists, with the
    Python that runs Copier."""
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    scripts = {path.name for path in (REPO_ROOT / "migrations").glob("v*.py")}
    used = set()
    for migration in config.get("_migrations", []):
        assert set(migration) >= {"command", "version", "when"}, migration
        command = migration["command"]
        assert command[0] == "{{ _copier_python }}", command
        assert command[1].startswith("{{ _copier_conf.src_path }}/migrations/"), command
        script = Path(command[1]).name
        assert script in scripts, f"{script} is not in migrations/"
        assert script.startswith(f"v{migration['version'].replace('.', '_')}__"), script
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


# --- 0.2.0: one package (migrations/v0_2_0__one_package.py) --------------------------------

ONE_PACKAGE = REPO_ROOT / "migrations" / "v0_2_0__one_package.py"

# A small project in the 0.1 layout, with the team's own module, package, top-level module and
# test; its tests pass before the migration (PYTHONPATH=src, as the 0.1 notebooks' sys.path edit).
OLD_LAYOUT = {
    ".copier-answers.yml": "_commit: 0.1.1\n_src_path: gh:example/template\nproject_slug: churn\n",
    ".gitignore": "__pycache__/\n",
    "Makefile": "pipeline:\n\tpython -m common.local_pipeline\n",
    "src/common/__init__.py": '"""Shared modules."""\n',
    "src/common/naming.py": 'PREFIX = "churn-"\n',
    "src/common/problem.py": (
        "from common.sample_data import load_sample  # noqa: F401\n\n"
        'DEFAULT_PARAMS = {"learning_rate": 0.05}  # team: tuned\n'
    ),
    "src/common/sample_data.py": (
        "from .naming import PREFIX\n\n\ndef load_sample():\n    return [PREFIX]\n"
    ),
    "src/common/local_pipeline.py": (
        "from common import naming\nfrom training import train\n\n\n"
        "def main():\n    return train.fit(naming.PREFIX)\n"
    ),
    "src/common/team_helpers.py": (
        "from . import naming\n\n\ndef shout(text):\n    return naming.PREFIX + text.upper()\n"
    ),
    "src/training/__init__.py": '"""Training."""\n',
    "src/training/train.py": (
        "import common.problem\nfrom common.team_helpers import shout\n\n\n"
        "def fit(prefix):\n    return shout(prefix), common.problem.DEFAULT_PARAMS\n"
    ),
    "src/utils/__init__.py": '"""The team\'s package."""\n',
    "src/utils/text.py": "from common.naming import PREFIX\n\nLABEL = PREFIX + 'label'\n",
    "src/team_module.py": "import utils.text\n\nVALUE = utils.text.LABEL\n",
    "src/sql/scores.sql": "select 1\n",
    "tests/test_team.py": (
        "from unittest import mock\n\n"
        "import team_module\n"
        "from common import local_pipeline\n"
        "from common.problem import DEFAULT_PARAMS, load_sample\n"
        "from common.team_helpers import shout\n"
        "from training import train\n\n\n"
        "def test_team():\n"
        '    with mock.patch("common.naming.PREFIX", "x-"):\n'
        '        assert shout("a") == "x-A"\n'
        "    assert train.fit('p')[1] is DEFAULT_PARAMS\n"
        "    assert local_pipeline.main()[0] == 'churn-CHURN-'\n"
        "    assert load_sample() == ['churn-'] and team_module.VALUE == 'churn-label'\n"
    ),
}
MIGRATED = {
    "Makefile": "pipeline:\n\tpython -m churn.local.pipeline\n",
    "src/churn/problem.py": (
        "from churn.local.sample_data import load_sample  # noqa: F401\n\n"
        'DEFAULT_PARAMS = {"learning_rate": 0.05}  # team: tuned\n'
    ),
    "src/churn/local/sample_data.py": (
        "from churn.naming import PREFIX\n\n\ndef load_sample():\n    return [PREFIX]\n"
    ),
    "src/churn/local/pipeline.py": (
        "from churn import naming\nfrom churn.training import train\n\n\n"
        "def main():\n    return train.fit(naming.PREFIX)\n"
    ),
    "src/churn/team_helpers.py": OLD_LAYOUT["src/common/team_helpers.py"],
    "src/churn/training/train.py": (
        "import churn.problem\nfrom churn.team_helpers import shout\n\n\n"
        "def fit(prefix):\n    return shout(prefix), churn.problem.DEFAULT_PARAMS\n"
    ),
    "src/churn/utils/text.py": "from churn.naming import PREFIX\n\nLABEL = PREFIX + 'label'\n",
    "src/churn/team_module.py": "import churn.utils.text\n\nVALUE = churn.utils.text.LABEL\n",
    "src/sql/scores.sql": "select 1\n",
    "tests/test_team.py": (
        "from unittest import mock\n\n"
        "from churn import team_module\n"
        "from churn.local import pipeline as local_pipeline\n"
        "from churn.problem import DEFAULT_PARAMS\n"
        "from churn.local.sample_data import load_sample\n"
        "from churn.team_helpers import shout\n"
        "from churn.training import train\n\n\n"
        "def test_team():\n"
        '    with mock.patch("churn.naming.PREFIX", "x-"):\n'
        '        assert shout("a") == "x-A"\n'
        "    assert train.fit('p')[1] is DEFAULT_PARAMS\n"
        "    assert local_pipeline.main()[0] == 'churn-CHURN-'\n"
        "    assert load_sample() == ['churn-'] and team_module.VALUE == 'churn-label'\n"
    ),
}


def _run(project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"STAGE", "PYTHONPATH"}}
    result = subprocess.run(
        [sys.executable, *args], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert not check or result.returncode == 0, result.stdout + result.stderr
    return result


def _project_tests_pass(project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def _snapshot(project: Path) -> dict[str, str]:
    files = {
        str(path.relative_to(project)): path.read_text()
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.parts and "__pycache__" not in path.parts
    }
    return {**files, "index": git(project, "diff", "--cached", "--name-status", "-M")}


@pytest.fixture
def old_project(tmp_path) -> Path:
    project = tmp_path / "project"
    for relpath, text in OLD_LAYOUT.items():
        (project / relpath).parent.mkdir(parents=True, exist_ok=True)
        (project / relpath).write_text(text)
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "0.1 layout")
    _project_tests_pass(project)  # leaves src/common/__pycache__ behind, as a real project has
    return project


def test_one_package_moves_staged_rewrites_imports_and_is_idempotent(old_project):
    output = _run(old_project, str(ONE_PACKAGE)).stdout
    assert "Moved 11 files from src/ into src/churn/ (git mv, staged)." in output, output
    assert "Left in place (not in a Python package): src/sql/scores.sql" in output, output

    staged = git(old_project, "diff", "--cached", "--name-status", "-M")
    for old, new in [
        ("src/common/problem.py", "src/churn/problem.py"),
        ("src/common/local_pipeline.py", "src/churn/local/pipeline.py"),
        ("src/common/team_helpers.py", "src/churn/team_helpers.py"),
        ("src/training/train.py", "src/churn/training/train.py"),
        ("src/utils/text.py", "src/churn/utils/text.py"),
        ("src/team_module.py", "src/churn/team_module.py"),
    ]:
        assert re.search(rf"^R\d+\t{old}\t{new}$", staged, re.MULTILINE), staged
    for relpath, text in MIGRATED.items():
        assert (old_project / relpath).read_text() == text, relpath
    assert sorted(p.name for p in (old_project / "src").iterdir()) == ["churn", "sql"]
    _project_tests_pass(old_project)

    before = _snapshot(old_project)
    _run(old_project, str(ONE_PACKAGE))
    assert _snapshot(old_project) == before, "a second run changed something"


def test_one_package_stops_before_overwriting(old_project):
    (old_project / "src" / "churn").mkdir()
    (old_project / "src" / "churn" / "notes.py").write_text("")
    git(old_project, "add", "--all")
    git(old_project, "commit", "--quiet", "-m", "a package of the same name")

    result = _run(old_project, str(ONE_PACKAGE), check=False)
    assert result.returncode != 0 and "src/churn/notes.py" in result.stderr
    assert git(old_project, "status", "--porcelain") == ""


def test_one_package_refuses_a_package_name_the_template_refuses(old_project):
    answers = old_project / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace("project_slug: churn", "project_slug: utils"))
    git(old_project, "commit", "--quiet", "-am", "slug utils")

    result = _run(old_project, str(ONE_PACKAGE), check=False)
    assert result.returncode != 0 and "--data package_name=" in result.stderr
    assert git(old_project, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from common import naming\n", "from pkg import naming\n"),
        ("from common.spark import get_spark\n", "from pkg.spark import get_spark\n"),
        (
            "from common import naming, local_pipeline\n",
            "from pkg import naming\nfrom pkg.local import pipeline as local_pipeline\n",
        ),
        ("from common.sample_data import load\n", "from pkg.local.sample_data import load\n"),
        ("from training import train\n", "from pkg.training import train\n"),
        ("import training\n", "from pkg import training\n"),
        ("import common\n", "import pkg as common\n"),
        ("import common.spark as s\n", "import pkg.spark as s\n"),
        ("import common.spark\ncommon.spark.x()\n", "import pkg.spark\npkg.spark.x()\n"),
        (
            "from common.problem import A, load_sample\n",
            "from pkg.problem import A\nfrom pkg.local.sample_data import load_sample\n",
        ),
        ('patch("common.spark.get_spark")\n', 'patch("pkg.spark.get_spark")\n'),
        # Not a module path, or not one that moved: unchanged.
        ('open("training.csv")\nname = "training"\n', 'open("training.csv")\nname = "training"\n'),
        (
            "import commons\nfrom pyspark.sql import F\n",
            "import commons\nfrom pyspark.sql import F\n",
        ),
        ("def broken(:\n    from common import x\n", "def broken(:\n    from common import x\n"),
        (
            "def f():\n    from common import (\n        naming,\n        spark,\n    )\n",
            "def f():\n    from pkg import (\n        naming,\n        spark,\n    )\n",
        ),
    ],
)
def test_import_rewrite(source, expected):
    mapping = _helpers.ModuleMap(
        modules={
            "common": "pkg",
            "common.spark": "pkg.spark",
            "common.naming": "pkg.naming",
            "common.problem": "pkg.problem",
            "common.local_pipeline": "pkg.local.pipeline",
            "common.sample_data": "pkg.local.sample_data",
            "training": "pkg.training",
            "training.train": "pkg.training.train",
        },
        symbols={"common.problem.load_sample": "pkg.local.sample_data.load_sample"},
    )
    assert _helpers.rewrite_python_imports(source, mapping) == expected
    assert _helpers.rewrite_python_imports(expected, mapping) == expected, "not idempotent"


def test_relative_imports_that_no_longer_reach_their_module_become_absolute():
    mapping = _helpers.ModuleMap(modules={"common": "pkg", "common.naming": "pkg.naming"})
    moved_down = {"old_module": "common.local_pipeline", "new_module": "pkg.local.pipeline"}
    stays = {"old_module": "common.team", "new_module": "pkg.team"}
    source = "from .naming import PREFIX\nfrom . import naming\n"
    assert _helpers.rewrite_python_imports(source, mapping, **moved_down) == (
        "from pkg.naming import PREFIX\nfrom pkg import naming\n"
    )
    assert _helpers.rewrite_python_imports(source, mapping, **stays) == source


@pytest.fixture
def one_package(monkeypatch):
    """The migration script, imported as a module."""
    spec = importlib.util.spec_from_file_location("one_package", ONE_PACKAGE)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "one_package", module)
    spec.loader.exec_module(module)
    return module


def _ask_copier(tmp_path: Path, data: dict):
    """Copier's questions from copier.yml with these answers, nothing rendered (its Worker)."""
    questions = tmp_path / "questions"
    if not questions.exists():
        (questions / "template").mkdir(parents=True)  # the _subdirectory: nothing to render
        shutil.copy(REPO_ROOT / "copier.yml", questions)
        shutil.copytree(REPO_ROOT / "includes", questions / "includes")
    return copier.run_copy(
        str(questions), tmp_path / "out", data=data, defaults=True, pretend=True, quiet=True
    )


@pytest.mark.parametrize(
    "name",
    ["churn_model", "c" * 32, "c" * 33, "Churn", "2fast", "churn-model", "churn_model\n", "class",
     "json", "mlflow", "common", "yes"],
)  # fmt: skip
def test_one_package_checks_package_name_as_copier_yml_does(one_package, tmp_path, name):
    """The "before" stage refuses a name Copier would refuse later, before moving anything."""
    try:
        _ask_copier(tmp_path, {"package_name": name})
        copier_refuses = False
    except ValueError as error:
        assert "question 'package_name'" in str(error)
        copier_refuses = True
    try:
        one_package.check_package_name(name)
        migration_refuses = False
    except SystemExit:
        migration_refuses = True
    assert migration_refuses == copier_refuses


def _copier_default_package_name(tmp_path: Path, slug: str) -> str:
    """package_name's default as Copier computes it from copier.yml, for this project_slug."""
    return _ask_copier(tmp_path, {"project_slug": slug}).answers.combined["package_name"]


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("churn-model", "churn_model"),
        # 40 characters, the longest slug: cut to 32.
        ("churn-forecast-europe-weekly-model-v2-eu", "churn_forecast_europe_weekly_mod"),
        # The cut ends in '-' (then '_'), which is trimmed.
        ("churn-forecast-europe-weekly-md-eu-2026", "churn_forecast_europe_weekly_md"),
    ],
)
def test_one_package_default_package_name_is_copier_ymls(
    one_package, tmp_path, monkeypatch, slug, expected
):
    """Without --data package_name, the "before" stage computes copier.yml's default itself (Copier
    asks package_name only later): the same name, or `copier update --trust --defaults` stops (a
    slug over 32 characters gave a name too long) or moves the package a second time."""
    assert _copier_default_package_name(tmp_path, slug) == expected
    monkeypatch.chdir(tmp_path)
    Path(".copier-answers.yml").write_text(f"_commit: 0.1.1\nproject_slug: {slug}\n")
    assert one_package.default_package_name()[0] == expected


def test_one_package_knows_every_file_0_1_generated(one_package):
    """GENERATED_01, the template's files that move whatever they are (notebooks, named in
    resources/jobs.yml), is what the 0.1.x releases generate under src/, every option included."""
    old = [r for r in releases() if Version(r["version"]) < Version("0.2.0")]
    if not old:
        pytest.skip("no 0.1.x release recorded")
    generated = set()
    for release in old:
        _ensure_commit(release["commit"])
        listed = git(REPO_ROOT, "ls-tree", "-r", "--name-only", release["commit"], "template/src")
        for name in listed.splitlines():
            name = re.sub(r"\{%[^%]*%\}([^{]*)\{% endif %\}", r"\1", name)
            generated.add(name.removeprefix("template/src/").removesuffix(".jinja"))
    assert generated == one_package.GENERATED_01


# A team's notebooks and bundle files beside the 0.1 layout: a job of their own runs a notebook
# folder and a Python file by path; a notebook of theirs sits in a step's folder, another in their
# package. They stay; what names a moved file is reported, whichever folder it moved from.
TEAM_BUNDLE = {
    "databricks.yml": (
        "bundle:\n  name: churn\n\ninclude:\n  - resources/*.yml\n\n"
        "targets:\n  dev:\n    mode: development\n    default: true\n"
    ),
    "resources/explore.yml": """\
# The team's exploration job.
resources:
  jobs:
    explore:
      name: ${bundle.name}-explore-${bundle.target}
      tasks:
        - task_key: explore
          notebook_task:
            notebook_path: ../src/notebooks/explore.py
        - task_key: tune
          notebook_task:
            notebook_path: ../src/training/tune.py
        - task_key: refresh
          spark_python_task:
            python_file: ../src/jobs/refresh.py
""",
    "src/notebooks/explore.py": (
        "# Databricks notebook source\nfrom common.naming import PREFIX\n\n"
        "# COMMAND ----------\n\nprint(PREFIX)\n"
    ),
    "src/notebooks/README.md": "The exploration notebooks (resources/explore.yml).\n",
    "src/training/tune.py": "# Databricks notebook source\nfrom training import train\n",
    "src/utils/scratch.py": "# Databricks notebook source\nimport utils.text\n\nutils.text.LABEL\n",
    "src/jobs/refresh.py": "from utils.text import LABEL\n\nprint(LABEL)\n",
    "conf/paths.yml": "labels: src/utils/text.py\nnotebooks: src/notebooks/\n",
    "docs/layout.md": (
        "Shared code: src/common/naming.py, in `src/common`.\n"
        "Labels: `python -m utils.text`.\n"
        "The team module: src/team_module.py\n"
        "Training: ../src/training/train.py\n"
        "Tuning: ../src/training/tune.py\n"
        "Notebooks: src/notebooks/explore.py, run by resources/explore.yml.\n"
    ),
}
TEAM_BUNDLE_MIGRATED = {
    **{path: TEAM_BUNDLE[path] for path in TEAM_BUNDLE if not path.endswith(".py")},
    "src/notebooks/explore.py": TEAM_BUNDLE["src/notebooks/explore.py"].replace("common", "churn"),
    "src/training/tune.py": "# Databricks notebook source\nfrom churn.training import train\n",
    "src/utils/scratch.py": (
        "# Databricks notebook source\nimport churn.utils.text\n\nchurn.utils.text.LABEL\n"
    ),
    "src/jobs/refresh.py": "from churn.utils.text import LABEL\n\nprint(LABEL)\n",
}


def _reported(output: str) -> set[str]:
    """path:line of each line the report says still names what moved."""
    _, found, report = output.partition("still name the 0.1 layout; check them by hand:")
    return (
        set(re.findall(r"^\[migration [^]]*\]   (\S+:\d+): ", report, re.MULTILINE))
        if found
        else set()
    )


def test_one_package_leaves_notebooks_and_bundle_files_in_place(old_project):
    for relpath, text in TEAM_BUNDLE.items():
        (old_project / relpath).parent.mkdir(parents=True, exist_ok=True)
        (old_project / relpath).write_text(text)
    with (old_project / "Makefile").open("a") as makefile:
        makefile.write("labels:\n\tpython src/utils/text.py\n")
    train = old_project / "src" / "training" / "train.py"  # the template's: a notebook, it moves
    train.write_text("# Databricks notebook source\n" + train.read_text())
    git(old_project, "add", "--all")
    git(old_project, "commit", "--quiet", "-m", "the team's notebooks and job")

    output = _run(old_project, str(ONE_PACKAGE)).stdout
    for relpath, text in TEAM_BUNDLE_MIGRATED.items():
        assert (old_project / relpath).read_text() == text, relpath
    for line in [
        "Left in place (a Databricks notebook, named in resources/explore.yml): "
        "src/notebooks/explore.py",
        "Left in place (a Databricks notebook, named in resources/explore.yml): "
        "src/training/tune.py",
        "Left in place (a Databricks notebook): src/utils/scratch.py",
        "Left in place (named in resources/explore.yml): src/jobs/refresh.py",
        "Left in place (not in a Python package): src/notebooks/README.md",
        "They import churn from its wheel now: install it as a task library",
    ]:
        assert line in output, output
    assert (old_project / "src/churn/training/train.py").read_text().startswith("# Databricks")
    assert (old_project / "src/churn/utils/text.py").is_file()
    assert sorted(p.name for p in (old_project / "src").iterdir()) == [
        "churn", "jobs", "notebooks", "sql", "training", "utils",
    ]  # fmt: skip
    assert _reported(output) == {
        "Makefile:4",  # python src/utils/text.py
        "conf/paths.yml:1",  # src/utils/text.py
        "docs/layout.md:1",  # src/common/naming.py, src/common
        "docs/layout.md:2",  # utils.text
        "docs/layout.md:3",  # src/team_module.py
        "docs/layout.md:4",  # src/training/train.py
    }, output
    errors = validate_project(old_project, require_schema())
    assert not any(errors.values()), errors
    _project_tests_pass(old_project)

    before = _snapshot(old_project)
    _run(old_project, str(ONE_PACKAGE))
    assert _snapshot(old_project) == before, "a second run changed something"
