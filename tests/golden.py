"""Golden renders: the full output of a few contrasting answer sets, kept under tests/golden/.

    python tests/golden.py           # render them again from the working tree (make golden)
    python tests/golden.py --check   # compare, print a diff, exit 1 if they differ

tests/test_golden.py compares them on every test run.

Every template change then shows up in review as a diff of real generated projects. Commit the
refreshed files with the change that caused them, after reading the diff.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import sys
import tempfile
from pathlib import Path

import copier
import yaml
from answer_sets import CONTRAST, CUSTOM_VALUES, REPO_ROOT
from template_repo import snapshot_repo

GOLDEN = REPO_ROOT / "tests" / "golden"
# Three projects that differ on every axis that changes files: the defaults (classic, regression,
# GitHub Actions), the contrast reviewers read beside them, and custom names everywhere (with
# staging, a prod service principal, a schedule and Azure DevOps).
SETS = {
    "defaults": {},
    "contrast": CONTRAST,
    "custom": {
        **CUSTOM_VALUES,
        "include_staging": True,
        "training_trigger": "schedule",
        "ci_provider": "azure_devops",
    },
}
# Lines of the answers file that name where and at which commit it was rendered.
VOLATILE = ("_commit:", "_src_path:")


def render(name: str, destination: Path, root: Path = REPO_ROOT) -> None:
    """Render answer set `name` from the working tree at `root`, as a user would (no --trust)."""
    with tempfile.TemporaryDirectory() as work:
        template = snapshot_repo(Path(work) / "template", root)
        copier.run_copy(
            str(template), destination, data=SETS[name], defaults=True, unsafe=False,
            quiet=True, vcs_ref="HEAD",
        )  # fmt: skip


def texts(project: Path) -> dict[str, str]:
    """Every file of a project as text, by path: the answers file without its volatile lines, and
    the template's location (which the README names) as <template>."""
    answers = (project / ".copier-answers.yml").read_text()
    source = yaml.safe_load(answers).get("_src_path", "")
    found = {}
    for path in sorted(project.rglob("*")):
        if not path.is_file() or ".git" in path.parts:
            continue
        relative = path.relative_to(project).as_posix()
        text = path.read_text()
        if relative == ".copier-answers.yml":
            text = "".join(line for line in text.splitlines(True) if not line.startswith(VOLATILE))
        found[relative] = text.replace(source, "<template>") if source else text
    return found


def differences(name: str, expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    lines = []
    for path in sorted(expected.keys() - actual.keys()):
        lines.append(f"{name}: {path} is no longer generated")
    for path in sorted(actual.keys() - expected.keys()):
        lines.append(f"{name}: {path} is new")
    for path in sorted(expected.keys() & actual.keys()):
        if expected[path] != actual[path]:
            diff = difflib.unified_diff(
                expected[path].splitlines(), actual[path].splitlines(),
                f"golden/{name}/{path}", f"rendered/{name}/{path}", lineterm="", n=1,
            )  # fmt: skip
            lines += list(diff)[:40]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    problems = []
    with tempfile.TemporaryDirectory() as work:
        for name in SETS:
            rendered = Path(work) / name
            render(name, rendered)
            actual = texts(rendered)
            if args.check:
                problems += differences(name, texts(GOLDEN / name), actual)
                continue
            shutil.rmtree(GOLDEN / name, ignore_errors=True)
            for relative, text in actual.items():
                path = GOLDEN / name / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
            print(f"Wrote {GOLDEN / name} ({len(actual)} files)")
    if problems:
        print("\n".join(problems))
        print(
            "\nThe generated projects changed. If that is intended, run `make golden` and review "
            "`git diff tests/golden` before committing it."
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
