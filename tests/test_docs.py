"""The documentation site: it matches copier.yml, its links resolve, and its commands work.

`make lint` also builds the site with `mkdocs build --strict`, which fails on a broken link or
anchor. The checks here are faster and run with the rest of the suite:
- the questions page is generated from copier.yml and current, and lists every question, default
  and choice;
- every page is in the nav, and every internal link and anchor resolves;
- the commands the pages show exist: Makefile targets, `python -m` modules, `bundle run` jobs and
  targets, environment variables; the scripted `copier copy` of Getting started renders a project;
- messages that Troubleshooting quotes from the generated code or from Copier are still worded so.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import copier
import pytest
import yaml
from answer_sets import REPO_ROOT, asked_questions
from markdown.extensions.toc import slugify

DOCS = REPO_ROOT / "docs"
MKDOCS_YML = REPO_ROOT / "mkdocs.yml"
QUESTIONS_SCRIPT = REPO_ROOT / "scripts" / "questions_reference.py"

FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)(?P<info>[^\n]*)\n"
    r"(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.M | re.S,
)
INLINE_CODE = re.compile(r"(`+)(?P<code>.+?)\1", re.S)
LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(?P<level>#{1,6})\s+(?P<text>.+?)\s*#*\s*$", re.M)
ATTR_ID = re.compile(r"\{[^}]*#(?P<id>[\w-]+)[^}]*\}\s*$")


# ---------------------------------------------------------------------------------------------
# Reading the pages
# ---------------------------------------------------------------------------------------------
def pages(docs: Path = DOCS) -> list[Path]:
    return sorted(docs.glob("**/*.md"))


def code_blocks(text: str, languages: tuple[str, ...] = ("bash", "sh", "console")) -> list[str]:
    return [
        match["body"]
        for match in FENCE.finditer(text)
        if match["info"].strip().split(" ")[0] in languages
    ]


def prose(text: str) -> str:
    """The page without fenced code blocks and inline code, where links and headings live."""
    return INLINE_CODE.sub(" ", FENCE.sub("", text))


def inline_code(text: str) -> list[str]:
    return [match["code"] for match in INLINE_CODE.finditer(FENCE.sub("", text))]


def commands(text: str) -> list[str]:
    """Command lines shown on a page: lines of shell blocks (comments and continuations joined)
    and inline code spans."""
    lines = []
    for block in code_blocks(text):
        for line in block.replace("\\\n", " ").splitlines():
            command = line.split(" #", 1)[0].strip()
            if command and not command.startswith("#"):
                lines.append(command)
    return lines + inline_code(text)


def anchors(text: str) -> set[str]:
    """The ids MkDocs gives the page's headings (Python-Markdown's toc slugs, made unique)."""
    found: set[str] = set()
    for match in HEADING.finditer(FENCE.sub("", text)):
        heading = match["text"]
        explicit = ATTR_ID.search(heading)
        if explicit:
            found.add(explicit["id"])
            continue
        heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
        slug = base = slugify(heading, "-")
        counter = 0
        while slug in found:
            counter += 1
            slug = f"{base}_{counter}"
        found.add(slug)
    return found


def broken_links(docs: Path) -> list[str]:
    """Internal links (to pages and their anchors) that do not resolve inside `docs`."""
    broken = []
    for page in pages(docs):
        text = page.read_text()
        for match in LINK.finditer(prose(text)):
            target = match["target"]
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
                continue
            path_part, _, anchor = target.partition("#")
            resolved = (page.parent / path_part).resolve() if path_part else page
            where = f"{page.relative_to(docs)}: {target}"
            if docs.resolve() not in resolved.parents or not resolved.is_file():
                broken.append(f"{where} (no such page in {docs.name}/)")
            elif anchor and anchor not in anchors(resolved.read_text()):
                broken.append(f"{where} (no heading with that anchor)")
    return broken


def _mkdocs_config() -> dict:
    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml names a Python function with a !!python/name tag; its value does not matter here.
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)
    return yaml.load(MKDOCS_YML.read_text(), Loader=Loader)


def nav_files(nav: list) -> list[str]:
    files = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        files.extend(nav_files(value) if isinstance(value, list) else [value])
    return files


# ---------------------------------------------------------------------------------------------
# The questions page
# ---------------------------------------------------------------------------------------------
def _questions_module():
    spec = importlib.util.spec_from_file_location("questions_reference", QUESTIONS_SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_questions_page_is_generated_from_copier_yml_and_current():
    result = subprocess.run(
        [sys.executable, str(QUESTIONS_SCRIPT), "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_questions_check_fails_on_a_stale_page(tmp_path, monkeypatch):
    module = _questions_module()
    stale = tmp_path / "questions.md"
    stale.write_text(module.render().replace("`ml_data`", "`ml_stuff`"))
    monkeypatch.setattr(module, "REFERENCE", stale)
    monkeypatch.setattr(sys, "argv", ["questions_reference.py", "--check"])
    with pytest.raises(SystemExit) as exited:
        module.main()
    assert "stale" in str(exited.value.code)


def _question_rows() -> dict[str, list[str]]:
    """The cells of each row of the questions table, by question name."""
    rows = {}
    for line in (DOCS / "questions.md").read_text().splitlines():
        match = re.match(r"^\| `(\w+)` \|", line)
        if match:
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows[match[1]] = cells
    return rows


def _shown_default(default) -> str:
    if default is None or default == "":
        return "*(empty)*"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    text = " ".join(str(default).split()).replace("|", "\\|")
    return f"derived: `{text}`" if "{{" in text else f"`{text}`"


def test_every_runtime_choice_has_a_profile_that_names_its_sources():
    """Each `runtime` choice has a profile, each profile a choice; each profile links its release
    notes, and says of every value it could not confirm there what it rests on instead."""
    profiles = yaml.safe_load((REPO_ROOT / "includes" / "runtime_profiles.yml").read_text())
    choices = asked_questions()["runtime"]["choices"]
    assert sorted(profiles) == sorted(choices.values())
    for answer, profile in profiles.items():
        assert re.fullmatch(r"release-notes/[\w./-]+", profile["release_notes"]), answer
        for field, why in profile.get("unconfirmed", {}).items():
            assert field in profile and field != "unconfirmed", (answer, field)
            assert why.strip(), (answer, field)
    questions_page = (DOCS / "questions.md").read_text()
    assert "## Runtime profiles" in questions_page


def test_questions_page_lists_every_question_default_and_choice():
    """Checked against copier.yml directly, not through the generator."""
    rows = _question_rows()
    assert list(rows) == list(asked_questions()), "questions missing, extra or out of order"
    for name, spec in asked_questions().items():
        _, asked, default, allowed, validated, _help = rows[name]
        assert default == _shown_default(spec.get("default")), name
        assert validated == ("yes" if "validator" in spec else "no"), name
        assert (asked == "always") == ("when" not in spec), name
        listed = spec.get("choices")
        values = (
            list(listed.values())
            if isinstance(listed, dict)
            else (listed or ([True, False] if spec.get("type") == "bool" else []))
        )
        for value in values:
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            assert f"`{shown}`" in allowed, f"{name}: choice {shown} missing from the page"


# ---------------------------------------------------------------------------------------------
# Nav and links
# ---------------------------------------------------------------------------------------------
def test_every_page_is_in_the_nav_and_every_nav_entry_exists():
    listed = nav_files(_mkdocs_config()["nav"])
    on_disk = [str(page.relative_to(DOCS)) for page in pages()]
    assert sorted(listed) == sorted(on_disk)
    assert len(listed) == len(set(listed)), "a page is listed twice"


def test_every_internal_link_and_anchor_resolves():
    assert broken_links(DOCS) == []


def test_the_link_check_finds_broken_links_and_anchors(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(
        "# Title\n\n## Run `make test`\n\n```bash\n# not a heading\n```\n\n"
        "[ok](b.md) [ok](#title) [ok](a.md#run-make-test) [ok](https://example.com/x.md)\n"
        "[bad](missing.md) [bad](b.md#nope) [bad](#not-a-heading) [bad](../outside.md)\n"
        "`[not a link](missing.md)`\n"
    )
    (docs / "b.md").write_text("# B\n")
    (tmp_path / "outside.md").write_text("# Outside\n")
    found = broken_links(docs)
    assert [entry.split(" (")[0] for entry in found] == [
        "a.md: missing.md",
        "a.md: b.md#nope",
        "a.md: #not-a-heading",
        "a.md: ../outside.md",
    ]


# ---------------------------------------------------------------------------------------------
# Commands the pages show
# ---------------------------------------------------------------------------------------------
# Pages about the template repository itself; every other page is about a generated project.
TEMPLATE_REPO_PAGES = {"index.md"}
# Pages that show commands of both.
MIXED_PAGES = {"updating.md", "benchmarks.md"}

MAKE = re.compile(r"(?:^|[\s;&(])make(?=\s|$)(?P<rest>[^;&|)]*)")


def make_targets(command: str) -> list[str]:
    """Targets named by `make ...` in a command line. Variable assignments are left out, and so is
    everything after an option (`make -C dir target` names another folder's target)."""
    targets = []
    for match in MAKE.finditer(command):
        for token in shlex.split(match["rest"]):  # ARGS="--a b" is one token
            if token.startswith("-"):
                break
            if "=" not in token:
                targets.append(token)
    return targets


def makefile_targets(makefile: Path) -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", makefile.read_text(), re.M))


def unknown_make_targets(text: str, known: set[str]) -> list[str]:
    return sorted(
        {target for line in commands(text) for target in make_targets(line) if target not in known}
    )


def test_make_target_parsing_finds_unknown_targets():
    text = (
        "```bash\nmake install   # comment\nmake test pipeline\nmake nope\n```\nRun `make gone`.\n"
    )
    assert make_targets("make release VERSION=0.2.0") == ["release"]
    assert make_targets('make benchmark ARGS="--only pipeline --repeats 5"') == ["benchmark"]
    assert make_targets("make -C build/example test") == []
    assert unknown_make_targets(text, {"install", "test", "pipeline"}) == ["gone", "nope"]


@pytest.fixture(scope="module")
def default_project(render: Callable[[str], Path]) -> Path:
    return render("defaults")


def test_pages_mention_only_makefile_targets_that_exist(default_project):
    project_targets = makefile_targets(default_project / "Makefile")
    repo_targets = makefile_targets(REPO_ROOT / "Makefile")
    for page in pages():
        if page.name in TEMPLATE_REPO_PAGES:
            known = repo_targets
        elif page.name in MIXED_PAGES:
            known = project_targets | repo_targets
        else:
            known = project_targets
        assert unknown_make_targets(page.read_text(), known) == [], page.name


def test_make_targets_of_getting_started_and_local_mode_run_in_a_rendered_project(
    default_project,
):
    targets = sorted(
        {
            target
            for name in ("getting-started.md", "local-mode.md")
            for line in commands((DOCS / name).read_text())
            for target in make_targets(line)
        }
    )
    assert {"install", "test", "pipeline", "clean-local"} <= set(targets)
    result = subprocess.run(
        ["make", "-n", *targets],
        cwd=default_project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def package_name(project: Path) -> str:
    return yaml.safe_load((project / ".copier-answers.yml").read_text())["package_name"]


def test_python_modules_the_pages_run_exist(default_project):
    """`python -m` modules are the project's, as rendered with the default answers (the pages use
    the default package name), or tools that are not the project's."""
    modules = {
        (page.name, match[1])
        for page in pages()
        for line in commands(page.read_text())
        for match in re.finditer(r"python3?\s+-m\s+([\w.]+)", line)
        if match[1] not in {"venv", "pip", "pytest", "copier", "zipfile"}
    }
    package = package_name(default_project)
    assert {f"{package}.local.pipeline", f"{package}.local.sample_data"} <= {
        module for _, module in modules
    }
    missing = [
        f"{page}: python -m {module}"
        for page, module in sorted(modules)
        if not (default_project / "src" / (module.replace(".", "/") + ".py")).is_file()
    ]
    assert missing == []


def uv_run_programs(text: str) -> set[str]:
    """The programs that `uv run ...` starts in the commands of a page (placeholders left out)."""
    programs = set()
    for line in commands(text):
        for match in re.finditer(r"(?:^|[\s;&(])uv run (?P<rest>[^;&|)]*)", line):
            argv = [token for token in shlex.split(match["rest"]) if not token.startswith("-")]
            if argv and "<" not in argv[0]:
                programs.add(argv[0])
    return programs


def test_uv_run_commands_name_entry_points_or_installed_tools(default_project):
    """`uv run <name>` in a generated project starts an entry point of its package (the job tasks'
    entry points) or a tool its dependency groups install."""
    pyproject = tomllib.loads((default_project / "pyproject.toml").read_text())
    entry_points = set(pyproject["project"]["scripts"])
    tools = {
        re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]
        for group in pyproject["dependency-groups"].values()
        for requirement in group
        if isinstance(requirement, str)
    }
    shown = {
        page.name: uv_run_programs(page.read_text())
        for page in pages()
        if page.name not in TEMPLATE_REPO_PAGES
    }
    assert {"train", "pre-commit", "mlflow", "python"} <= set().union(*shown.values())
    unknown = [
        f"{page}: uv run {program}"
        for page, programs in sorted(shown.items())
        for program in sorted(programs)
        if program not in entry_points | tools | {"python"}
    ]
    assert unknown == []


def test_uv_run_parsing():
    text = (
        "```bash\nuv run train --schema s   # comment\nuv run --frozen pytest -q\n```\n"
        "Run `uv run <step> --help`, `make x && uv run mlflow ui`.\n"
    )
    assert uv_run_programs(text) == {"train", "pytest", "mlflow"}


def test_bundle_run_commands_name_real_jobs_and_targets(default_project):
    job_keys = {
        key
        for path in (default_project / "resources").glob("*.yml")
        for key in (yaml.safe_load(path.read_text())["resources"].get("jobs") or {})
    }
    bundle_targets = set(
        yaml.safe_load((default_project / "databricks.yml").read_text())["targets"]
    )
    shown = [
        shlex.split(line)
        for page in pages()
        for line in commands(page.read_text())
        if line.startswith("databricks bundle ") and "<" not in line
    ]
    assert shown, "no bundle command found in the docs"
    for argv in shown:
        options, positional = bundle_arguments(argv[3:])
        if "target" in options:
            assert options["target"] in bundle_targets, argv
        if argv[2] == "run":
            assert positional and positional[0] in job_keys, argv


# Options of `databricks bundle ...` that take a value, by the name they are checked under.
VALUE_OPTIONS = {"-t": "target", "--target": "target", "-p": "profile", "--profile": "profile"}


def bundle_arguments(args: list[str]) -> tuple[dict[str, str], list[str]]:
    """(options with values, positional arguments) of a `databricks bundle <verb>` command line."""
    options: dict[str, str] = {}
    positional: list[str] = []
    tokens = iter(args)
    for token in tokens:
        name, equals, value = token.partition("=")
        if token.startswith("-") and equals:
            options[VALUE_OPTIONS.get(name, name)] = value
        elif token in VALUE_OPTIONS:
            options[VALUE_OPTIONS[token]] = next(tokens, "")
        elif token in {"--params", "--var"}:
            next(tokens, None)
        elif not token.startswith("-"):
            positional.append(token)
    return options, positional


def test_bundle_argument_parsing():
    argv = shlex.split("--target staging training_pipeline --params run_label=nightly")
    assert bundle_arguments(argv) == ({"target": "staging"}, ["training_pipeline"])
    assert bundle_arguments(["-t", "dev", "--strict"]) == ({"target": "dev"}, [])


def test_local_settings_are_documented_and_exist(default_project, tmp_path, monkeypatch):
    config_path = default_project / "src" / package_name(default_project) / "config.py"
    config_py = config_path.read_text()
    documented = set(re.findall(r"\bMLOPS_[A-Z_]+\b", (DOCS / "local-mode.md").read_text()))
    in_code = set(re.findall(r"\bMLOPS_[A-Z_]+\b", config_py))
    everywhere = {
        var for page in pages() for var in re.findall(r"\bMLOPS_[A-Z_]+\b", page.read_text())
    }
    assert documented == in_code
    assert everywhere <= in_code
    assert "DATABRICKS_RUNTIME_VERSION" in config_py

    # The table mapping local-mode.md describes is the one config.py makes (it imports only the
    # standard library, so it loads here).
    spec = importlib.util.spec_from_file_location("generated_config", config_path)
    config = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, config)  # its dataclass looks itself up there
    spec.loader.exec_module(config)
    local = config.local(tmp_path / ".local")
    assert local.table("cat.sch.features") == str(tmp_path / ".local/tables/cat/sch/features")
    assert config.databricks().table("cat.sch.features") == "cat.sch.features"
    assert "`.local/tables/<catalog>/<schema>/<table>`" in (DOCS / "local-mode.md").read_text()


