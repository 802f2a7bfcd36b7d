"""Throwaway template repositories for update tests.

CI clones the repo without tags (perhaps shallow), so tests never rely on this repo's tags: they
build a git repo under tmp_path, fill it with each recorded release (tests/releases.yml, taken
from the release commit with `git archive`) and tag it there, then with the working tree, tagged
with a version above every release and migration.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from functools import cache
from pathlib import Path

import yaml
from answer_sets import REPO_ROOT
from packaging.version import Version

# What a template user's `copier copy` reads.
TEMPLATE_PATHS = ("copier.yml", "template", "includes", "migrations")
RELEASES_FILE = REPO_ROOT / "tests" / "releases.yml"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ruff_cache", ".pytest_cache")


def git(cwd: Path, *args: str, binary: bool = False) -> str | bytes:
    result = subprocess.run(
        ["git", "-c", "user.name=Template Tests", "-c", "user.email=tests@example.invalid", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=not binary,
    )
    return result.stdout


@cache
def releases() -> tuple[dict, ...]:
    """Recorded releases, oldest first: [{'version': ..., 'commit': ...}]."""
    if not RELEASES_FILE.exists():
        return ()
    return tuple(yaml.safe_load(RELEASES_FILE.read_text())["releases"] or ())


def migration_versions() -> list[Version]:
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    return [Version(str(migration["version"])) for migration in config.get("_migrations", [])]


def head_version() -> str:
    """A version above every release and every migration, for the working tree."""
    known = [Version(r["version"]) for r in releases()] + migration_versions() + [Version("0")]
    newest = max(known)
    return f"{newest.major}.{newest.minor + 1}.0"


def _ensure_commit(commit: str) -> None:
    try:
        git(REPO_ROOT, "cat-file", "-e", f"{commit}^{{commit}}")
    except subprocess.CalledProcessError:
        # A shallow clone lacks old commits: fetch just that one.
        git(REPO_ROOT, "fetch", "--quiet", "--depth=1", "origin", commit)


def _extract_release(commit: str, dest: Path) -> None:
    _ensure_commit(commit)
    present = set(str(git(REPO_ROOT, "ls-tree", "--name-only", commit)).split())
    paths = [path for path in TEMPLATE_PATHS if path in present]
    archive = git(REPO_ROOT, "archive", "--format=tar", commit, "--", *paths, binary=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")


def _copy_working_tree(dest: Path, root: Path = REPO_ROOT) -> None:
    for name in TEMPLATE_PATHS:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=IGNORED)
        elif source.exists():
            shutil.copy2(source, dest / name)


def _replace_contents(repo: Path, fill) -> None:
    for child in repo.iterdir():
        if child.name != ".git":
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    fill(repo)


def _commit_and_tag(repo: Path, version: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", f"Template {version}")
    git(repo, "tag", version)


def snapshot_repo(dest: Path, root: Path = REPO_ROOT) -> Path:
    """A one-commit template repo at `dest` of what a user's copy reads from the working tree at
    `root` (this repo, or a copy of it); returns its path."""
    dest.mkdir(parents=True, exist_ok=True)
    git(dest, "init", "--quiet", "--initial-branch=main")
    _copy_working_tree(dest, root)
    git(dest, "add", "--all")
    git(dest, "commit", "--quiet", "-m", "Snapshot")
    return dest


def build_template_repo(root: Path, release_versions: list[str] | None = None) -> Path:
    """A template repo with the given releases (all by default), then HEAD; returns its path."""
    repo = root / "template-repo"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    wanted = (
        release_versions if release_versions is not None else [r["version"] for r in releases()]
    )
    for release in releases():
        if release["version"] in wanted:
            _replace_contents(repo, lambda dest, c=release["commit"]: _extract_release(c, dest))
            _commit_and_tag(repo, release["version"])
    _replace_contents(repo, _copy_working_tree)
    _commit_and_tag(repo, head_version())
    return repo
