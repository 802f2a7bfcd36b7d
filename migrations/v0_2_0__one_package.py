"""0.1.x -> 0.2.0: the six top-level packages in src/ become one package, src/<package_name>/.

    src/common/local_pipeline.py, sample_data.py, class_archive.py -> src/<pkg>/local/...
    src/common/<anything else>                                     -> src/<pkg>/<same>
    src/<step>/...  (feature_engineering, training, ...)           -> src/<pkg>/<step>/...
    src/<team package>/..., src/<team module>.py                   -> src/<pkg>/...

The team's own modules and packages move too: on Databricks they ran through the old notebooks'
sys.path edit, so they must now be inside the package the wheel holds. The team's own Databricks
notebooks (first line `# Databricks notebook source`; a folder holding only notebooks) and files
that the bundle's YAML (databricks.yml, resources/) names by path stay where they are: they keep
running as notebook or Python file tasks, and import the package from its wheel, installed as a
task library. The template's own 0.1 files move, notebooks as they were. Imports follow in every
.py file under src/ and tests/ (`from common.x import y` -> `from <pkg>.x import y`, `from training
import train` -> `from <pkg>.training import train`, dotted names in strings such as mock.patch
targets), and `python -m common.x` in the Makefile.

Copier runs it twice (copier.yml):
- before the update (STAGE=before): moves every file with `git mv` (staged). For the files the
  template generated, it sets the team's version and the version 0.1.x generated (rendered again
  here, from the template Copier cloned, with the recorded answers) aside in git's object store, and
  unstages the new path, so Copier writes the template's new version there without a merge;
- after the update (STAGE=after): merges the team's edits into those files with the right base
  (git merge-file: the 0.1.x version -> the team's version, onto the 0.2.0 version, all three with
  the new imports), stages them, and rewrites the imports everywhere.
Copier's own merge cannot do this: to Copier, a moved file is a new file on both sides, merged
against an empty base, so every line where the team's version differs from the template's new
version (the team's edits, and every template change) becomes a conflict.

Run by hand (no STAGE), it does both stages without the merge: moves, then rewrites imports.
Idempotent: what was done is not done again; state between stages lives in .git/.

The package name: Copier asks `package_name` only after the "before" stage, so that stage takes
`--data package_name=...` if given, else the default copier.yml computes (project_slug, '-' ->
'_', cut to 32 characters, '_' trimmed at both ends). The "after" stage gets the real answer; if
it differs (answered interactively), it moves the package there.
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import re
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

import _helpers
import yaml

STEPS = ("feature_engineering", "training", "inference", "deployment", "monitoring")
SHARED = "common"
# Laptop-only modules of common/ that moved into the package's local/ folder.
TO_LOCAL = {
    "local_pipeline.py": "local/pipeline.py",
    "sample_data.py": "local/sample_data.py",
    "class_archive.py": "local/class_archive.py",
}
# Objects that moved to another module (relative to the package).
MOVED_OBJECTS = {"common.problem.load_sample": "local.sample_data.load_sample"}
STATE = "copier-migration-v0_2_0.json"
TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
# copier.yml's package_name validator (tests/test_migrations.py checks they agree); \Z, as $ would
# also match before a final line break.
PACKAGE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}\Z")
# Every file 0.1.x generated under src/, whatever the answers (tests/test_migrations.py checks it
# against the recorded releases). They move, although the steps are notebooks that
# resources/jobs.yml names: 0.2.0 replaces them, and that file, with wheel tasks.
GENERATED_01 = frozenset(
    {
        *(f"{SHARED}/{name}" for name in ("__init__.py", "config.py", "data.py", "errors.py")),
        *(f"{SHARED}/{name}" for name in ("naming.py", "params.py", "problem.py", "spark.py")),
        *(f"{SHARED}/{name}" for name in ("tracking.py", *TO_LOCAL)),
        *(f"{step}/__init__.py" for step in STEPS),
        "feature_engineering/features.py",
        "training/train.py",
        "training/evaluate.py",
        "inference/batch_inference.py",
        "deployment/serving_endpoint.py",
        "monitoring/quality_monitor.py",
    }
)
NOTEBOOK_HEADER = re.compile(r"^\ufeff?(?:#|--|//) Databricks notebook source\s*$")
# The bundle's YAML, whose paths to files under src/ keep those files where they are.
BUNDLE_ROOTS = ("databricks.yml", "databricks.yaml")
BUNDLE_FOLDER = "resources"
_PATH_CHAR = r"(?:\$\{[\w.]+\}|[^\s'\"\[\]{},$])"  # ${workspace.file_path} included
BUNDLE_PATH = re.compile(rf"{_PATH_CHAR}*src/{_PATH_CHAR}+")
NOT_PYTHON = "not in a Python package"


@dataclass
class Move:
    old: str  # path in the project, e.g. src/common/problem.py
    rel: str  # path inside the package, e.g. problem.py
    mode: str = "100644"
    ours: str | None = None  # blob of the team's version (template-generated files only)
    base: str | None = None  # blob of what 0.1.x generated (template-generated files only)


@dataclass
class State:
    package: str  # the package name the "before" stage moved files into
    modules: dict[str, str]  # old dotted module -> dotted module inside the package ("" = itself)
    moves: list[Move]
    deleted: list[str]  # package paths of generated files the team had deleted
    kept: dict[str, str] = field(default_factory=dict)  # the team's notebooks etc. -> why


def log(message: str) -> None:
    stage = os.environ.get("STAGE", "by hand")
    versions = (os.environ.get("VERSION_PEP440_FROM"), os.environ.get("VERSION_PEP440_TO"))
    label = f"{versions[0]} -> {versions[1]}, {stage}" if all(versions) else stage
    print(f"[migration {label}] {message}", flush=True)


# --- The plan: what moves where ---------------------------------------------------------------


def package_path(old: PurePosixPath, python_folders: set[str]) -> str | None:
    """Where a file under src/ goes inside the package, or None if it stays."""
    parts = old.parts[1:]
    if len(parts) == 1:
        return parts[0] if old.suffix == ".py" else None
    top, inner = parts[0], "/".join(parts[1:])
    if top == SHARED:
        return TO_LOCAL.get(inner, inner)
    if top in STEPS or top in python_folders:
        return f"{top}/{inner}"
    return None


def is_notebook(path: Path) -> bool:
    """A Databricks notebook in source format: its first line says so."""
    try:
        with path.open("rb") as file:
            first = file.readline(200).decode(errors="replace")
    except OSError:
        return False
    return bool(NOTEBOOK_HEADER.match(first))


def bundle_paths(files: list[Path]) -> dict[str, str]:
    """Files the bundle's YAML names by path (relative to the YAML file, or under
    ${workspace.file_path}), project-relative -> the first YAML file naming them."""
    named: dict[str, str] = {}
    for path in files:
        if not (
            (len(path.parts) == 1 and path.name in BUNDLE_ROOTS)
            or (path.parts[0] == BUNDLE_FOLDER and path.suffix in {".yml", ".yaml"})
        ):
            continue
        try:
            text = _helpers.read_text(path)
        except (UnicodeDecodeError, OSError):
            continue
        text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        for token in BUNDLE_PATH.findall(text):
            for prefix in ("${workspace.file_path}/", "${workspace.root_path}/files/"):
                if token.startswith(prefix):
                    token = token[len(prefix) :]
                    break
            else:
                token = posixpath.join(path.parent.as_posix(), token)
            named.setdefault(posixpath.normpath(token), path.as_posix())
    return named


def keep_reason(path: PurePosixPath, named: dict[str, str]) -> str | None:
    """Why a file of the team's own under src/ stays where it is, if it does."""
    if str(path.relative_to("src")) in GENERATED_01:
        return None
    where = named.get(str(path)) or named.get(str(path.with_suffix("")))
    notebook = path.suffix == ".py" and is_notebook(Path(path))
    if notebook and where:
        return f"a Databricks notebook, named in {where}"
    if notebook:
        return "a Databricks notebook"
    if where:
        return f"named in {where}"
    return None


