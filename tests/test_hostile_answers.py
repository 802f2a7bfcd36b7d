"""Hostile answers to the free-text questions: each is refused by its validator with a message the
prompt can show, or it is written with the quoting of every file it lands in, so that every file
parses and carries the value exactly as typed (DESIGN §3).

How "intact" is checked: a reference render answers every free-text question with a distinctive
valid value (SENTINELS). A hostile render must parse into the same trees (YAML, TOML, Python
string constants, the text a Markdown reader sees) with each sentinel replaced by the value
answered instead, and the answers file must record each value as typed.

Each example answers every free-text question at once. The validators are rendered in-process with
Copier's own Jinja environment (a copy per refused value would cost 0.1 s); a refused value keeps
its sentinel, and the accepted ones go through a real `copier.run_copy` (no --trust) from a plain
copy of the template, which validates them again. Each rendered project must also pass its own
yamllint and ruff checks.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
import yaml
from answer_sets import asked_questions, choices
from conftest import render_project
from copier._main import Worker  # the Jinja environment Copier renders validators in
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from prompts import message_problems, prefix
from template_repo import _copy_working_tree
from yamllint import linter
from yamllint.config import YamlLintConfig

RUFF = Path(sys.executable).with_name("ruff")

# Every asked question whose answer is typed text.
FREE_TEXT = [
    name
    for name, spec in asked_questions().items()
    if spec.get("type", "str") == "str" and "choices" not in spec
]

# Questions whose empty answer leaves settings out.
OPTIONAL = [name for name in FREE_TEXT if asked_questions()[name]["default"] == ""]

# Distinctive valid answers, none inside another or inside the template's own text.
SENTINELS = {
    "project_name": "Qx Sentinel Name",
    "project_slug": "qx-sentinel-slug",
    "package_name": "qx_sentinel_pkg",
    "node_type_id": "qx.sentinel-node",
    "dev_catalog": "qx_sentinel_dev",
    "staging_catalog": "qx_sentinel_staging",
    "prod_catalog": "qx_sentinel_prod",
    "schema": "qx_sentinel_schema",
    "model_name": "qx_sentinel_model",
    "dev_workspace_host": "https://qx-sentinel-dev.example.com",
    "staging_workspace_host": "https://qx-sentinel-stg.example.com",
    "prod_workspace_host": "https://qx-sentinel-prd.example.com",
    "prod_service_principal": "9a8b7c6d-0000-4e1f-8a2b-3c4d5e6f7a8b",
    "ml_engineers_group": "Qx Sentinel Engineers",
    "data_scientists_group": "Qx Sentinel Scientists",
    "notification_emails": "qx.sentinel@example.com",
    "training_schedule": "0 17 5 ? * TUE",
    "inference_schedule": "0 43 * * * ?",
}

# Answers that make every free-text question asked.
ENABLE_ALL = {"compute": "classic", "include_staging": True, "training_trigger": "schedule"}

# Values people really type that YAML, TOML, Markdown or a bundle would read differently.
KNOWN_NASTY = [
    "Churn: v2",
    "ml engineers #prod",
    "team: ds",
    "*star",
    "- dash",
    "yes",
    "null",
    "on",
    "~",
    "1e3",
    "0x1F",
    "&anchor",
    "!tag",
    "? key",
    "[eu] {ds}",
    "%TAG",
    "@team",
    "'single' \"double\" \\back\\",
    "R&D <ml> *bold* _it_ `code` #1 ~strike~ | pipe $x$",
    "Ünïcødé 中文 😀",
    "{{ project_name }} {% raw %}",
    "${var.schema}",
    "line\nbreak",
    "ml_data\n",
    "tab\there",
    " padded ",
    "zero\u200bwidth",
    "",
    # The longest names accepted (64 for Unity Catalog names and node types, 80 for the project,
    # 100 for groups), and too long.
    "x" * 64,
    ("Churn forecast, " * 5)[:79] + "!",
    ("ML platform engineers, " * 5)[:99] + "!",
    "x" * 101,
    # A team's list of addresses: longer than a YAML line may be, written one per line.
    ", ".join(f"ml-oncall-{team}@example.com" for team in ("emea", "amer", "apac", "data", "ops")),
]
# Plausible names that must be accepted (and then arrive intact), not refused.
MUST_ACCEPT = {
    "project_name": [
        "Churn: v2",
        "R&D <ml> *bold* _it_ `code` #1 ~strike~ | pipe $x$",
        ("Churn forecast, " * 5)[:79] + "!",
    ],
    "ml_engineers_group": ["ml engineers #prod", "team: ds", "*star", "- dash", "yes", "null"],
    "data_scientists_group": [
        "@team",
        "'single' \"double\" \\back\\",
        "Ünïcødé 中文 😀",
        ("ML platform engineers, " * 5)[:99] + "!",
    ],
}

# Markdown as the CI providers' web pages render it (CommonMark with tables and strikethrough).
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """What a user's copy reads, as a plain folder: Copier renders it without cloning."""
    dest = tmp_path_factory.mktemp("template")
    _copy_working_tree(dest)
    return dest