def test_generated_readme_points_to_pages_that_exist(default_project):
    readme = (default_project / "README.md").read_text()
    referenced = set(re.findall(r"`docs/([\w-]+\.md)`", readme))
    assert {"local-mode.md", "troubleshooting.md", "updating.md", "ci-cd.md"} <= referenced
    assert sorted(name for name in referenced if not (DOCS / name).is_file()) == []


def _scripted_copy_command() -> list[str]:
    for line in commands((DOCS / "getting-started.md").read_text()):
        if line.startswith("copier copy --defaults"):
            return shlex.split(line)
    raise AssertionError("Getting started shows no scripted `copier copy --defaults` command")


def test_getting_started_scripted_copy_renders_a_project(copier_template, tmp_path):
    argv = _scripted_copy_command()
    assert "--trust" not in argv, "the docs say copying needs no --trust"
    assert argv[-2] == "$TEMPLATE"
    destination = tmp_path / argv[-1]
    argv = [*argv[:-2], str(copier_template), str(destination)]
    result = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answers = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    for flag, value in itertools.pairwise(argv):
        if flag == "-d":
            key, _, expected = value.partition("=")
            assert str(answers[key]) == expected
    package = answers["package_name"]
    for expected in (
        "databricks.yml",
        "Makefile",
        "resources/jobs.yml",
        f"src/{package}/config.py",
    ):
        assert (destination / expected).is_file(), expected


