"""Copier's side: `copier copy` of the full template against copier's own floor, and `copier
update` across a release that ships a migration.

Both templates are throwaway git repos, copied by tag like a user copies a release. The floor is a
one-file template copied in the same process run, alternating with the full one, so machine load
affects both alike; the measure is the ratio of the medians.

The update starts from the newest recorded release (tests/template_repo.py builds the repo) and
goes to a next release made from the working tree that renames a generated file and ships the
"before" migration that moves the user's copy with `git mv` (migrations/_helpers.py), as
docs/updating.md prescribes. The project is committed with a user's edit to that file first; only
`copier update` is timed. The migration is added to copier.yml's own `_migrations`; an update
from a release older than one of those (e.g. from 0.1.x while 0.2.0 is not released yet) runs
that migration too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import copier
import yaml
from packaging.version import Version
from support import BUILD, REPO_ROOT, log, median, timed
from template_repo import build_template_repo, git, head_version, releases

# The file the synthetic release renames, and the user's edit that must survive the move.
RENAMED = ("resources/schemas.yml", "resources/unity_catalog.yml")
USER_EDIT = "\n# Team note: the schema owner is the data platform team.\n"
MIGRATION_SCRIPT = f"""\
from pathlib import Path

import _helpers

_helpers.move_path(Path({RENAMED[0]!r}), Path({RENAMED[1]!r}))
"""


def _small_template(
    root: Path, name: str, files: dict[str, str], repo_files: dict[str, str] | None = None
) -> Path:
    """A template repo with one question and the given files under template/ (and `repo_files`
    beside copier.yml), tagged 1.0.0."""
    repo = root / name
    (repo / "template").mkdir(parents=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    (repo / "copier.yml").write_text(
        "_subdirectory: template\nproject_name:\n  type: str\n  default: ML Project\n"
    )
    all_files = {f"template/{relpath}": text for relpath, text in files.items()}
    for relpath, text in {**all_files, **(repo_files or {})}.items():
        (repo / relpath).parent.mkdir(parents=True, exist_ok=True)
        (repo / relpath).write_text(text)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", name)
    git(repo, "tag", "1.0.0")
    return repo


def _copy(template: Path, version: str, dst: Path) -> None:
    copier.run_copy(str(template), dst, vcs_ref=version, defaults=True, unsafe=False, quiet=True)


def _copy_cli(template: Path, version: str, dst: Path) -> None:
    copier_cli = Path(sys.executable).with_name("copier")
    args = [str(copier_cli), "copy", "--quiet", "--defaults", "--vcs-ref", version]
    subprocess.run([*args, str(template), str(dst)], check=True, capture_output=True)


def measure_copy(repeats: int) -> dict:
    """Median seconds to copy each template, in process and through the CLI, and the ratios.

    - full: this template, default answers;
    - one_file: copier's floor, one question and one file;
    - same_files: the full template's output files as plain files under a one-question
      copier.yml: what copier itself costs for that many files, before any templating.
    """
    with tempfile.TemporaryDirectory(dir=_scratch()) as scratch:
        root = Path(scratch)
        full = build_template_repo(root, release_versions=[])
        full_version = head_version()
        rendered = root / "rendered"
        _copy(full, full_version, rendered)
        outputs = {
            str(path.relative_to(rendered)): path.read_text()
            for path in rendered.rglob("*")
            if path.is_file()
        }
        one_file = {"README.md.jinja": "# {{ project_name }}\n"}
        templates = {
            "full": (full, full_version),
            "one_file": (_small_template(root, "one-file", one_file), "1.0.0"),
            "same_files": (_small_template(root, "same-files", outputs), "1.0.0"),
        }
        seconds: dict[str, list[float]] = {}
        # Round 0 is a warm-up (imports, file cache) and is not kept. Variants alternate, so
        # the machine's load weighs on all of them alike.
        for index in range(repeats + 1):
            for mode, copy in (("in_process", _copy), ("cli", _copy_cli)):
                for name, (template, version) in templates.items():
                    dst = root / f"{mode}-{name}-{index}"
                    elapsed = timed(lambda c=copy, t=template, v=version, d=dst: c(t, v, d))
                    if index:
                        seconds.setdefault(f"{mode}.{name}", []).append(elapsed)
                    shutil.rmtree(dst)
    medians = {key: median(values) for key, values in seconds.items()}
    result: dict = {"files": len(outputs), "seconds": seconds, "median": medians}
    for mode in ("in_process", "cli"):
        floor = medians[f"{mode}.one_file"]
        result[f"{mode}_ratio"] = medians[f"{mode}.full"] / floor
        result[f"{mode}_same_files_ratio"] = medians[f"{mode}.same_files"] / floor
    log(
        f"copy: CLI ratio {result['cli_ratio']:.2f}, in-process ratio "
        f"{result['in_process_ratio']:.2f} (same files, no templating: "
        f"{result['in_process_same_files_ratio']:.2f})"
    )
    return result


def _add_release_with_migration(repo: Path, version: str) -> None:
    """The next release: RENAMED[0] becomes RENAMED[1], with the migration that moves it."""
    old, new = (repo / "template" / f"{name}.jinja" for name in RENAMED)
    old.rename(new)
    script = repo / "migrations" / f"v{version.replace('.', '_')}__rename_schemas_file.py"
    script.parent.mkdir(exist_ok=True)
    script.write_text(MIGRATION_SCRIPT)
    config_file = repo / "copier.yml"
    migration = {
        "version": version,
        "when": "{{ _stage == 'before' }}",
        "command": [
            "{{ _copier_python }}",
            f"{{{{ _copier_conf.src_path }}}}/migrations/{script.name}",
        ],
    }
    before = yaml.safe_load(config_file.read_text()).get("_migrations") or []
    config_file.write_text(_with_migration(config_file.read_text(), migration))
    after = yaml.safe_load(config_file.read_text()).get("_migrations")
    if after != [*before, migration]:
        raise RuntimeError(f"could not add the migration to {config_file}: nothing measured")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", f"Template {version}")
    git(repo, "tag", version)


def _with_migration(text: str, migration: dict) -> str:
    """copier.yml with `migration` added as the last of its `_migrations`, as text: the rest stays
    byte for byte what users get."""
    lines = text.splitlines(keepends=True)
    key = next((i for i, line in enumerate(lines) if line.rstrip() == "_migrations:"), None)
    if key is None:
        return (
            text.rstrip("\n")
            + "\n\n"
            + yaml.safe_dump({"_migrations": [migration]}, sort_keys=False)
        )
    end = next(
        (i for i in range(key + 1, len(lines)) if lines[i][:1] not in ("", " ", "-", "#", "\n")),
        len(lines),
    )
    while end > key + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1  # blank lines and comments before the next key belong to it
    items = [line for line in lines[key + 1 : end] if line.lstrip().startswith("- ")]
    indent = " " * (len(items[0]) - len(items[0].lstrip())) if items else "  "
    item = yaml.safe_dump([migration], sort_keys=False, width=1000)
    item = "".join(indent + line for line in item.splitlines(keepends=True))
    tail = "" if lines[end - 1].endswith("\n") else "\n"
    return "".join([*lines[:end], tail, item, *lines[end:]])


def measure_update(repeats: int) -> dict:
    """Median seconds of `copier update` to a release that ships a migration, for this template
    and, as Copier's floor, for a one-file template making the same move with the same migration.

    The project starts at the newest recorded release (tests/releases.yml), or at the working
    tree when there is none; the target release is the working tree plus the migration.
    """
    with tempfile.TemporaryDirectory(dir=_scratch()) as scratch:
        root = Path(scratch)
        recorded = [release["version"] for release in releases()][-1:]
        template = build_template_repo(root, release_versions=recorded)
        old = recorded[0] if recorded else head_version()
        head = Version(head_version())
        new = f"{head.major}.{head.minor + 1}.0"
        _add_release_with_migration(template, new)
        one_file = _small_template(
            root,
            "one-file",
            {
                f"{RENAMED[0]}.jinja": "# {{ project_name }}\n",
                # What lets Copier update a project: the answers file, as every template has it.
                "{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers|to_nice_yaml }}",
            },
            {"migrations/_helpers.py": (REPO_ROOT / "migrations" / "_helpers.py").read_text()},
        )
        _add_release_with_migration(one_file, "2.0.0")
        cases = {"full": (template, old, new), "one_file": (one_file, "1.0.0", "2.0.0")}
        seconds: dict[str, list[float]] = {}
        for index in range(repeats):
            for name, (repo, start, end) in cases.items():
                project = root / f"project-{name}-{index}"
                seconds.setdefault(name, []).append(_timed_update(repo, start, end, project))
    medians = {name: median(values) for name, values in seconds.items()}
    log(f"update {old} -> {new}: {medians['full']:.2f} s (one-file: {medians['one_file']:.2f} s)")
    return {
        "from": old,
        "to": new,
        "seconds": seconds["full"],
        "median": medians["full"],
        "one_file_seconds": seconds["one_file"],
        "one_file_median": medians["one_file"],
    }


def _timed_update(template: Path, old: str, new: str, project: Path) -> float:
    """Copy `old`, commit it with a user's edit, and time `copier update` to `new`."""
    _copy(template, old, project)
    git(project, "init", "--quiet", "--initial-branch=main")
    with (project / RENAMED[0]).open("a") as file:
        file.write(USER_EDIT)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "generated, then edited")
    seconds = timed(
        lambda: copier.run_update(
            project, vcs_ref=new, defaults=True, overwrite=True, unsafe=True, quiet=True
        )
    )
    moved = project / RENAMED[1]
    if not moved.exists() or USER_EDIT.strip() not in moved.read_text():
        raise RuntimeError("the migration did not run, or lost the edit: nothing measured")
    return seconds


def _scratch() -> Path:
    BUILD.mkdir(parents=True, exist_ok=True)
    return BUILD