@pytest.fixture(scope="module")
def validate(template, tmp_path_factory):
    """Copier's validation error for `question` given `answers`, or "" when accepted.

    Rendered in-process with the Jinja environment Copier builds for the template (a real copy per
    value would cost about 0.1 s each); every accepted value then goes through a real copy, which
    validates again, and tests/test_questions.py checks Copier's own refusals."""
    worker = Worker(src_path=str(template), dst_path=tmp_path_factory.mktemp("unused"))
    specs = worker.template.questions_data
    defaults = {name: spec.get("default") for name, spec in asked_questions().items()}

    def _validate(question: str, answers: dict) -> str:
        validator = worker.jinja_env.from_string(specs[question]["validator"])
        # As in a copy with --data: every answer given is also in `_copier_answers`.
        context = {**defaults, **answers}
        message = validator.render({**context, "_copier_answers": context}).strip()
        return f"{prefix(question)}{message}" if message else ""

    return _validate


@dataclass
class Outcome:
    project: Path | None
    answers: dict
    refused: dict[str, str] = field(default_factory=dict)


def render(template: Path, validate, dst: Path, values: dict, base: dict) -> Outcome:
    """Copy with the accepted `values` (a refused one keeps its sentinel, and its message)."""
    answers = {**SENTINELS, **base}
    refused = {}
    for question, value in values.items():
        error = validate(question, {**answers, **values})
        if error:
            refused[question] = error
        else:
            answers[question] = value
    if values and len(refused) == len(values):
        return Outcome(None, answers, refused)  # the reference copy, already checked
    return Outcome(render_project(template, dst, answers), answers, refused)


def addresses(value: str) -> list[str]:
    return [address.strip() for address in value.split(",") if address.strip()]


def substitution(answers: dict):
    """Maps a reference-render string to what it must read with `answers`."""
    written = {
        SENTINELS[q]: ", ".join(addresses(answers[q])) if q == "notification_emails" else answers[q]
        for q in FREE_TEXT
    }
    pattern = re.compile("|".join(re.escape(s) for s in sorted(written, key=len, reverse=True)))
    return lambda text: pattern.sub(lambda m: written[m[0]], text)


def substitute(tree, sub, answers):
    if isinstance(tree, str):
        return sub(tree)
    if isinstance(tree, list):
        if tree == [SENTINELS["notification_emails"]]:
            return addresses(answers["notification_emails"])
        return [substitute(item, sub, answers) for item in tree]
    if isinstance(tree, dict):
        return {substitute(k, sub, answers): substitute(v, sub, answers) for k, v in tree.items()}
    return tree


def markdown_text(text: str) -> list[str]:
    """What a reader sees of each block: text and code, not markup or raw HTML."""
    blocks = []
    for token in MARKDOWN.parse(text):
        if token.type in ("fence", "code_block"):
            blocks.append(token.content)
        elif token.type == "inline":
            parts = []
            for child in token.children or []:
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append("\n")
                elif child.type != "text":
                    parts.append(f"<{child.type}>")
            blocks.append("".join(parts))
    return blocks


def python_strings(text: str) -> list[str]:
    tree = ast.parse(text)
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def parsed(path: Path):
    """The file as its readers parse it, or None for files nothing parses (Makefile...)."""
    text = path.read_text()
    if path.suffix in (".yml", ".yaml"):
        return yaml.safe_load(text)
    if path.suffix == ".toml":
        return tomllib.loads(text)
    if path.suffix == ".py":
        return python_strings(text)
    if path.suffix == ".md":
        return markdown_text(text)
    return None


def files(project: Path) -> dict[str, Path]:
    return {
        path.relative_to(project).as_posix(): path
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.parts
    }


@pytest.fixture(scope="module")
def reference(template, tmp_path_factory):
    """The parsed files of the sentinel render, per CI provider (rendered once each)."""

    @cache
    def _reference(ci_provider: str) -> dict:
        dst = tmp_path_factory.mktemp(f"reference-{ci_provider}")
        outcome = render(template, None, dst / "project", {}, base(ci_provider))
        assert outcome.refused == {}
        return {name: parsed(path) for name, path in files(outcome.project).items()}

    return _reference


def base(ci_provider: str) -> dict:
    return {**ENABLE_ALL, "ci_provider": ci_provider}


