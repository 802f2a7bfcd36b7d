"""The generated CI/CD: each provider's files and nothing else, valid against the provider's
published schema, GitHub expressions intact, no secret anywhere, federation for every Databricks
call, the flow of issue 5 (validate every target on a change request, deploy and train on the
default branch, deploy prod on a release), one pinned Databricks CLI, and uv (issue 11): the checks
install from the committed uv.lock with a cache keyed on it, and every job that deploys (which
builds the project's wheel) has the Makefile's uv."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from answer_sets import REPO_ROOT, answer_sets, ci_provider, questions
from bundle_validation import bundle_targets

CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
TEMPLATE = REPO_ROOT / "template"

# Every CI file each provider gets; `none` gets none.
CI_FILES = {
    "github_actions": {
        ".github/dependabot.yml",
        ".github/actions/databricks-cli/action.yml",
        ".github/workflows/checks.yml",
        ".github/workflows/ci.yml",
        ".github/workflows/deploy.yml",
        ".github/workflows/template-update.yml",
    },
    "gitlab": {".gitlab-ci.yml"},
    "azure_devops": {
        "azure-pipelines.yml",
        ".azure-pipelines/checks.yml",
        ".azure-pipelines/databricks-cli.yml",
        ".azure-pipelines/deploy.yml",
        ".azure-pipelines/template-update.yml",
        ".azure-pipelines/uv.yml",
    },
    "none": set(),
}
# Where any provider's files would land: no other file of the project may be here.
CI_LOCATIONS = (".github", ".gitlab-ci.yml", "azure-pipelines.yml", ".azure-pipelines")
# check-jsonschema's vendored schemas (shipped inside the package: nothing is downloaded), by
# provider; on GitHub, by the kind of file.
SCHEMAS = {
    "github_actions": "vendor.github-workflows",
    "gitlab": "vendor.gitlab-ci",
    "azure_devops": "vendor.azure-pipelines",
}
GITHUB_SCHEMAS = {"action.yml": "vendor.github-actions", "dependabot.yml": "vendor.dependabot"}
# The only ways each provider may sign in to Databricks: workload identity federation. Azure DevOps
# validates with the CI pipeline's token (azure-devops-oidc) and deploys with the ID token of the
# target's service connection (env-oidc).
AUTH_TYPES = {
    "github_actions": {"github-oidc"},
    "gitlab": {"env-oidc"},
    "azure_devops": {"azure-devops-oidc", "env-oidc"},
}

EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
# Credentials and references to stored secrets. The Azure DevOps job token (System.AccessToken) is
# not one: it is issued per job, expires with it, and is what workload identity federation uses.
SECRET_PATTERNS = {
    "a reference to a stored secret": re.compile(
        r"\bsecrets\s*[.:\[]|\$\(\s*(?!System\.AccessToken\))[\w.]*(secret|password|token)\w*\s*\)",
        re.IGNORECASE,
    ),
    "a credential variable": re.compile(
        r"\b(DATABRICKS_(TOKEN|CLIENT_SECRET|PASSWORD)|ARM_CLIENT_SECRET|AZURE_CLIENT_SECRET)\b"
    ),
    "a Databricks token or OAuth secret": re.compile(r"\b(dapi|dose)[0-9a-f]{32}"),
    "a GitHub or GitLab token": re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|glpat-[\w-]{20,})"),
    "a JSON web token": re.compile(r"\beyJ[\w-]{10,}\.eyJ[\w-]{10,}"),
    "a private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
}
# The matrix of answer sets, plus a staging target with no hosts in databricks.yml for every
# provider: the pairwise matrix does not reach that combination for each of them.
ALL_SETS = answer_sets() | {
    f"ci-{provider}-staging-no-hosts": {"ci_provider": provider, "include_staging": True}
    for provider in AUTH_TYPES
}


def provider_of(name: str) -> str:
    return ci_provider(ALL_SETS[name])


def sets_for(*providers: str) -> list[str]:
    return [name for name in ALL_SETS if provider_of(name) in providers]


WITH_CI = sets_for("github_actions", "gitlab", "azure_devops")


def ci_files(project: Path) -> dict[str, Path]:
    """Every file at a CI location, by path relative to the project."""
    found = {}
    for location in CI_LOCATIONS:
        path = project / location
        candidates = path.rglob("*") if path.is_dir() else [path]
        for file in candidates:
            if file.is_file():
                found[file.relative_to(project).as_posix()] = file
    return found


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def answer(project: Path, name: str):
    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return recorded.get(name, questions()[name].get("default"))


def rendered_path(template_file: Path) -> str:
    """The project path a template file renders to, for answers that render it."""
    relative = template_file.relative_to(TEMPLATE).as_posix()
    relative = re.sub(r"\{%\s*if [^%]*%\}(.*?)\{%\s*endif\s*%\}", r"\1", relative)
    return relative.removesuffix(".jinja")


def template_sources() -> dict[str, Path]:
    """Template file of every CI file, by the path it renders to."""
    sources = {}
    for file in TEMPLATE.rglob("*"):
        path = rendered_path(file)
        at_ci_location = any(path == loc or path.startswith(f"{loc}/") for loc in CI_LOCATIONS)
        if file.is_file() and at_ci_location:
            sources[path] = file
    return sources


def secret_findings(text: str) -> list[str]:
    return [
        f"{what}: {match.group(0)!r}"
        for what, pattern in SECRET_PATTERNS.items()
        for match in pattern.finditer(text)
    ]


def expression_problems(text: str, expected: set[str]) -> list[str]:
    """Expressions of a rendered file that its template does not hold verbatim, and `${{` that
    open no complete expression."""
    problems = [f"not in the template: {found}" for found in EXPRESSION.findall(text)]
    problems = [problem for problem in problems if problem.split(": ", 1)[1] not in expected]
    opened = text.count("${{")
    if opened != len(EXPRESSION.findall(text)):
        problems.append(f"{opened - len(EXPRESSION.findall(text))} unterminated `${{{{`")
    return problems


def check_schema(provider: str, paths: list[Path]) -> subprocess.CompletedProcess:
    """check-jsonschema on every file, each against its schema; one result for them all."""
    # The Azure Pipelines schema has patterns that only Python's regex engine compiles.
    variant = ["--regex-variant", "python"] if provider == "azure_devops" else []
    by_schema: dict[str, list[Path]] = {}
    for path in paths:
        schema = SCHEMAS[provider]
        if provider == "github_actions":
            schema = GITHUB_SCHEMAS.get(path.name, schema)
        by_schema.setdefault(schema, []).append(path)
    results = [
        subprocess.run(
            [str(CHECK_JSONSCHEMA), *variant, "--builtin-schema", schema, *map(str, files)],
            capture_output=True,
            text=True,
        )
        for schema, files in by_schema.items()
    ]
    return subprocess.CompletedProcess(
        args=[result.args for result in results],
        returncode=max(result.returncode for result in results),
        stdout="".join(result.stdout for result in results),
        stderr="".join(result.stderr for result in results),
    )


# --- each provider renders its own files, and only them ---------------------------------------


def test_every_provider_is_rendered_by_some_answer_set():
    providers = {provider_of(name) for name in ALL_SETS}
    assert providers == set(CI_FILES) == {*questions()["ci_provider"]["choices"].values()}


def test_template_holds_exactly_the_ci_files_of_the_providers():
    assert set(template_sources()) == set().union(*CI_FILES.values())


@pytest.mark.parametrize("name", list(ALL_SETS))
def test_each_provider_renders_only_its_own_files(ci_render, name):
    assert set(ci_files(ci_render(name))) == CI_FILES[provider_of(name)]


# --- schemas ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", WITH_CI)
def test_files_validate_against_the_provider_schema(ci_render, name):
    files = list(ci_files(ci_render(name)).values())
    result = check_schema(provider_of(name), files)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("provider", "broken"),
    [
        ("github_actions", "on: push\njobs:\n  build:\n    steps:\n      - run: echo\n"),
        ("gitlab", "build:\n  stage: test\n  script: 42\n  when: sometimes\n"),
        ("azure_devops", "jobs:\n  - job: build\n    timeoutInMinutes: 5\n    steps: []\n"),
    ],
)
def test_schema_check_rejects_a_broken_file(tmp_path, provider, broken):
    path = tmp_path / "broken.yml"
    path.write_text(broken)
    result = check_schema(provider, [path])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "broken.yml" in result.stdout


# --- GitHub expressions survive rendering -----------------------------------------------------


def test_expressions_of_every_template_file_survive_rendering(ci_render):
    """Every `${{ ... }}` in a rendered file is one written in its template, character for
    character, and every one written in a template reaches some rendered project."""
    sources = template_sources()
    expected = {path: set(EXPRESSION.findall(file.read_text())) for path, file in sources.items()}
    assert expected[".github/workflows/deploy.yml"], "the expression check would check nothing"
    seen: dict[str, set[str]] = {path: set() for path in expected}
    for name in WITH_CI:
        for path, file in ci_files(ci_render(name)).items():
            text = file.read_text()
            assert not expression_problems(text, expected[path]), (name, path)
            seen[path] |= set(EXPRESSION.findall(text))
    missing = {path: sorted(expected[path] - seen[path]) for path in expected}
    assert not any(missing.values()), missing


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("'refs/heads/main' }}", "'refs/heads/main' }"),  # a brace lost
        ("${{ hashFiles", "${{hashFiles"),  # whitespace changed
        ("${{ hashFiles('x') }}", "${{ hashFiles('y') }}"),  # content changed
    ],
)
def test_expression_check_catches_a_mangled_expression(before, after):
    source = "key: ${{ hashFiles('x') }}\nif: ${{ github.ref == 'refs/heads/main' }}\n"
    expected = set(EXPRESSION.findall(source))
    assert not expression_problems(source, expected)
    assert expression_problems(source.replace(before, after), expected)


# --- no secrets; federation everywhere ----------------------------------------------------------


@pytest.mark.parametrize("name", list(ALL_SETS))
def test_no_secret_in_any_generated_file(ci_render, name):
    project = ci_render(name)
    findings = [
        f"{path.relative_to(project)}: {finding}"
        for path in sorted(project.rglob("*"))
        if path.is_file() and ".git" not in path.parts
        for finding in secret_findings(path.read_text())
    ]
    assert not findings, "\n".join(findings)


@pytest.mark.parametrize(
    "leak",
    [
        "DATABRICKS_TOKEN: ${{ secrets.DATABRICKS_TOKEN }}",
        "secrets: inherit",
        "DATABRICKS_CLIENT_SECRET: $(CLIENT_SECRET)",
        "token: dapi0123456789abcdef0123456789abcdef",
        "env: {AZURE_PASSWORD: $(azurePassword)}",
    ],
)
def test_secret_check_catches_a_leak(leak):
    assert secret_findings(f"steps:\n  - run: echo\n    {leak}\n")


def test_secret_check_accepts_the_azure_devops_job_token():
    assert not secret_findings("env:\n  SYSTEM_ACCESSTOKEN: $(System.AccessToken)\n")


@pytest.mark.parametrize("name", WITH_CI)
def test_databricks_calls_sign_in_with_workload_identity_federation(ci_render, name):
    provider = provider_of(name)
    files = ci_files(ci_render(name))
    auth_types = {
        auth
        for file in files.values()
        for auth in re.findall(r"DATABRICKS_AUTH_TYPE:\s*(\S+)", file.read_text())
    }
    assert auth_types == AUTH_TYPES[provider]
    for path, file in files.items():
        text = file.read_text()
        if "databricks bundle" in text:
            assert "DATABRICKS_AUTH_TYPE" in text, f"{path} calls Databricks without federation"
        # The Azure DevOps job token goes to the CLI only, under the name the SDK reads.
        for line in text.splitlines():
            if "System.AccessToken" in line:
                assert line.strip() == "SYSTEM_ACCESSTOKEN: $(System.AccessToken)", line


# --- the flow -----------------------------------------------------------------------------------


def preprod(project: Path) -> str:
    return "staging" if "staging" in bundle_targets(project) else "dev"


def prod_run_as(project: Path) -> set[str]:
    jobs = load(project / "databricks.yml")["targets"]["prod"].get("resources", {}).get("jobs", {})
    return {job["run_as"]["service_principal_name"] for job in jobs.values()}


def assert_prod_identity(project: Path, client_id: str) -> None:
    """Prod deploys as the prod service principal: the one the prod jobs run as, when given."""
    principal = answer(project, "prod_service_principal")
    if principal:
        assert client_id == principal
        assert prod_run_as(project) == {principal}
    else:
        assert client_id.strip("${}() ").endswith("DATABRICKS_CLIENT_ID_PROD"), client_id
        assert not prod_run_as(project)


def commands(steps: list[dict], key: str) -> list[str]:
    return [step[key] for step in steps if key in step]


@pytest.mark.parametrize("name", sets_for("github_actions"))
def test_github_flow(ci_render, name):
    project = ci_render(name)
    workflows = project / ".github" / "workflows"
    ci, deploy = load(workflows / "ci.yml"), load(workflows / "deploy.yml")
    stage = preprod(project)
    pins = {
        step["uses"]
        for workflow in (ci, deploy)
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "uses" in step
    }
    # Third-party actions by commit SHA (tests/test_ci_security.py), this repository's own by `./`.
    assert all(re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}|\./\.github/[\w/.-]+", p) for p in pins), (
        pins
    )

    # Pull requests: checks, then every target validated as the validation service principal.
    assert ci[True] == {"pull_request": None}  # PyYAML reads the key `on` as True
    assert ci["jobs"]["checks"]["uses"] == "./.github/workflows/checks.yml"
    validate = ci["jobs"]["validate"]
    assert [row["target"] for row in validate["strategy"]["matrix"]["include"]] == bundle_targets(
        project
    )
    assert validate["permissions"] == {"contents": "read", "id-token": "write"}
    assert validate["env"]["DATABRICKS_CLIENT_ID"] == "${{ vars.DATABRICKS_CLIENT_ID_VALIDATION }}"
    assert commands(validate["steps"], "run") == [
        'databricks bundle validate --strict --target "$TARGET"'
    ]

    # Default branch: deploy to staging (or dev) and train; release tags: deploy to prod.
    assert deploy[True] == {"push": {"branches": ["main"], "tags": ["v*"]}}
    assert deploy["permissions"] == {"contents": "read"}
    pre, prod = deploy["jobs"][stage], deploy["jobs"]["prod"]
    assert (pre["environment"], pre["if"], pre["needs"]) == (
        stage,
        "github.ref == 'refs/heads/main'",
        "checks",
    )
    assert commands(pre["steps"], "run") == [
        f"databricks bundle validate --strict --target {stage}",
        f"databricks bundle deploy --target {stage}",
        f"databricks bundle run --target {stage} training_pipeline",
    ]
    assert (prod["environment"], prod["if"], prod["needs"]) == (
        "prod",
        "startsWith(github.ref, 'refs/tags/v')",
        "checks",
    )
    assert commands(prod["steps"], "run") == [
        "databricks bundle validate --strict --target prod",
        "databricks bundle deploy --target prod",
    ]
    for job in (pre, prod):
        assert job["permissions"] == {"contents": "read", "id-token": "write"}
        assert job["concurrency"]["cancel-in-progress"] is False
    assert_prod_identity(project, str(prod["env"]["DATABRICKS_CLIENT_ID"]))


@pytest.mark.parametrize("name", sets_for("gitlab"))
def test_gitlab_flow(ci_render, name):
    project = ci_render(name)
    pipeline = load(project / ".gitlab-ci.yml")
    stage = preprod(project)
    base = pipeline[".databricks"]
    assert base["id_tokens"] == {"DATABRICKS_OIDC_TOKEN": {"aud": "$DATABRICKS_ACCOUNT_ID"}}
    assert "sha256sum --check --strict" in " ".join(base["before_script"])

    validate = {key: job for key, job in pipeline.items() if key.startswith("validate:")}
    assert [job["variables"]["TARGET"] for job in validate.values()] == bundle_targets(project)
    assert all(job["extends"] == ".validate" for job in validate.values())
    # Never in a fork's own pipeline, where CI_PROJECT_ID is the fork's: the merge request's source
    # project must be its target project (this one).
    assert pipeline[".validate"]["rules"] == [
        {
            "if": '$CI_PIPELINE_SOURCE == "merge_request_event"'
            " && $CI_MERGE_REQUEST_SOURCE_PROJECT_ID == $CI_MERGE_REQUEST_PROJECT_ID"
        }
    ]
    assert pipeline[".validate"]["script"] == [
        'databricks bundle validate --strict --target "$TARGET"'
    ]

    pre, prod = pipeline[f"deploy:{stage}"], pipeline["deploy:prod"]
    assert pre["rules"] == [
        {"if": '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'}
    ]
    assert pre["environment"]["name"] == stage
    assert pre["script"] == [
        f"databricks bundle validate --strict --target {stage}",
        f"databricks bundle deploy --target {stage}",
        f"databricks bundle run --target {stage} training_pipeline",
    ]
    assert prod["rules"] == [
        {"if": '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == "release"'}
    ]
    assert prod["environment"]["name"] == "prod"
    assert prod["script"][-1] == "databricks bundle deploy --target prod"
    for job in (pre, prod):
        assert (job["extends"], job["stage"], job["resource_group"]) == (
            ".databricks",
            "deploy",
            job["environment"]["name"],
        )
    assert_prod_identity(project, str(prod["variables"]["DATABRICKS_CLIENT_ID"]))


@pytest.mark.parametrize("name", sets_for("azure_devops"))
def test_azure_devops_flow(ci_render, name):
    project = ci_render(name)
    ci = load(project / "azure-pipelines.yml")
    cd = load(project / ".azure-pipelines" / "deploy.yml")
    stage = preprod(project)

    validate = next(job for job in ci["jobs"] if job.get("job") == "validate")
    assert validate["condition"] == "eq(variables['Build.Reason'], 'PullRequest')"
    matrix = validate["strategy"]["matrix"]
    assert [row["TARGET"] for row in matrix.values()] == bundle_targets(project)
    assert validate["variables"]["DATABRICKS_CLIENT_ID"] == "$(DATABRICKS_CLIENT_ID_VALIDATION)"

    # The deploy pipeline is a separate pipeline that pull requests never run.
    assert cd["pr"] == "none"
    assert cd["trigger"] == {"branches": {"include": ["main"]}, "tags": {"include": ["v*"]}}
    stages = {item["stage"]: item for item in cd["stages"]}
    assert list(stages) == ["checks", stage, "prod"]
    assert "refs/heads/main" in stages[stage]["condition"]
    assert "refs/tags/v" in stages["prod"]["condition"]
    jobs = {}
    for name_ in (stage, "prod"):
        (job,) = stages[name_]["jobs"]
        assert job["environment"] == name_
        jobs[name_] = job
    # Each Databricks command runs in an AzureCLI@2 task with the target's own service connection,
    # whose ID token (idToken) is the CLI's credential.
    steps = {}
    for name_, job in jobs.items():
        tasks = [s for s in job["strategy"]["runOnce"]["deploy"]["steps"] if "task" in s]
        assert {t["task"] for t in tasks} == {"AzureCLI@2"}
        assert all(t["inputs"]["azureSubscription"] == f"databricks-{name_}" for t in tasks)
        assert all(t["inputs"]["addSpnToEnvironment"] is True for t in tasks)
        scripts = [t["inputs"]["inlineScript"].splitlines() for t in tasks]
        assert all(lines[0] == 'export DATABRICKS_OIDC_TOKEN="$idToken"' for lines in scripts)
        assert job["variables"]["DATABRICKS_AUTH_TYPE"] == "env-oidc"
        steps[name_] = [command for lines in scripts for command in lines[1:]]
    assert steps[stage] == [
        f"databricks bundle validate --strict --target {stage}",
        f"databricks bundle deploy --target {stage}",
        f"databricks bundle run --target {stage} training_pipeline",
    ]
    assert steps["prod"] == [
        "databricks bundle validate --strict --target prod",
        "databricks bundle deploy --target prod",
    ]
    assert_prod_identity(project, str(jobs["prod"]["variables"]["DATABRICKS_CLIENT_ID"]))


# --- one pinned Databricks CLI ------------------------------------------------------------------


DATABRICKS_CLI = yaml.safe_load((REPO_ROOT / "includes" / "databricks_cli.yml").read_text())


def cli_versions(project: Path) -> set[str]:
    """Every Databricks CLI version the CI files name: setup-cli's, the GitHub action's VERSION,
    GitLab's cli_version, Azure's version."""
    text = "\n".join(file.read_text() for file in ci_files(project).values())
    return set(
        re.findall(r"databricks/setup-cli@v?(\S+)", text)
        + re.findall(r'^\s*VERSION: "([^"]+)"', text, re.MULTILINE)
        + re.findall(r"^\s*-?\s*(?:cli_)?version=(\S+)$", text, re.MULTILINE)
    )


def test_one_pinned_databricks_cli_everywhere(ci_render):
    """Every provider installs the same, exact CLI release (includes/databricks_cli.yml): the one
    whose bundle classes (databricks-bundles, released in lockstep with the CLI) the template's
    tests validate with."""
    per_set = {name: cli_versions(ci_render(name)) for name in WITH_CI}
    assert all(len(versions) == 1 for versions in per_set.values()), per_set
    (version,) = set().union(*per_set.values())
    assert version == str(DATABRICKS_CLI["version"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    assert f'"databricks-bundles=={version}"' in pyproject


# --- uv: the checks install from uv.lock; every job that deploys has the Makefile's uv -----------
# Each provider's jobs are read into one shape: a job is its steps, in order, each either a shell
# command ({"run": ...}) or an action, task or checkout ({"uses": ..., "with": {...}}), with the
# templates (Azure), `extends` (GitLab) and variables they inherit resolved.

RUNTIME_PROFILES = yaml.safe_load((REPO_ROOT / "includes" / "runtime_profiles.yml").read_text())
UV_LOCKED_SYNC = "uv sync --locked"
PRE_COMMIT = "uv run pre-commit run --all-files --show-diff-on-failure"
# Keywords of .gitlab-ci.yml that are not jobs.
GITLAB_KEYWORDS = {
    "default", "include", "stages", "variables", "workflow",
    "image", "services", "cache", "before_script", "after_script",
}  # fmt: skip


def deep_merge(base: dict, override: dict) -> dict:
    """GitLab's `extends`: hashes are merged, everything else (lists too) is replaced."""
    merged = dict(base)
    for key, value in override.items():
        both_dicts = isinstance(merged.get(key), dict) and isinstance(value, dict)
        merged[key] = deep_merge(merged[key], value) if both_dicts else value
    return merged


