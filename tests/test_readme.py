"""The README's questions table is checked against copier.yml, so the two cannot drift apart; the
generated README names only what the generated project has."""

from __future__ import annotations

import re

import pytest
import yaml
from answer_sets import REPO_ROOT, answer_sets, asked_questions, ci_provider

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


def after_copy_commands() -> list[str]:
    """The commands copier.yml's message after `copier copy` tells users to run, comments cut."""
    message = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())["_message_after_copy"]
    commands = [
        line.split("  #")[0].strip() for line in message.splitlines() if line.startswith("  ")
    ]
    # Moving into the project and the first commit are the user's own; the rest is the project's.
    return [command for command in commands if not command.startswith(("cd ", "git "))]


def test_message_after_copy_says_what_the_generated_readme_says(render):
    """Every command the message prints is one the project's README explains."""
    readme = (render("defaults") / "README.md").read_text()
    commands = after_copy_commands()
    assert "make install" in commands
    missing = [command for command in commands if command not in readme]
    assert not missing, f"the generated README does not mention {missing}"


@pytest.mark.parametrize("answers", ["defaults", "contrast"])
def test_the_generated_readme_names_only_files_the_project_has(render, answers):
    """Every project file the README names in backticks (`src/...`, `resources/...`, ...) exists:
    a README that sends users to a file a release moved or removed is caught here."""
    project = render(answers)
    readme = (project / "README.md").read_text()
    named = set(re.findall(r"`((?:src|resources|tests)/[^`\s*<>]*)`", readme))
    assert any(path.startswith("src/") for path in named)
    missing = sorted(path for path in named if not (project / path).exists())
    assert not missing, f"README.md names {missing}, which the project does not have"


@pytest.mark.parametrize("answers", sorted(answer_sets()))
def test_the_generated_readme_speaks_the_ci_providers_words(render, answers):
    """GitLab has merge requests, GitHub and Azure DevOps pull requests."""
    provider = ci_provider(answer_sets()[answers])
    readme = (render(answers) / "README.md").read_text().lower()
    wrong = "pull request" if provider == "gitlab" else "merge request"
    assert wrong not in readme, f"a {provider} project's README speaks of {wrong}s"


TRUSTED_UPDATE = re.compile(r"copier (update|recopy)\b[^\n`\"]*--trust")


def test_generated_update_commands_need_no_trust(render):
    """What a project prints to run (README, CI messages) leaves --trust out: only an update across
    a migration needs it, and then Copier says so; the README explains when."""
    sets = answer_sets()
    by_provider = {ci_provider(answers): name for name, answers in sets.items()}
    for name in by_provider.values():
        project = render(name)
        for path in project.rglob("*"):
            if path.is_file() and ".git" not in path.parts:
                match = TRUSTED_UPDATE.search(path.read_text())
                assert not match, f"{name}: {path.relative_to(project)} prints {match[0]!r}"
    readme = " ".join((render("defaults") / "README.md").read_text().split())
    assert "then run the same command with `--trust`" in readme