def check(outcome: Outcome, values: dict, expected_trees: dict) -> None:
    """The property: refused with a readable message, or written intact into files that parse."""
    for question, error in outcome.refused.items():
        assert message_problems(question, error) == [], (question, values[question], error)
    if outcome.project is None:
        return
    answers = outcome.answers
    recorded = yaml.safe_load((outcome.project / ".copier-answers.yml").read_text())
    for question in FREE_TEXT:
        assert recorded[question] == answers[question], f"{question} recorded differently"
    sub = substitution(answers)
    rendered = files(outcome.project)
    # What the project's own checks run on it (pre-commit, CI): yamllint and ruff stay clean.
    ruff = subprocess.run(
        [str(RUFF), "check", "--no-cache", "."], cwd=outcome.project, capture_output=True, text=True
    )
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr
    lint = YamlLintConfig(file=str(outcome.project / ".yamllint.yaml"))
    for name, path in rendered.items():
        if path.suffix in (".yml", ".yaml"):
            problems = list(linter.run(path.read_text(), lint, name))
            assert not problems, f"{name} fails the project's yamllint: {problems}"
    assert sorted(rendered) == sorted(sub(name) for name in expected_trees)
    for name, tree in expected_trees.items():
        if tree is None or name == ".copier-answers.yml":
            continue
        actual = parsed(rendered[sub(name)])
        assert actual == substitute(tree, sub, answers), f"{sub(name)} does not carry the values"


def run(template, validate, reference, tmp_path: Path, values: dict, ci_provider: str) -> Outcome:
    # An accepted empty optional answer drops settings (the default renders cover that layout):
    # rendered with its sentinel instead.
    for question in OPTIONAL:
        value = values.get(question)
        if value is not None and not addresses(value) and not validate(question, values):
            values = {q: v for q, v in values.items() if q != question}
    outcome = render(template, validate, tmp_path / "hostile", values, base(ci_provider))
    check(outcome, values, reference(ci_provider))
    return outcome


def test_sentinels_are_distinct_and_cover_every_free_text_question():
    assert sorted(SENTINELS) == sorted(FREE_TEXT)
    for a in SENTINELS.values():
        assert sum(a in b for b in SENTINELS.values()) == 1, f"{a} is inside another sentinel"


@pytest.mark.parametrize("value", KNOWN_NASTY, ids=repr)
def test_known_nasty_value_in_every_free_text_question(
    template, validate, reference, tmp_path, value
):
    outcome = run(
        template, validate, reference, tmp_path, dict.fromkeys(FREE_TEXT, value), "github_actions"
    )
    for question, examples in MUST_ACCEPT.items():
        if value in examples:
            assert question not in outcome.refused, outcome.refused[question]


# Pieces hostile strings are made of, by kind, each kind as likely as the others: YAML, TOML and
# shell syntax, bundle and Jinja references; words YAML reads as other types; Markdown that would
# format rather than show; whitespace and invisible characters; other scripts; pieces of valid
# answers (so that the strict validators let some through); and any short text.
SYNTAX = [*":#*&!|>'\"\\%@`{}[],?-$~ ./_=+;", "${", "{{", "{%", "- ", ": ", " #", "? ", "* "]
WORDS = ["yes", "null", "true", "on", "~", "0x", "1e3", "https://", "@example.com"]
MARKUP = ["*a*", "_a_", "`a`", "<i>", "&amp;", "[a](b)", "~~a~~", "\\*", " #"]
INVISIBLE = ["\t", "\n", "\r", "\u2028", "\x85", "\xa0", "\x7f", "\u200d", "\ufeff"]
SCRIPTS = ["é", "ß", "中", "😀", "Ω"]
TOKENS = sorted({piece for s in SENTINELS.values() for piece in re.split(r"([\W_])", s) if piece})
pieces = st.one_of(
    *(st.sampled_from(kind) for kind in (SYNTAX, WORDS, MARKUP, INVISIBLE, SCRIPTS, TOKENS)),
    st.text(max_size=2),
)
hostile = st.lists(pieces, min_size=1, max_size=5).map("".join)


def near_valid(question: str):
    """A valid answer with hostile pieces put in: what gets past the strict validators."""
    valid = SENTINELS[question]
    return st.tuples(
        st.integers(0, len(valid)), st.lists(pieces, min_size=1, max_size=2).map("".join)
    ).map(lambda cut: valid[: cut[0]] + cut[1] + valid[cut[0] :])


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # No shrinking: each step is a render (minutes in all); the failure shows the values as drawn.
    phases=[Phase.explicit, Phase.generate],
)
@given(
    values=st.fixed_dictionaries({q: st.one_of(hostile, near_valid(q)) for q in FREE_TEXT}),
    ci_provider=st.sampled_from(choices("ci_provider")),
)
def test_generated_hostile_answers(
    template, validate, reference, tmp_path_factory, values, ci_provider
):
    run(template, validate, reference, tmp_path_factory.mktemp("hostile"), values, ci_provider)