def gitlab_job(pipeline: dict, name: str) -> dict:
    job = pipeline[name]
    parents = job.get("extends", [])
    resolved: dict = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        resolved = deep_merge(resolved, gitlab_job(pipeline, parent))
    return deep_merge(resolved, {key: value for key, value in job.items() if key != "extends"})


def gitlab_jobs(project: Path) -> dict[str, dict]:
    pipeline = load(project / ".gitlab-ci.yml")
    jobs = {}
    for name, job in pipeline.items():
        if name in GITLAB_KEYWORDS or name.startswith(".") or not isinstance(job, dict):
            continue
        job = gitlab_job(pipeline, name)
        job["variables"] = {**pipeline.get("variables", {}), **job.get("variables", {})}
        lines = [*job.get("before_script", []), *job.get("script", [])]
        jobs[name] = {**job, "steps": [{"run": line} for line in lines]}
    return jobs


def github_jobs(project: Path) -> dict[str, dict]:
    jobs = {}
    for path in sorted((project / ".github" / "workflows").glob("*.yml")):
        for name, job in load(path)["jobs"].items():
            if "steps" not in job:  # a call of a reusable workflow: its jobs are read from its file
                continue
            steps = [
                {"run": step["run"]}
                if "run" in step
                else {"uses": step["uses"], "with": step.get("with", {})}
                for step in job["steps"]
            ]
            jobs[f"{path.name}:{name}"] = {**job, "steps": steps, "variables": {}}
    return jobs