def plan(
    files: list[Path], package: str, named: dict[str, str] | None = None
) -> tuple[list[Move], dict[str, str]]:
    """The moves out of the 0.1 layout, and the files under src/ that stay where they are (each
    with the reason). `named`: what bundle_paths found."""
    posix = [
        PurePosixPath(path.as_posix())
        for path in files
        if path.parts[0] == "src"
        and "__pycache__" not in path.parts
        and path.suffix not in {".pyc", ".pyo"}
    ]
    staying: dict[str, str] = {}
    for path in posix:
        if path.parts[1] != package and (reason := keep_reason(path, named or {})):
            staying[str(path)] = reason
    python_folders = {
        path.parts[1]
        for path in posix
        if len(path.parts) > 2 and path.suffix == ".py" and str(path) not in staying
    } - {package}
    moves = []
    for path in posix:
        if str(path) in staying:
            continue
        rel = package_path(path, python_folders)
        if rel is None or path.parts[1] == package:
            staying[str(path)] = NOT_PYTHON
        else:
            moves.append(Move(old=str(path), rel=rel))
    if not any(PurePosixPath(m.old).parts[1] in (SHARED, *STEPS) for m in moves):
        return [], staying  # not the 0.1 layout: nothing to do
    return moves, staying


def module_name(path: str) -> str:
    """Dotted module of a .py path relative to src/ or to the package ("" for the root)."""
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_map(moves: list[Move]) -> dict[str, str]:
    """Old dotted module -> module inside the package, for every moved module and folder."""
    modules: dict[str, str] = {}
    for move in moves:
        old = PurePosixPath(move.old).relative_to("src")
        if old.suffix == ".py":
            modules[module_name(str(old))] = module_name(move.rel)
        # Every folder on the way is a (namespace) package: common -> "", training -> training.
        for depth in range(1, len(old.parts)):
            folder = PurePosixPath(*old.parts[:depth])
            inner = PurePosixPath(*old.parts[1:depth]) if depth > 1 else None
            new = (str(inner) if inner else "") if folder.parts[0] == SHARED else str(folder)
            modules.setdefault(str(folder).replace("/", "."), new.replace("/", "."))
    return modules


