"""Deliberate breakages: each must make a named test fail (make mutation).

    python tests/mutations.py            # every mutation, one at a time
    python tests/mutations.py --only 3   # one of them, by number
    python tests/mutations.py --list     # what they are, and the test that must catch each

Each mutation changes one line of the template, in a copy of the repo, and runs the test that
must catch it there. Template tests run with pytest in the copy; a test of the generated project
("generated:...") renders the default answers from the copy, installs them in the shared
environment (tests/project_env) and runs that test of theirs. A mutation the test does not catch
is reported, and the command exits with 1. The golden renders (tests/test_golden.py) would catch
every one of them, so they are never what is run here: each breakage needs a test that says what
is wrong. `make mutation` prints the results; README.md (Developing the template) says what they
cover.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))
from bundle_validation import SCHEMA_ENV, SHARED_SCHEMA  # noqa: E402 (after the path)

COPIED = ("copier.yml", "template", "includes", "migrations", "tests", "pyproject.toml")
PACKAGE_SRC = "template/src/{{ package_name }}"
GITHUB = "template/{% if ci_provider == 'github_actions' %}.github{% endif %}"
GITLAB_CI = "template/{% if ci_provider == 'gitlab' %}.gitlab-ci.yml{% endif %}.jinja"


@dataclass(frozen=True)
class Mutation:
    what: str
    path: str
    old: str
    new: str
    test: str  # a pytest node id of the template's tests, or "generated:<node id>"


MUTATIONS = [
    Mutation(
        "dev is no longer a private development copy",
        "template/databricks.yml.jinja",
        "    mode: development\n",
        "",
        "tests/test_bundle_meaning.py::test_dev_is_private_and_staging_and_prod_are_production",
    ),
    Mutation(
        "prod loses production mode",
        "template/databricks.yml.jinja",
        "  prod:\n    mode: production\n",
        "  prod:\n",
        "tests/test_bundle_meaning.py::test_dev_is_private_and_staging_and_prod_are_production",
    ),
    Mutation(
        "a job names the schema by the plain variable (no per-user prefix in dev)",
        "template/resources/jobs.yml.jinja",
        "              schema: ${resources.schemas.ml_schema.name}\n              model_name",
        "              schema: ${var.schema}\n              model_name",
        "tests/test_bundle_meaning.py::test_jobs_read_and_write_the_objects_the_bundle_declares",
    ),
    Mutation(
        "prod's deploying service principal named as a user",
        "template/databricks.yml.jinja",
        "  prod:\n    mode: production\n    # Deployed by CI signed in as a service principal: its "
        "userName is the application ID.\n    permissions:\n      - level: CAN_MANAGE\n"
        "        service_principal_name:",
        "  prod:\n    mode: production\n    # Deployed by CI signed in as a service principal: its "
        "userName is the application ID.\n    permissions:\n      - level: CAN_MANAGE\n"
        "        user_name:",
        "tests/test_bundle_meaning.py::test_each_target_names_the_identity_that_deploys_it",
    ),
    Mutation(
        "the team manages the prod serving endpoint",
        "template/databricks.yml.jinja",
        "      ml_engineers_endpoint_permission: CAN_QUERY\n",
        "      ml_engineers_endpoint_permission: CAN_MANAGE\n",
        "tests/test_bundle_meaning.py::test_prod_lets_the_team_view_and_query_but_not_manage",
    ),
    Mutation(
        "the run_as service principal cannot write tables",
        "template/databricks.yml.jinja",
        "privileges: [USE_SCHEMA, SELECT, MODIFY, CREATE_TABLE, CREATE_MODEL, EXECUTE, MANAGE]",
        "privileges: [USE_SCHEMA, SELECT]",
        "tests/test_bundle_meaning.py::test_the_run_as_service_principal_gets_what_its_tasks_need",
    ),
    Mutation(
        "dev e-mails the team on every failure",
        "template/databricks.yml.jinja",
        "    type: complex\n    default: []",
        "    type: complex\n    default: [dev@example.com]",
        "tests/test_bundle_meaning.py::test_failures_reach_the_team_from_staging_and_prod_only",
    ),
    Mutation(
        "the inference schedule ignores the answer",
        "template/resources/jobs.yml.jinja",
        '        quartz_cron_expression: "{{ inference_schedule }}"',
        '        quartz_cron_expression: "0 0 * * * ?"',
        "tests/test_bundle_meaning.py::test_triggers_and_schedules_are_as_answered",
    ),
    Mutation(
        "a bad e-mail address gets through its validator",
        "includes/validators.jinja",
        "{%- if ns.bad -%}",
        "{%- if false -%}",
        "tests/test_questions.py::test_validator_rejects_bad_value_and_writes_nothing",
    ),
    Mutation(
        "a GitHub action is pinned by a tag again",
        f"{GITHUB}/workflows/checks.yml.jinja",
        "actions/setup-java@b6effb05e454b25005698d916606bdc6ffcbf961 # v5.7.0",
        "actions/setup-java@v5",
        "tests/test_ci_security.py::test_every_action_is_pinned_by_a_release_commit",
    ),
    Mutation(
        "GitLab runs a CLI download that fails its checksum",
        GITLAB_CI,
        '    - echo "${cli_sha256}  ${archive}" | sha256sum --check --strict\n',
        '    - echo "${cli_sha256}  ${archive}" | sha256sum --check --strict || true\n',
        "tests/test_ci_security.py::test_a_tampered_cli_archive_stops_the_job",
    ),
    Mutation(
        "GitLab validates in a fork's own pipeline",
        GITLAB_CI,
        "$CI_MERGE_REQUEST_SOURCE_PROJECT_ID == $CI_MERGE_REQUEST_PROJECT_ID",
        "$CI_MERGE_REQUEST_SOURCE_PROJECT_ID == $CI_PROJECT_ID",
        "tests/test_ci.py::test_gitlab_flow",
    ),
    Mutation(
        "the gate promotes a worse challenger",
        f"{PACKAGE_SRC}/problem.py.jinja",
        "return candidate > reference if GREATER_IS_BETTER else candidate < reference",
        "return candidate < reference if GREATER_IS_BETTER else candidate > reference",
        "generated:tests/test_evaluate.py::test_gate_promotes_only_a_better_challenger",
    ),
    Mutation(
        "batch inference scores records again",
        f"{PACKAGE_SRC}/inference/batch_inference.py.jinja",
        'new = new.join(scored.select(naming.RECORD_ID), naming.RECORD_ID, "left_anti")',
        "new = new",
        "generated:tests/test_batch_inference.py::test_new_records_are_scored_once",
    ),
    Mutation(
        "the feature step appends instead of overwriting",
        f"{PACKAGE_SRC}/feature_engineering/features.py.jinja",
        'write_table(distinct, table, mode="overwrite", replace_schema=True)',
        'write_table(distinct, table, mode="append", replace_schema=True)',
        "generated:tests/test_features.py::test_a_second_run_replaces_the_table",
    ),
]


def copy_repo(destination: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "golden")
    for name in COPIED:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        else:
            shutil.copy2(source, destination / name)


def apply(root: Path, mutation: Mutation) -> None:
    path = root / mutation.path
    text = path.read_text()
    if text.count(mutation.old) < 1:
        raise SystemExit(f"{mutation.what}: {mutation.path} no longer holds {mutation.old!r}")
    path.write_text(text.replace(mutation.old, mutation.new, 1))


def caught(root: Path, mutation: Mutation) -> bool:
    """True if the mutation's test fails in the mutated copy at `root`."""
    if mutation.test.startswith("generated:"):
        return _generated_test_fails(root, mutation.test.removeprefix("generated:"))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", mutation.test],
        cwd=root,
        # The copy is not beside ../shared: name the bundle schema the tests read.
        env={**os.environ, SCHEMA_ENV: str(SHARED_SCHEMA)},
        capture_output=True,
        text=True,
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if done.returncode not in (0, 1) or " error" in summary:
        output = done.stdout[-3000:] + done.stderr[-2000:]
        raise SystemExit(f"{mutation.test} did not run:\n{output}")
    return " failed" in summary


