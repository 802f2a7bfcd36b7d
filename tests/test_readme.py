"""The README's questions table is checked against copier.yml, so the two cannot drift apart."""

from __future__ import annotations

import re

from answer_sets import REPO_ROOT, asked_questions

ROW = re.compile(r"^\| `(?P<name>\w+)` \| (?P<default>[^|]+) \|", re.MULTILINE)


def readme_questions() -> dict[str, str]:
    text = (REPO_ROOT / "README.md").read_text()
    return {match["name"]: match["default"].strip() for match in ROW.finditer(text)}


def test_readme_lists_every_question_once():
    assert sorted(readme_questions()) == sorted(asked_questions())


def test_readme_defaults_match_copier_yml():
    for name, shown in readme_questions().items():
        default = asked_questions()[name]["default"]
        if isinstance(default, str) and "{{" in default:
            continue  # derived from another answer; the README says from what
        expected = {True: "`true`", False: "`false`", "": "empty"}.get(default, f"`{default}`")
        assert shown == expected, (
            f"README shows {shown} as the default of {name}, copier.yml has {default!r}"
        )