def absolute(modules: dict[str, str], package: str) -> _helpers.ModuleMap:
    def full(rel: str) -> str:
        return f"{package}.{rel}" if rel else package

    return _helpers.ModuleMap(
        modules={old: full(new) for old, new in modules.items()},
        symbols={old: full(new) for old, new in MOVED_OBJECTS.items()},
    )


# --- The package name -------------------------------------------------------------------------


def check_package_name(name: str) -> None:
    reserved_file = TEMPLATE_ROOT / "includes" / "reserved_package_names.yml"
    reserved = yaml.safe_load(_helpers.read_text(reserved_file)) if reserved_file.exists() else {}
    taken = {name for names in reserved.values() for name in names}
    if not PACKAGE_NAME.match(name) or name in taken:
        sys.exit(
            f'package_name: "{name}" is not a package name this template accepts (see copier.yml). '
            "Choose one: copier update --trust --data package_name=<name> ..."
        )


def default_package_name() -> tuple[str, str]:
    """The package name when none is given, and where it comes from."""
    answers = yaml.safe_load(_helpers.read_text(_helpers.ANSWERS_FILE)) or {}
    if answers.get("package_name"):
        return str(answers["package_name"]), "the answers file"
    slug = str(answers.get("project_slug", ""))
    # copier.yml: {{ (project_slug | replace('-', '_'))[:32] | trim('_') }}
    default = slug.replace("-", "_")[:32].strip("_")
    return default, f"copier.yml's default, from project_slug {slug!r}"


# --- Rendering what 0.1.x generated -----------------------------------------------------------