def azure_steps(steps: list[dict], folder: Path) -> list[dict]:
    """Steps with their step templates inlined (a template path is relative to the file that
    names it)."""
    flat = []
    for step in steps:
        if "template" in step:
            template = folder / step["template"]
            flat += azure_steps(load(template)["steps"], template.parent)
        elif "script" in step or "bash" in step:
            flat.append({"run": step.get("script", step.get("bash"))})
        elif step.get("task") == "AzureCLI@2":  # a script, run with a service connection
            flat.append({"run": step["inputs"]["inlineScript"]})
        elif "task" in step:
            flat.append({"uses": step["task"], "with": step.get("inputs", {})})
        else:
            flat.append({"uses": f"checkout: {step['checkout']}", "with": {}})
    return flat


def azure_jobs(project: Path) -> dict[str, dict]:
    jobs: dict[str, dict] = {}

    def collect(job_list: list[dict], folder: Path, source: str) -> None:
        for job in job_list:
            if "template" in job:
                template = folder / job["template"]
                collect(load(template)["jobs"], template.parent, source)
                continue
            steps = job.get("steps") or job["strategy"]["runOnce"]["deploy"]["steps"]
            name = job.get("job") or job["deployment"]
            jobs[f"{source}:{name}"] = {
                **job,
                "steps": azure_steps(steps, folder),
                "variables": job.get("variables", {}),
            }

    files = [project / "azure-pipelines.yml", *(project / ".azure-pipelines").glob("*.yml")]
    for path in files:
        pipeline = load(path)
        if "trigger" not in pipeline and "pr" not in pipeline:
            continue  # a template, read where a pipeline uses it
        stages = pipeline.get("stages", [])
        for job_list in [pipeline.get("jobs", []), *(stage["jobs"] for stage in stages)]:
            collect(job_list, path.parent, path.name)
    return jobs