def _generated_test_fails(root: Path, test: str) -> bool:
    """True if `test` of the project the mutated copy at `root` renders (default answers) fails."""
    from golden import render
    from project_env import install, uv_run

    with tempfile.TemporaryDirectory() as work:
        project = Path(work) / "project"
        render("defaults", project, root)
        install(project)
        try:
            uv_run(project, "pytest", "-q", "-x", "-p", "no:cacheprovider", test)
        except AssertionError as failure:  # project_env.run: the command failed
            return " failed" in str(failure) and " error" not in str(failure).splitlines()[-1]
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", type=int, nargs="+", help="numbers of the mutations to run")
    parser.add_argument("--list", action="store_true", help="list them, with their tests")
    args = parser.parse_args(argv)
    if args.list:
        for number, mutation in enumerate(MUTATIONS, 1):
            print(f"{number:2}. {mutation.what}\n    in {mutation.path}, by {mutation.test}")
        return 0
    chosen = args.only or range(1, len(MUTATIONS) + 1)
    missed = []
    for number in chosen:
        mutation = MUTATIONS[number - 1]
        began = time.perf_counter()
        with tempfile.TemporaryDirectory() as work:
            root = Path(work)
            copy_repo(root)
            apply(root, mutation)
            found = caught(root, mutation)
        verdict = "caught" if found else "MISSED"
        print(f"{number:2}. {verdict:6} {mutation.what}  [{mutation.test}]"
              f"  {time.perf_counter() - began:.0f} s", flush=True)  # fmt: skip
        if not found:
            missed.append(number)
    if missed:
        print(f"Not caught: {missed}. Each needs a test that fails on it.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