def render_release(template: Path, destination: Path) -> None:
    """Render the project's recorded template version with its recorded answers: the same files
    Copier diffs the project against. Offline: from the clone Copier made, which holds every
    release. Needs copier, which the Python running this script (Copier's own) has."""
    import copier

    answers = yaml.safe_load(_helpers.read_text(_helpers.ANSWERS_FILE))
    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    copier.run_copy(
        str(template),
        destination,
        data=data,
        vcs_ref=str(answers["_commit"]),
        defaults=True,
        overwrite=True,
        quiet=True,
        skip_tasks=True,
    )


# --- The stages -------------------------------------------------------------------------------


def save(state: State) -> None:
    _helpers.write_text(_helpers.git_path(STATE), json.dumps(asdict(state), indent=1))


def load() -> State | None:
    path = _helpers.git_path(STATE)
    if not path.exists():
        return None
    raw = json.loads(_helpers.read_text(path))
    return State(
        package=raw["package"],
        modules=raw["modules"],
        moves=[Move(**move) for move in raw["moves"]],
        deleted=raw["deleted"],
        kept=raw.get("kept", {}),
    )


def before(package: str, template: Path | None) -> State | None:
    """Move the files (staged). With `template`, set the team's versions of generated files aside
    for the merge after the update."""
    named = bundle_paths(_helpers.project_files(*BUNDLE_ROOTS, BUNDLE_FOLDER))
    moves, staying = plan(_helpers.project_files("src"), package, named)
    if not moves:
        log("No src/common/ or step package in src/: the project has the 0.2 layout already.")
        return None
    root = Path("src", package)
    targets = Counter(root / move.rel for move in moves)
    clashes = sorted(str(t) for t, count in targets.items() if count > 1 or t.exists())
    clashes += [path for path in staying if PurePosixPath(path).parts[1] == package]
    if clashes:
        sys.exit(
            f"Cannot move the 0.1 layout into src/{package}/: {', '.join(sorted(set(clashes)))} "
            "would be in the way. Rename or move it (and commit), or choose another package name "
            "(--data package_name=...), then update again. Nothing was changed."
        )

    deleted: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        if template is not None:
            rendered = Path(folder, "project")
            try:
                render_release(template, rendered)
            except Exception as error:  # any failure: stop before touching a file
                sys.exit(
                    f"Could not render the project's current template version for the merge "
                    f"({error}). Nothing was changed."
                )
            generated = [move for move in moves if (rendered / move.old).is_file()]
            # Absolute paths: hash-object reads --stdin-paths from the repository's top.
            paths = [rendered / m.old for m in generated] + [Path(m.old) for m in generated]
            paths = [str(path.resolve()) for path in paths]
            blobs = _helpers.git("hash-object", "-w", "--stdin-paths", stdin="\n".join(paths))
            blobs = blobs.split()
            modes = {
                line.split("\t")[1]: line.split()[0]
                for line in _helpers.git("ls-files", "-s", "--", "src").splitlines()
            }
            for number, move in enumerate(generated):
                move.base, move.ours = blobs[number], blobs[len(generated) + number]
                move.mode = modes.get(move.old, "100644")
            present = {PurePosixPath(move.old) for move in moves}
            python_folders = {PurePosixPath(m.old).parts[1] for m in moves}
            for path in sorted(rendered.joinpath("src").rglob("*")):
                old = PurePosixPath(path.relative_to(rendered).as_posix())
                rel = package_path(old, python_folders) if path.is_file() else None
                if rel and old not in present and not Path(old).exists():
                    deleted.append(rel)

    kept = {path: reason for path, reason in staying.items() if reason != NOT_PYTHON}
    state = State(
        package=package, modules=module_map(moves), moves=moves, deleted=deleted, kept=kept
    )
    save(state)  # first: a run that stops half-way resumes from here
    for move in moves:
        _helpers.move_path(Path(move.old), root / move.rel)
        if template is not None and move.ours is not None:
            # Copier writes the template's new version here, without a merge (see the docstring).
            _helpers.git("rm", "--cached", "--quiet", "--", str(root / move.rel))
    _remove_empty_old_folders(moves)
    generated = sum(move.ours is not None for move in moves)
    team = [move for move in moves if move.ours is None]
    log(f"Moved {len(moves)} files from src/ into src/{package}/ (git mv, staged).")
    if template is not None:
        log(
            f"{generated} of them come from the template: Copier writes their new version, "
            "then the after stage merges your edits into it."
        )
    if team and template is not None:
        log("Your own files moved along:")
        for move in team:
            log(f"  {move.old} -> src/{package}/{move.rel}")
    for path, reason in sorted(staying.items()):
        log(f"Left in place ({reason}): {path}")
    return state