CI_JOBS = {"github_actions": github_jobs, "gitlab": gitlab_jobs, "azure_devops": azure_jobs}


def runs(job: dict) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def index_of(job: dict, command: str) -> int:
    """Position of the first step that runs `command` (contains it)."""
    return next(i for i, step in enumerate(job["steps"]) if command in step.get("run", ""))


def uv_install(step: dict, variables: dict) -> str | None:
    """The uv version a step installs: `astral-sh/setup-uv` or `pip install "uv==..."` (with
    `${VAR}` from the job's variables); None for a step that installs no uv, "unpinned" for one
    that installs some uv."""
    if step.get("uses", "").startswith("astral-sh/setup-uv@"):
        return str(step["with"].get("version", "unpinned"))
    command = step.get("run", "")
    if not re.search(r"pip install\b.*\buv\b", command):
        return None
    pin = re.search(r"\buv==([^\s\"']+)", command)
    if not pin:
        return "unpinned"
    return re.sub(r"\$\{?(\w+)\}?", lambda m: str(variables.get(m.group(1), m.group(0))), pin[1])


def makefile_uv_version(project: Path) -> str:
    pin = re.search(r"^UV_VERSION\s*:?=\s*(\S+)\s*$", (project / "Makefile").read_text(), re.M)
    assert pin, "the generated Makefile pins no UV_VERSION"
    return pin[1]