# ---------------------------------------------------------------------------------------------
# Messages quoted on the Troubleshooting page
# ---------------------------------------------------------------------------------------------
# Fragments quoted word for word on the page, and where the wording comes from.
GENERATED_CODE_MESSAGES = [
    "was not promoted: ",
    "not better than the champion's ",
    "Nothing to promote; this is not an error.",
    "The champion stays version",
    ", required ",
    "version yet: run the training pipeline until a model passes evaluation, then run batch "
    "inference again.",
    " lack required column(s): ",
    " could be read from ",
    "hold no number in any row (text, or empty)",
    "match no scored record yet",
    "have no data rows",
    "rows have no valid label",
    "Not parameters of this step (job parameters reach every task): ",
]
COPIER_MESSAGES = [
    "Template uses potentially unsafe feature",
    "If you trust this template, consider adding the `--trust` option when running "
    "`copier copy/update`.",
    "Destination repository is dirty; cannot continue. ",
    "Please commit or stash your local changes and retry.",
    "Local template must be a directory.",
]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def test_troubleshooting_quotes_the_generated_code_word_for_word():
    page = _one_line((DOCS / "troubleshooting.md").read_text())
    code = _one_line(
        "\n".join(path.read_text() for path in (REPO_ROOT / "template" / "src").glob("**/*.jinja"))
        + "\n".join(path.read_text() for path in (REPO_ROOT / "template" / "src").glob("**/*.py"))
    )
    for fragment in GENERATED_CODE_MESSAGES:
        assert fragment in page, f"troubleshooting.md no longer quotes {fragment!r}"
        assert _one_line(fragment) in code.replace('" f"', "").replace('" "', ""), fragment


def test_troubleshooting_quotes_copier_word_for_word():
    page = _one_line((DOCS / "troubleshooting.md").read_text())
    copier_source = _one_line(
        "\n".join(path.read_text() for path in Path(copier.__file__).parent.glob("*.py"))
    )
    for fragment in COPIER_MESSAGES:
        assert fragment in page, fragment
        assert fragment in copier_source.replace('" "', ""), f"copier no longer says {fragment!r}"