def _remove_empty_old_folders(moves: list[Move]) -> None:
    for top in sorted({Path(*Path(move.old).parts[:2]) for move in moves}):
        if top.is_dir():
            for cache in list(top.rglob("__pycache__")):
                shutil.rmtree(cache, ignore_errors=True)
            for folder in sorted((p for p in top.rglob("*") if p.is_dir()), reverse=True):
                if not any(folder.iterdir()):
                    folder.rmdir()
            if not any(top.iterdir()):
                top.rmdir()


def after(state: State, package: str, *, merge: bool) -> None:
    """Merge the team's edits into the generated files (merge=True: after Copier's update), then
    rewrite the imports everywhere."""
    if package != state.package:
        _relocate(state, package)
    mapping = absolute(state.modules, package)
    root = Path("src", package)
    conflicted, edited = [], []
    if merge:
        conflicted += _merge_again(mapping)
        for move in state.moves:
            if move.ours is None or move.base is None:
                continue
            path = root / move.rel
            context = _module_context(move, package)
            ours = _rewrite(_blob(move.ours), mapping, context)
            base = _rewrite(_blob(move.base), mapping, context)
            if not path.exists():  # the template no longer generates it
                if ours != base:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    _helpers.write_text(path, ours)
                    _helpers.git("add", "--", str(path))
                continue
            if ours != base:
                edited.append(str(path))
            theirs = _helpers.read_text(path)
            merged, conflict = _helpers.merge_texts(ours, base, theirs)
            _helpers.write_text(path, merged)
            if conflict:
                conflicted.append(str(path))
                _record_conflict(path, move.mode, base, ours, theirs)
            else:
                _helpers.git("add", "--", str(path))
        for rel in state.deleted:
            path = root / rel
            if path.exists():
                path.unlink()
                log(f"Removed {path}: your team had deleted {rel} from the 0.1 layout.")
        generated = sum(move.ours is not None for move in state.moves)
        log(
            f"Of the {generated} moved files the template generated, {len(edited)} had your edits, "
            "merged into the template's new version" + (":" if edited else ".")
        )
        for path in edited:
            log(f"  {path}")
    rewritten = rewrite_all(state, package, mapping)
    plural = "" if len(rewritten) == 1 else "s"
    log(f"Rewrote imports in {len(rewritten)} file{plural}" + (":" if rewritten else "."))
    for path in rewritten:
        log(f"  {path}")
    for path in conflicted:
        log(f"CONFLICT in {path}: your edit and the template's change touch the same lines.")
    if rewritten:
        log("`uv run ruff check --fix .` sorts the imports the rename moved, if ruff asks.")
    report_kept(state, package)
    report_leftovers(state, package)
    _helpers.git_path(STATE).unlink(missing_ok=True)


