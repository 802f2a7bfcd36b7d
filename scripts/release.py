"""Cut a template release: `make release VERSION=X.Y.Z`.

1. checks the version (PEP 440, above every earlier release) and that the tree is clean;
2. turns CHANGELOG.md's "Unreleased" section into "X.Y.Z - <date>" and opens a new empty one;
3. commits that as "Release X.Y.Z" and tags the commit X.Y.Z;
4. records the version and the release commit's SHA in tests/releases.yml, in a second commit.

Update tests read tests/releases.yml, so they need no git tags (CI clones without them).
Push both commits and the tag: `git push origin main X.Y.Z`.

`make tags` (--restore-tags) tags every release of tests/releases.yml at its commit, in a clone
that lacks the tags (Copier then says "No git tags found in template; using HEAD as ref" and can
neither copy a release nor update between releases). Standard library only, so that a template
user can run it with any python3.
"""

from __future__ import annotations

import argparse
import datetime
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CHANGELOG = REPO_ROOT / "CHANGELOG.md"
RELEASES = REPO_ROOT / "tests" / "releases.yml"
UNRELEASED = "## Unreleased"


def git(*args: str, cwd: Path = REPO_ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def load_releases(path: Path = RELEASES) -> list[dict]:
    """[{"version": ..., "commit": ...}], oldest first. Without PyYAML (a template user's bare
    python3), the file make release writes is simple enough to read line by line."""
    if not path.exists():
        return []
    try:
        import yaml
    except ImportError:
        found = re.findall(
            r"^- version: '?([^'\s]+)'?\s+commit: ([0-9a-f]{40})$", path.read_text(), re.M
        )
        return [{"version": version, "commit": commit} for version, commit in found]
    return yaml.safe_load(path.read_text())["releases"] or []


def restore_tags(releases: list[dict], cwd: Path = REPO_ROOT, remote: str = "origin") -> list[str]:
    """Tag each release at its recorded commit (lightweight tags), fetching a commit the clone
    lacks. Idempotent; refuses to move a tag that points elsewhere. Returns what it did."""
    done = []
    for release in releases:
        version, commit = str(release["version"]), release["commit"]
        tagged = subprocess.run(
            ["git", "rev-parse", "--quiet", "--verify", f"refs/tags/{version}^{{commit}}"],
            cwd=cwd, capture_output=True, text=True, check=False,
        ).stdout.strip()  # fmt: skip
        if tagged == commit:
            done.append(f"{version}: already tagged ({commit[:12]})")
            continue
        if tagged:
            sys.exit(
                f"Tag {version} points to {tagged[:12]}, not to the release commit {commit[:12]} "
                f"that {RELEASES.name} records. Delete it (git tag -d {version}) and run again."
            )
        present = subprocess.run(
            ["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=cwd, capture_output=True
        )
        if present.returncode:
            shallow = git("rev-parse", "--is-shallow-repository", cwd=cwd) == "true"
            depth = ["--depth=1"] if shallow else []
            try:
                git("fetch", "--quiet", *depth, remote, commit, cwd=cwd)
            except subprocess.CalledProcessError as error:
                sys.exit(f"Cannot fetch {commit[:12]} ({version}) from {remote}: {error.stderr}")
        git("tag", version, commit, cwd=cwd)
        done.append(f"{version}: tagged {commit[:12]}")
    return done


def check_version(text: str, releases: list[dict]):
    from packaging.version import InvalidVersion, Version

    try:
        version = Version(text)
    except InvalidVersion:
        sys.exit(f"{text!r} is not a PEP 440 version (for example 0.2.0).")
    if str(version) != text:
        sys.exit(f"Write the version in its normal form: {version}.")
    if releases and version <= max(Version(release["version"]) for release in releases):
        sys.exit(f"{version} is not above the newest release in {RELEASES.name}.")
    return version


def release_changelog(text: str, version, date: datetime.date) -> str:
    if UNRELEASED not in text:
        sys.exit(f"CHANGELOG.md has no '{UNRELEASED}' section.")
    head, body = text.split(UNRELEASED, 1)
    next_section = re.search(r"^## ", body, flags=re.MULTILINE)
    notes = body[: next_section.start()] if next_section else body
    if not notes.strip():
        sys.exit("The 'Unreleased' section of CHANGELOG.md is empty: nothing to release.")
    return f"{head}{UNRELEASED}\n\n## {version} - {date.isoformat()}\n\n{body.lstrip()}"


def record_release(releases: list[dict], version, commit: str) -> str:
    import yaml

    header = (
        "# Template releases, oldest first, with their release commits, written by make release;\n"
        "# the update tests copy each release from its commit, so they need no git tags.\n"
    )
    entries = [*releases, {"version": str(version), "commit": commit}]
    return header + yaml.safe_dump({"releases": entries}, sort_keys=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("version", nargs="?", help="the new version, PEP 440, e.g. 0.2.0")
    parser.add_argument(
        "--restore-tags",
        action="store_true",
        help=f"tag every release of {RELEASES.name} at its commit (make tags)",
    )
    args = parser.parse_args()
    if args.restore_tags:
        for line in restore_tags(load_releases()):
            print(line)
        return
    if not args.version:
        parser.error("give the version to release, or --restore-tags")
    version_text = args.version

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
