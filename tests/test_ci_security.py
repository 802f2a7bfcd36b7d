"""The generated CI's supply chain (issue 14): every GitHub action pinned by the full commit SHA of
a release, with the release in a comment, and kept current by Dependabot; zizmor finds nothing in
any rendered GitHub workflow; on every provider, the Databricks CLI archive is checked against the
SHA-256 written in the repository (includes/databricks_cli.yml) before it runs, and a tampered
archive stops the job."""

from __future__ import annotations

import hashlib
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_ci import (
    DATABRICKS_CLI,
    WITH_CI,
    ci_files,
    load,
    provider_of,
    sets_for,
)

ZIZMOR = Path(sys.executable).with_name("zizmor")
# Every answer that changes a GitHub workflow: staging, hosts in databricks.yml or not, a prod
# service principal or not, runtime profiles. The sets that render GitHub Actions cover them.
GITHUB_SETS = sets_for("github_actions")
# `uses: owner/repo[/path]@<40 hex> # v1.2.3`: a release's commit, and the release it is.
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
# This repository's own actions and reusable workflows, at the running commit (no ref to pin),
# with the reason zizmor's self-repository audit does not apply (docs/ci-cd.md).
SELF_REPOSITORY = re.compile(
    r"^\./\.github/(actions|workflows)/[\w./-]+ # zizmor: ignore\[self-repository\] \S.*$"
)
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(.+?)\s*$", re.MULTILINE)


def github_yaml_files(project: Path) -> dict[str, Path]:
    return {
        path: file
        for path, file in ci_files(project).items()
        if path.startswith(".github/") and path != ".github/dependabot.yml"
    }


def unpinned(text: str) -> list[str]:
    """Every `uses:` that is neither a release's commit SHA with its version nor this
    repository's own `./.github/...` with its reason."""
    return [
        ref for ref in USES.findall(text) if not (PINNED.match(ref) or SELF_REPOSITORY.match(ref))
    ]