def checks_jobs(jobs: dict[str, dict]) -> dict[str, dict]:
    checks = {name: job for name, job in jobs.items() if any("pytest" in r for r in runs(job))}
    assert checks, "no job runs the tests"
    return checks


def uv_cache_problems(provider: str, job: dict) -> list[str]:
    """Why the job's uv cache is not uv's own cache keyed on uv.lock (none if it is)."""
    steps = job["steps"]
    if provider == "github_actions":
        (setup,) = [s for s in steps if s.get("uses", "").startswith("astral-sh/setup-uv@")]
        inputs = setup["with"]
        return [
            f"setup-uv {key}: {inputs.get(key)!r}, not {value!r}"
            for key, value in {"enable-cache": True, "cache-dependency-glob": "uv.lock"}.items()
            if inputs.get(key) != value
        ]
    if provider == "gitlab":
        folder = str(job["variables"].get("UV_CACHE_DIR", ""))
        caches = job.get("cache", [])
        keyed = [
            cache
            for cache in (caches if isinstance(caches, list) else [caches])
            if isinstance(cache.get("key"), dict) and cache["key"].get("files") == ["uv.lock"]
        ]
        problems = [] if keyed else ["no cache keyed on uv.lock"]
        if not folder.startswith("$CI_PROJECT_DIR/"):
            problems.append(f"UV_CACHE_DIR {folder!r} is outside the project: GitLab skips it")
        elif not any(
            f"$CI_PROJECT_DIR/{path}".rstrip("/") == folder for c in keyed for path in c["paths"]
        ):
            problems.append(f"the uv.lock cache does not hold UV_CACHE_DIR ({folder})")
        if runs(job)[-1:] != ["uv cache prune --ci"]:
            problems.append("the job does not end with `uv cache prune --ci`")
        return problems
    caches = [s["with"] for s in steps if s.get("uses") == "Cache@2"]
    keyed = [c for c in caches if "uv.lock" in [seg.strip() for seg in c["key"].split("|")]]
    problems = [] if keyed else ["no Cache@2 keyed on uv.lock"]
    if "UV_CACHE_DIR" not in job["variables"] or [c["path"] for c in keyed] != ["$(UV_CACHE_DIR)"]:
        problems.append("the uv.lock cache does not hold UV_CACHE_DIR")
    after_tests = job["steps"][index_of(job, "pytest") :]
    if {"run": "uv cache prune --ci"} not in after_tests:
        problems.append("no `uv cache prune --ci` after the tests")
    return problems


