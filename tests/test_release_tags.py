"""`make tags`: the release tags of tests/releases.yml, restored in a clone that has none."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from answer_sets import REPO_ROOT
from template_repo import git

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import release


@pytest.fixture
def shallow_clone(tmp_path) -> tuple[Path, list[str]]:
    """A shallow clone without tags of a three-commit origin; the commits, oldest first."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "--quiet", "--initial-branch=main")
    commits = []
    for number in range(3):
        (origin / "copier.yml").write_text(f"# version {number}\n")
        git(origin, "add", "--all")
        git(origin, "commit", "--quiet", "-m", f"commit {number}")
        commits.append(str(git(origin, "rev-parse", "HEAD")).strip())
    # As GitHub does: a client may fetch any commit the branches reach, by its SHA.
    git(origin, "config", "uploadpack.allowReachableSHA1InWant", "true")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", "--depth=1", "--no-tags", f"file://{origin}", str(clone))
    return clone, commits


def _tags(clone: Path) -> dict[str, str]:
    listed = str(git(clone, "tag", "--list", "--format=%(refname:short) %(objectname)")).split()
    return dict(zip(listed[::2], listed[1::2], strict=True))


def test_restore_tags_fetches_missing_commits_and_is_idempotent(shallow_clone):
    clone, commits = shallow_clone
    releases = [
        {"version": "0.1.0", "commit": commits[0]},  # not in the shallow clone
        {"version": "0.2.0", "commit": commits[2]},
    ]
    assert _tags(clone) == {}

    done = release.restore_tags(releases, cwd=clone)

    assert done == [f"0.1.0: tagged {commits[0][:12]}", f"0.2.0: tagged {commits[2][:12]}"]
    assert _tags(clone) == {"0.1.0": commits[0], "0.2.0": commits[2]}
    assert str(git(clone, "describe", "--tags")).strip() == "0.2.0"  # what Copier reads
    again = release.restore_tags(releases, cwd=clone)
    assert again == [
        f"0.1.0: already tagged ({commits[0][:12]})",
        f"0.2.0: already tagged ({commits[2][:12]})",
    ]
    assert _tags(clone) == {"0.1.0": commits[0], "0.2.0": commits[2]}


def test_restore_tags_never_moves_a_tag(shallow_clone):
    clone, commits = shallow_clone
    git(clone, "tag", "0.2.0", commits[2])
    with pytest.raises(SystemExit, match=r"Tag 0\.2\.0 points to"):
        release.restore_tags([{"version": "0.2.0", "commit": commits[1]}], cwd=clone)
    assert _tags(clone) == {"0.2.0": commits[2]}


def test_releases_read_without_pyyaml(monkeypatch):
    """A template user's bare python3 may lack PyYAML: the fallback reads the same releases."""
    expected = yaml.safe_load(release.RELEASES.read_text())["releases"]
    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml raises ImportError
    assert release.load_releases() == expected


def test_make_tags_runs_the_restore():
    dry_run = subprocess.run(
        ["make", "--dry-run", "tags"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert "scripts/release.py --restore-tags" in dry_run.stdout