def zizmor(paths: list[Path]) -> subprocess.CompletedProcess:
    """zizmor at its default persona, offline (no GitHub token, no network audits)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
    return subprocess.run(
        [str(ZIZMOR), "--offline", "--no-progress", "--format", "plain", *map(str, paths)],
        capture_output=True,
        text=True,
        env=env,
    )


# --- pinned actions, kept current ----------------------------------------------------------------


@pytest.mark.parametrize("name", GITHUB_SETS)
def test_every_action_is_pinned_by_a_release_commit(ci_render, name):
    project = ci_render(name)
    files = github_yaml_files(project)
    refs = [ref for file in files.values() for ref in USES.findall(file.read_text())]
    assert refs, "no `uses:` found: the check would check nothing"
    found = {path: unpinned(file.read_text()) for path, file in files.items()}
    assert not any(found.values()), found


@pytest.mark.parametrize(
    "line",
    [
        "      - uses: actions/checkout@v5",
        "      - uses: actions/checkout@v5.1.0",
        "      - uses: actions/checkout@fbc6f3992d24b796d5a048ff273f7fcc4a7b6c09",  # no version
        "      - uses: actions/checkout@fbc6f399 # v5.1.0",  # a short SHA
        "      - uses: databricks/setup-cli@v1.19.0",
        "    uses: ./.github/workflows/checks.yml",
    ],
)
def test_pin_check_catches_an_unpinned_action(line):
    pinned = "      - uses: actions/checkout@fbc6f3992d24b796d5a048ff273f7fcc4a7b6c09 # v5.1.0\n"
    own = "    uses: ./.github/workflows/checks.yml # zizmor: ignore[self-repository] same commit\n"
    assert not unpinned(pinned + own)
    assert unpinned(pinned + line + "\n") == [line.split("uses:")[1].strip()]


@pytest.mark.parametrize("name", GITHUB_SETS)
def test_dependabot_keeps_the_actions_current(ci_render, name):
    config = load(ci_render(name) / ".github" / "dependabot.yml")
    (actions,) = [u for u in config["updates"] if u["package-ecosystem"] == "github-actions"]
    assert actions["directory"] == "/"
    assert actions["cooldown"]["default-days"] >= 7


# --- zizmor --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GITHUB_SETS)
def test_zizmor_finds_nothing(ci_render, name):
    """Every workflow, the project's own action and dependabot.yml, at zizmor's default persona."""
    project = ci_render(name)
    result = zizmor([project / ".github"])
    assert result.returncode == 0, result.stdout + result.stderr
    audited = re.findall(r"completed (\S+)", result.stderr)
    assert len(audited) == len(ci_files(project)), result.stderr


@pytest.mark.parametrize(
    ("path", "before", "after"),
    [
        (
            "workflows/ci.yml",
            "actions/checkout@fbc6f3992d24b796d5a048ff273f7fcc4a7b6c09 # v5.1.0",
            "actions/checkout@v5",
        ),
        ("workflows/deploy.yml", "permissions:\n  contents: read\n", "permissions: write-all\n"),
        ("dependabot.yml", "default-days: 7", "default-days: 1"),
    ],
)
def test_zizmor_catches_a_weakened_file(ci_render, tmp_path, path, before, after):
    """zizmor really audits these files: undoing one hardening gives a finding."""
    source = ci_render(GITHUB_SETS[0]) / ".github"
    copy = tmp_path / ".github"
    for file in source.rglob("*"):
        if file.is_file():
            target = copy / file.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(file.read_text())
    weakened = copy / path
    assert before in weakened.read_text()
    weakened.write_text(weakened.read_text().replace(before, after))
    result = zizmor([copy])
    assert result.returncode != 0, result.stdout + result.stderr


# --- the Databricks CLI, checked against the checksum in the repository --------------------------


def cli_install_script(project: Path, provider: str) -> str:
    """The shell commands that install the Databricks CLI, as the provider runs them."""
    if provider == "github_actions":
        action = load(project / ".github" / "actions" / "databricks-cli" / "action.yml")
        (step,) = [s for s in action["runs"]["steps"] if "sha256sum" in s.get("run", "")]
        exports = "".join(f"export {k}={v}\n" for k, v in step.get("env", {}).items())
        return exports + step["run"]
    if provider == "gitlab":
        lines = load(project / ".gitlab-ci.yml")[".databricks"]["before_script"]
        return "set -e\n" + "\n".join(lines) + "\n"
    (step,) = load(project / ".azure-pipelines" / "databricks-cli.yml")["steps"][:1]
    return step["bash"]


@pytest.mark.parametrize("name", WITH_CI)
def test_cli_is_checked_against_the_checksum_in_the_repository(ci_render, name):
    """The expected SHA-256 is written in the CI files, never fetched with the archive."""
    project, provider = ci_render(name), provider_of(name)
    script = cli_install_script(project, provider)
    assert str(DATABRICKS_CLI["linux_amd64_sha256"]) in script
    assert re.fullmatch(r"[0-9a-f]{64}", str(DATABRICKS_CLI["linux_amd64_sha256"]))
    assert "sha256sum --check --strict" in script
    every_file = "\n".join(file.read_text() for file in ci_files(project).values())
    assert 'SHA256SUMS"' not in every_file and "--ignore-missing" not in every_file
    assert "databricks/setup-cli" not in every_file


def fake_tools(folder: Path, archive: Path, target: Path) -> dict[str, str]:
    """curl that serves `archive`, and no-op apt-get, pip, sudo: the install script runs offline,
    its unzip and sha256sum for real. `sudo install` and GitLab's unzip into /usr/local/bin land in
    `target` instead."""
    folder.mkdir()
    scripts = {
        "curl": f'for a; do name="$a"; done; cp "{archive}" "$(basename "$name")"\n',
        "apt-get": "exit 0\n",
        "pip": "exit 0\n",
        "sudo": f'if [ "$1" = install ]; then cp "$4" "{target}/"; else "$@"; fi\n',
    }
    for tool, body in scripts.items():
        path = folder / tool
        path.write_text("#!/usr/bin/env bash\n" + body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    temp = folder.parent / "temp"
    temp.mkdir()
    return {
        "PATH": f"{folder}:{os.environ['PATH']}",
        "RUNNER_TEMP": str(temp),
        "AGENT_TEMPDIRECTORY": str(temp),
        "CI_PROJECT_DIR": str(folder.parent),
        "HOME": str(folder.parent),
    }


def run_install(
    script: str, tmp_path: Path, archive: Path
) -> tuple[subprocess.CompletedProcess, Path]:
    target = tmp_path / "bin"
    target.mkdir()
    env = fake_tools(tmp_path / "tools", archive, target)
    # GitLab unzips straight into /usr/local/bin: into the test's folder instead.
    script = script.replace("-d /usr/local/bin", f"-d {target}")
    result = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    return result, target


def fake_archive(tmp_path: Path) -> Path:
    archive = tmp_path / "release.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("databricks", "#!/bin/sh\necho 'not the Databricks CLI'\n")
    return archive


# One answer set per provider: the install commands do not depend on the other answers.
PROVIDER_SETS = {
    provider: sets_for(provider)[0] for provider in ("github_actions", "gitlab", "azure_devops")
}


@pytest.mark.parametrize("provider", list(PROVIDER_SETS))
def test_a_tampered_cli_archive_stops_the_job(ci_render, tmp_path, provider):
    """The install script, run for real with a download that is not the release's archive: the
    checksum check fails, the job stops, and no `databricks` is installed."""
    script = cli_install_script(ci_render(PROVIDER_SETS[provider]), provider)
    result, target = run_install(script, tmp_path, fake_archive(tmp_path))
    assert result.returncode != 0, result.stdout + result.stderr
    assert "FAILED" in result.stdout + result.stderr
    assert not (target / "databricks").exists()
    assert not list((tmp_path / "temp").rglob("databricks"))


@pytest.mark.parametrize("provider", list(PROVIDER_SETS))
def test_the_archive_with_the_written_checksum_is_installed(ci_render, tmp_path, provider):
    """The same script passes, and installs what the archive holds, when the written checksum is
    the archive's: the check is what decides (control of the test above)."""
    archive = fake_archive(tmp_path)
    script = cli_install_script(ci_render(PROVIDER_SETS[provider]), provider)
    script = script.replace(
        str(DATABRICKS_CLI["linux_amd64_sha256"]), hashlib.sha256(archive.read_bytes()).hexdigest()
    )
    # Azure and GitHub put the CLI on PATH in later steps; the commands after it need none here.
    script = script.replace("databricks --version", "true")
    result, target = run_install(script, tmp_path, archive)
    assert result.returncode == 0, result.stdout + result.stderr
    installed = list(target.glob("databricks")) + list((tmp_path / "temp").rglob("databricks"))
    assert installed, result.stdout + result.stderr


def test_every_provider_is_exercised():
    assert set(PROVIDER_SETS) == {provider_of(name) for name in WITH_CI}