def _relocate(state: State, package: str) -> None:
    """The answer to package_name differs from the name the "before" stage used: move there."""
    old_root, root = Path("src", state.package), Path("src", package)
    log(f"package_name is {package!r}, not {state.package!r}: moving src/{state.package}/ there.")
    for move in state.moves:
        source = old_root / move.rel
        if move.ours is None:
            _helpers.move_path(source, root / move.rel)
        elif source.exists() and not _tracked(source):
            source.unlink()  # the team's version, set aside by the "before" stage
    if old_root.is_dir():
        for folder in sorted((p for p in old_root.rglob("*") if p.is_dir()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()
        if not any(old_root.iterdir()):
            old_root.rmdir()


def _tracked(path: Path) -> bool:
    return bool(_helpers.git("ls-files", "--", str(path)).strip())


def _blob(sha: str) -> str:
    return _helpers.git("cat-file", "blob", sha)


def _module_context(move: Move, package: str) -> dict:
    old = PurePosixPath(move.old).relative_to("src")
    new = module_name(move.rel)
    return {
        "old_module": module_name(str(old)),
        "new_module": f"{package}.{new}" if new else package,
        "is_package": old.name == "__init__.py",
    }


def _rewrite(text: str, mapping: _helpers.ModuleMap, context: dict) -> str:
    return _helpers.rewrite_python_imports(text, mapping, **context)


def _merge_again(mapping: _helpers.ModuleMap) -> list[str]:
    """Merge again the .py files Copier merged in place with a conflict (the tests): when the team
    added a line beside an import the template renamed, the conflict is only the rename's. The
    same merge, with the base and the team's version renamed too, is clean."""
    unmerged: dict[str, dict[int, tuple[str, str]]] = {}
    for line in _helpers.git("ls-files", "--unmerged", "--", "src", "tests").splitlines():
        meta, path = line.split("\t", 1)
        mode, sha, stage = meta.split()
        unmerged.setdefault(path, {})[int(stage)] = (mode, sha)
    still_conflicted = []
    for path, stages in sorted(unmerged.items()):
        if not path.endswith(".py") or set(stages) != {1, 2, 3}:
            continue
        base = _helpers.rewrite_python_imports(_blob(stages[1][1]), mapping)
        ours = _helpers.rewrite_python_imports(_blob(stages[2][1]), mapping)
        merged, conflict = _helpers.merge_texts(ours, base, _blob(stages[3][1]))
        _helpers.write_text(Path(path), merged)
        if conflict:
            still_conflicted.append(path)
            continue
        log(f"Merged {path} again with the imports renamed on all sides: no conflict left.")
        # As Copier leaves a file it merged cleanly: the team's version in the index.
        mode, sha = stages[2]
        _helpers.git("update-index", "--force-remove", "--", path)
        _helpers.git("update-index", "--add", "--cacheinfo", f"{mode},{sha},{path}")
    return still_conflicted


def _record_conflict(path: Path, mode: str, base: str, ours: str, theirs: str) -> None:
    """Mark the file unmerged, as Copier marks its own conflicts: stages 1, 2 and 3."""
    lines = []
    prefix = _helpers.git("rev-parse", "--show-prefix").strip()  # --index-info wants root paths
    for stage, text in ((1, base), (2, ours), (3, theirs)):
        sha = _helpers.git("hash-object", "-w", "--stdin", stdin=text).strip()
        lines.append(f"{mode} {sha} {stage}\t{prefix}{path.as_posix()}")
    _helpers.git("update-index", "--index-info", stdin="\n".join(lines) + "\n")


def rewrite_all(state: State, package: str, mapping: _helpers.ModuleMap) -> list[str]:
    """Rewrite the imports of every .py file under src/ and tests/, and `-m` in the Makefile."""
    contexts = {
        str(Path("src", package, move.rel)): _module_context(move, package)
        for move in state.moves
        if move.rel.endswith(".py")
    }
    rewritten = []
    for path in _helpers.project_files("src", "tests"):
        if path.suffix != ".py":
            continue
        text = _helpers.read_text(path)
        new = _rewrite(text, mapping, contexts.get(str(path), {}))
        if new != text:
            _helpers.write_text(path, new)
            rewritten.append(str(path))
    makefile = Path("Makefile")
    if makefile.is_file():
        text = _helpers.read_text(makefile)
        new = re.sub(
            r"(-m\s+)([A-Za-z_][\w.]*)",
            lambda m: m.group(1) + (mapping.resolve(m.group(2)) or m.group(2)),
            text,
        )
        if new != text:
            _helpers.write_text(makefile, new)
            rewritten.append(str(makefile))
    return rewritten


def report_kept(state: State, package: str) -> None:
    """The team's notebooks, and files the bundle names, that stayed where they were."""
    if not state.kept:
        return
    log("These stayed where they were, and keep running as notebook (or Python file) tasks:")
    for path, reason in state.kept.items():
        log(f"  {path} ({reason})")
    log(
        f"They import {package} from its wheel now: install it as a task library (on a job "
        "cluster, `libraries: [{whl: ../dist/*.whl}]` on the task, as the template's tasks have; "
        f"on serverless, in the job's environment) and import `from {package}...`. Their 0.1 "
        "imports were rewritten; an edit of sys.path for src/ is no longer needed."
    )


def old_paths(state: State) -> re.Pattern | None:
    """What names a moved file, or a folder that moved as a whole: `src/utils/`, `src/x.py`."""
    staying = {PurePosixPath(path) for path in state.kept}
    names: set[str] = set()
    for move in state.moves:
        old = PurePosixPath(move.old)
        names.add(re.escape(str(old.relative_to("src"))))
        if old.suffix == ".py":  # notebook paths may leave the extension out
            names.add(re.escape(str(old.relative_to("src").with_suffix(""))))
        for folder in list(old.parents)[:-2]:  # src/a/b/c.py: src/a/b, src/a
            if not any(folder in path.parents for path in staying):
                names.add(re.escape(str(folder.relative_to("src"))))
    if not names:
        return None
    alternatives = "|".join(sorted(names, key=len, reverse=True))
    return re.compile(r"(?<![\w.-])src/(?:" + alternatives + r")(?![\w.-])")


def report_leftovers(state: State, package: str) -> None:
    """Lines that still name what moved, in files the migration does not rewrite."""
    old_path = old_paths(state)
    dotted = sorted((m for m in state.modules if "." in m), key=len, reverse=True)
    old_modules = re.compile(r"(?<![\w.])(?:" + "|".join(map(re.escape, dotted)) + r")\b")
    found = []
    for path in _helpers.project_files("."):
        if path.name == _helpers.ANSWERS_FILE.name or path.parts[0] == ".git":
            continue
        try:
            lines = _helpers.read_text(path).splitlines()
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(lines, 1):
            old_module = dotted and path.suffix != ".py" and old_modules.search(line)
            if (old_path and old_path.search(line)) or old_module:
                found.append(f"  {path}:{number}: {line.strip()[:100]}")
            elif path.suffix == ".py" and "problem.load_sample" in line:
                found.append(
                    f"  {path}:{number}: load_sample is in {package}.local.sample_data now"
                )
    if found:
        log("These lines still name the 0.1 layout; check them by hand:")
        for line in found[:30]:
            log(line)
        if len(found) > 30:
            log(f"  ... and {len(found) - 30} more")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package-name", default="", help="default: see the module docstring")
    parser.add_argument(
        "--template", type=Path, help="the template clone (Copier's _copier_conf.src_path)"
    )
    args = parser.parse_args()
    stage = os.environ.get("STAGE")

    if stage == "after":
        state = load()
        if state is None:
            log("Nothing to do: the before stage moved nothing.")
            return
        after(state, args.package_name or state.package, merge=True)
        return

    if args.package_name:
        package, source = args.package_name, "given to Copier with --data"
    else:
        package, source = default_package_name()
    if stage == "before":
        check_package_name(package)
        log(f"Package name: {package} ({source}).")
        log("If you answer package_name otherwise, the after stage moves the package there.")
        before(package, args.template)
        return

    # By hand: both stages, no merge (nothing was generated in between). Resumes a stopped run.
    state = load()
    if state is None:
        check_package_name(package)
        state = before(package, None)
    if state is not None:
        after(state, state.package, merge=False)


if __name__ == "__main__":
    main()