def runtime_problems(provider: str, job: dict, python: str) -> list[str]:
    """Why the job does not run on the runtime profile's Python with Java 17 (none if it does)."""
    steps, problems = job["steps"], []
    if provider == "github_actions":
        inputs = {s["uses"].split("@")[0]: s["with"] for s in steps if "uses" in s}
        if inputs.get("actions/setup-python", {}).get("python-version") != python:
            problems.append("actions/setup-python does not set the runtime pins' Python")
        if str(inputs.get("actions/setup-java", {}).get("java-version")) != "17":
            problems.append("actions/setup-java does not set Java 17")
    elif provider == "gitlab":
        if job["image"] != f"python:{python}-slim-bookworm":
            problems.append(f"image {job['image']} is not the runtime's Python")
        if not any("openjdk-17-" in command for command in runs(job)):
            problems.append("no Java 17")
    else:
        specs = [s["with"]["versionSpec"] for s in steps if s.get("uses") == "UsePythonVersion@0"]
        if specs != [python]:
            problems.append(f"UsePythonVersion {specs}, not the runtime's Python")
        if job["variables"].get("JAVA_HOME") != "$(JAVA_HOME_17_X64)":
            problems.append("no Java 17")
    return problems


@pytest.mark.parametrize("name", WITH_CI)
def test_checks_install_from_the_lock_and_run_everything_with_uv(ci_render, name):
    project, provider = ci_render(name), provider_of(name)
    python = RUNTIME_PROFILES[str(answer(project, "runtime"))]["local_python"]
    for job_name, job in checks_jobs(CI_JOBS[provider](project)).items():
        commands = runs(job)
        # The lock file, as committed: `--locked` fails when it is missing or stale.
        assert UV_LOCKED_SYNC in commands, (job_name, commands)
        sync = index_of(job, UV_LOCKED_SYNC)
        installs = [i for i, step in enumerate(job["steps"]) if uv_install(step, job["variables"])]
        assert installs and installs[0] < sync, f"{job_name}: uv sync before uv is installed"
        for command in ("uv run pytest", PRE_COMMIT):
            assert command in commands, (job_name, commands)
            assert index_of(job, command) > sync, f"{job_name}: {command} before the install"
        # The tools run from the project's environment, never from wherever else they may be.
        stray = [c for c in commands if re.search(r"(^|\s)(pytest|pre-commit)\b", c)]
        assert all(c.startswith("uv run ") for c in stray), (job_name, stray)
        assert not (problems := uv_cache_problems(provider, job)), (job_name, problems)
        assert not (problems := runtime_problems(provider, job, python)), (job_name, problems)


