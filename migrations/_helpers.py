"""What migration scripts share. Standard library and PyYAML only: they run inside `copier update`,
with the Python that runs Copier, offline, in the project's directory.

Every helper is idempotent: running a migration twice leaves the project as running it once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ANSWERS_FILE = Path(".copier-answers.yml")


@dataclass(frozen=True)
class Context:
    """What Copier tells a migration through its environment."""

    stage: str  # "before" or "after"
    version_from: str
    version_to: str

    @classmethod
    def from_environment(cls) -> Context:
        return cls(
            stage=os.environ["STAGE"],
            version_from=os.environ["VERSION_PEP440_FROM"],
            version_to=os.environ["VERSION_PEP440_TO"],
        )

    def log(self, message: str) -> None:
        print(f"[migration {self.version_from} -> {self.version_to}, {self.stage}] {message}")


def _tracked(path: Path) -> bool:
    result = subprocess.run(
        ["git", "ls-files", "--error-unmatch", "--", str(path)], capture_output=True, check=False
    )
    return result.returncode == 0


def move_path(old: Path, new: Path) -> bool:
    """Move a generated file the user may have edited; True if something moved.

    The move is staged with `git mv`: Copier snapshots the index after "before" migrations, and an
    unstaged rename loses the user's edits to the file.
    """
    if not old.exists():
        return False  # already moved, or deleted by the user: both are fine
    if new.exists():
        sys.exit(
            f"Cannot move {old} to {new}: {new} already exists. Merge them by hand, then rerun."
        )
    new.parent.mkdir(parents=True, exist_ok=True)
    if _tracked(old):
        subprocess.run(["git", "mv", "--", str(old), str(new)], check=True)
    else:
        old.rename(new)
    return True


def rename_answers(renames: dict[str, str], answers_file: Path = ANSWERS_FILE) -> list[str]:
    """Rename questions in the answers file, keeping the user's answers; returns the old names."""
    answers = yaml.safe_load(answers_file.read_text())
    renamed = [old for old in renames if old in answers and renames[old] not in answers]
    for old in renamed:
        answers[renames[old]] = answers.pop(old)
    if renamed:
        answers_file.write_text(yaml.safe_dump(answers, sort_keys=True, allow_unicode=True))
    return renamed
