"""Shared fixtures: the template snapshot (pytest-copier) and a cache of rendered answer sets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import copier
import pytest
from answer_sets import REPO_ROOT, answer_sets
from template_repo import TEMPLATE_PATHS


@pytest.fixture(scope="session")
def copier_template_paths() -> list[str]:
    return [path for path in TEMPLATE_PATHS if (REPO_ROOT / path).exists()]


def render_project(template: Path, dst: Path, answers: dict) -> Path:
    """Render like a user would: non-interactive, default answers, and no --trust."""
    copier.run_copy(str(template), dst, data=answers, defaults=True, unsafe=False, quiet=True)
    return dst


@pytest.fixture(scope="session")
def render(copier_template: Path, tmp_path_factory) -> Callable[[str], Path]:
    """Render a named answer set once per test session."""
    rendered: dict[str, Path] = {}
    sets = answer_sets()

    def _render(name: str) -> Path:
        if name not in rendered:
            dst = tmp_path_factory.mktemp(f"render-{name}", numbered=False)
            rendered[name] = render_project(copier_template, dst, sets[name])
        return rendered[name]

    return _render


@pytest.fixture(scope="session")
def ci_render(render, copier_template, tmp_path_factory) -> Callable[[str], Path]:
    """Render any answer set of the CI tests (test_ci.ALL_SETS) once: the shared matrix through
    `render`, the others here."""
    from test_ci import ALL_SETS

    extra: dict[str, Path] = {}
    shared = answer_sets()

    def _render(name: str) -> Path:
        if name in shared:
            return render(name)
        if name not in extra:
            dst = tmp_path_factory.mktemp(f"render-{name}", numbered=False)
            extra[name] = render_project(copier_template, dst, ALL_SETS[name])
        return extra[name]

    return _render
