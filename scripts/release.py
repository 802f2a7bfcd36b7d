"""Cut a template release: `make release VERSION=X.Y.Z`.

1. checks the version (PEP 440, above every earlier release) and that the tree is clean;
2. turns CHANGELOG.md's "Unreleased" section into "X.Y.Z - <date>" and opens a new empty one;
3. commits that as "Release X.Y.Z" and tags the commit X.Y.Z;
4. records the version and the release commit's SHA in tests/releases.yml, in a second commit.

Update tests read tests/releases.yml, so they need no git tags (CI clones without them).
Push both commits and the tag: `git push origin main X.Y.Z`.
"""

from __future__ import annotations

import argparse
import datetime
import re
import subprocess
import sys
from pathlib import Path

import yaml
from packaging.version import InvalidVersion, Version

REPO_ROOT = Path(__file__).resolve().parent.parent
CHANGELOG = REPO_ROOT / "CHANGELOG.md"
RELEASES = REPO_ROOT / "tests" / "releases.yml"
UNRELEASED = "## Unreleased"


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO_ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


def load_releases() -> list[dict]:
    if not RELEASES.exists():
        return []
    return yaml.safe_load(RELEASES.read_text())["releases"] or []


def check_version(text: str, releases: list[dict]) -> Version:
    try:
        version = Version(text)
    except InvalidVersion:
        sys.exit(f"{text!r} is not a PEP 440 version (for example 0.2.0).")
    if str(version) != text:
        sys.exit(f"Write the version in its normal form: {version}.")
    if releases and version <= max(Version(release["version"]) for release in releases):
        sys.exit(f"{version} is not above the newest release in {RELEASES.name}.")
    return version


def release_changelog(text: str, version: Version, date: datetime.date) -> str:
    if UNRELEASED not in text:
        sys.exit(f"CHANGELOG.md has no '{UNRELEASED}' section.")
    head, body = text.split(UNRELEASED, 1)
    next_section = re.search(r"^## ", body, flags=re.MULTILINE)
    notes = body[: next_section.start()] if next_section else body
    if not notes.strip():
        sys.exit("The 'Unreleased' section of CHANGELOG.md is empty: nothing to release.")
    return f"{head}{UNRELEASED}\n\n## {version} - {date.isoformat()}\n\n{body.lstrip()}"


def record_release(releases: list[dict], version: Version, commit: str) -> str:
    header = (
        "# Template releases, oldest first, with their release commits, written by make release;\n"
        "# the update tests copy each release from its commit, so they need no git tags.\n"
    )
    entries = [*releases, {"version": str(version), "commit": commit}]
    return header + yaml.safe_dump({"releases": entries}, sort_keys=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", help="the new version, PEP 440, e.g. 0.2.0")
    version_text = parser.parse_args().version

    releases = load_releases()
    version = check_version(version_text, releases)
    if git("status", "--porcelain"):
        sys.exit("The working tree is not clean: commit or stash first.")

    CHANGELOG.write_text(release_changelog(CHANGELOG.read_text(), version, datetime.date.today()))
    git("commit", "--quiet", "-m", f"Release {version}", "--", str(CHANGELOG))
    git("tag", "--annotate", str(version), "-m", f"Release {version}")
    commit = git("rev-parse", "HEAD")

    RELEASES.write_text(record_release(releases, version, commit))
    git("add", str(RELEASES))
    git("commit", "--quiet", "-m", f"Record release {version} ({commit[:12]}) for the update tests")
    print(f"Released {version} at {commit}. Push it: git push origin HEAD {version}")


if __name__ == "__main__":
    main()