@pytest.mark.parametrize("name", WITH_CI)
def test_ci_installs_the_makefiles_uv(ci_render, name):
    """One uv everywhere: CI installs, pinned, the version the generated Makefile installs."""
    project = ci_render(name)
    installs = {
        f"{job_name} step {i}": version
        for job_name, job in CI_JOBS[provider_of(name)](project).items()
        for i, step in enumerate(job["steps"])
        if (version := uv_install(step, job["variables"]))
    }
    assert installs, "CI installs no uv"
    makefile = makefile_uv_version(project)
    assert re.fullmatch(r"\d+\.\d+\.\d+", makefile), makefile
    assert {version for version in installs.values()} == {makefile}, installs


@pytest.mark.parametrize("name", WITH_CI)
def test_every_job_that_deploys_has_uv_and_no_cache(ci_render, name):
    """`databricks bundle deploy` builds the project's wheel with uv (databricks.yml, artifacts),
    so each job that deploys installs uv first; it restores no cache, so that what reaches the
    workspace is never built from files another run left behind."""
    project, provider = ci_render(name), provider_of(name)
    assert load(project / "databricks.yml")["artifacts"], "the bundle builds no artifact"
    deploying = {
        job_name: job
        for job_name, job in CI_JOBS[provider](project).items()
        if any("databricks bundle deploy" in command for command in runs(job))
    }
    assert len(deploying) == 2, deploying.keys()  # staging (or dev), and prod
    for job_name, job in deploying.items():
        before = job["steps"][: index_of(job, "databricks bundle deploy")]
        assert any(uv_install(s, job["variables"]) for s in before), f"{job_name}: no uv"
        setup_uv = [s for s in job["steps"] if s.get("uses", "").startswith("astral-sh/setup-uv@")]
        assert all(s["with"].get("enable-cache") is False for s in setup_uv), f"{job_name}: cache"
        actions = {step.get("uses", "").split("@")[0] for step in job["steps"]}
        assert not actions & {"actions/cache", "Cache"}, f"{job_name}: cache"
        assert "cache" not in job, f"{job_name}: cache"


@pytest.mark.parametrize("name", WITH_CI)
def test_no_project_install_through_pip(ci_render, name):
    """pip installs tools only (uv, copier), pinned: uv installs the project, from uv.lock."""
    for path, file in ci_files(ci_render(name)).items():
        for line in file.read_text().splitlines():
            for args in re.findall(r"pip install\s+(.*)", line):
                packages = [arg for arg in shlex.split(args) if not arg.startswith("--")]
                assert all(re.match(r"(uv|copier)(==|>=)", p) for p in packages), (path, line)
