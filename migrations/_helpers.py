"""What migration scripts share. Standard library and PyYAML only: they run inside `copier update`,
with the Python that runs Copier, offline, in the project's directory.

Every helper is idempotent: running a migration twice leaves the project as running it once.
"""

from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import sys
import tempfile
import tokenize
from dataclasses import dataclass, field
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


def git(*args: str, stdin: str | None = None) -> str:
    """Run git in the current directory; its output, or exit with git's message. Bytes in and
    out, decoded as UTF-8: no newline translation, whatever the platform."""
    result = subprocess.run(
        ["git", *args],
        input=None if stdin is None else stdin.encode(),
        capture_output=True,
        check=False,
    )
    if result.returncode:
        error = result.stderr.decode(errors="replace").strip()
        sys.exit(f"git {' '.join(args)} failed: {error}")
    return result.stdout.decode()


def read_text(path: Path) -> str:
    """A file's text as it is on disk (UTF-8, line endings kept)."""
    return path.read_bytes().decode()


def write_text(path: Path, text: str) -> None:
    path.write_bytes(text.encode())


def git_path(name: str) -> Path:
    """A path inside the repository's git directory, where a migration can keep state between
    its stages without touching the working tree."""
    return Path(git("rev-parse", "--git-path", name).strip())


def project_files(*folders: str) -> list[Path]:
    """Files under the folders that git tracks, or would track (untracked, not ignored)."""
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *folders)
    return sorted({Path(name) for name in listed.split("\0") if name and Path(name).is_file()})


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


def merge_texts(ours: str, base: str, theirs: str) -> tuple[str, bool]:
    """Three-way merge as Copier does it (`git merge-file`, the same conflict labels);
    returns the merged text and whether it has conflicts."""
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(folder, name)
            path.write_bytes(text.encode())
            paths.append(str(path))
        labels = ["-L", "before updating", "-L", "last update", "-L", "after updating"]
        result = subprocess.run(
            ["git", "merge-file", "-p", *labels, *paths], capture_output=True, check=False
        )
    if not 0 <= result.returncode < 128:
        sys.exit(f"git merge-file failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout.decode(), result.returncode > 0


# --- Python imports ----------------------------------------------------------------------------

_DOTTED = re.compile(r"(?<![\w.])[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


@dataclass
class ModuleMap:
    """Where modules (and a few single objects) moved: old dotted name -> new dotted name.

    A name maps through its longest listed prefix: with {"common": "pkg"}, `common.x.y` becomes
    `pkg.x.y`. `symbols` lists objects that moved to another module than their own module's new
    name (`common.problem.load_sample` -> `pkg.local.sample_data.load_sample`).
    """

    modules: dict[str, str]
    symbols: dict[str, str] = field(default_factory=dict)

    def resolve(self, dotted: str, min_parts: int = 1) -> str | None:
        parts = dotted.split(".")
        for count in range(len(parts), max(min_parts, 1) - 1, -1):
            prefix = ".".join(parts[:count])
            new = self.symbols.get(prefix) or self.modules.get(prefix)
            if new is not None:
                return ".".join([new, *parts[count:]])
        return None

    def moved_member(self, module: str, name: str) -> str | None:
        """Where `from module import name` now finds `name`, if it moved on its own."""
        full = f"{module}.{name}"
        return self.symbols.get(full) or self.modules.get(full)


def _char_offsets(source: str):
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, byte_col: int) -> int:
        line = lines[lineno - 1] if lineno - 1 < len(lines) else ""
        return starts[lineno - 1] + len(line.encode()[:byte_col].decode(errors="ignore"))

    return offset, starts


def _import_from_text(groups: dict[str, list[str]], indent: str) -> str:
    statements = []
    for module, names in groups.items():
        line = f"from {module} import {', '.join(names)}"
        if len(indent) + len(line) > 99:
            inner = "".join(f"{indent}    {name},\n" for name in names)
            line = f"from {module} import (\n{inner}{indent})"
        statements.append(line)
    return f"\n{indent}".join(statements)


def _alias_text(alias: ast.alias) -> str:
    return alias.name if not alias.asname else f"{alias.name} as {alias.asname}"


def _from_import_groups(
    mapping: ModuleMap, module: str, target: str, names: list[ast.alias]
) -> tuple[dict[str, list[str]], bool]:
    """`from module import names`, with module now `target`: the statements it becomes
    (module -> imported names) and whether any name moved away from `target`."""
    groups: dict[str, list[str]] = {target: []}
    split = False
    for alias in names:
        moved = mapping.moved_member(module, alias.name) if alias.name != "*" else None
        if moved is not None and moved != f"{target}.{alias.name}":
            parent, _, leaf = moved.rpartition(".")
            bound = alias.asname or alias.name
            groups.setdefault(parent, []).append(leaf if leaf == bound else f"{leaf} as {bound}")
            split = True
        else:
            groups[target].append(_alias_text(alias))
    return {module: names for module, names in groups.items() if names}, split


def rewrite_python_imports(
    source: str,
    mapping: ModuleMap,
    *,
    old_module: str | None = None,
    new_module: str | None = None,
    is_package: bool = False,
) -> str:
    """Rewrite a Python file's imports, the references they bind, and dotted module names in its
    strings (`mock.patch("common.spark.get_spark")`), as `mapping` says.

    `old_module`/`new_module` are the file's own dotted names before and after a move: relative
    imports that no longer reach the same module become absolute. A file that does not parse is
    returned unchanged.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    offset, _ = _char_offsets(source)
    edits: list[tuple[int, int, str]] = []
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    rebound: set[str] = set()  # top-level names bound by a rewritten `import a.b`

    def span(node: ast.AST) -> tuple[int, int]:
        return offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset)

    def indent_of(node: ast.AST) -> str:
        start, _ = span(node)
        line_start = source.rfind("\n", 0, start) + 1
        prefix = source[line_start:start]
        return prefix if not prefix.strip() else ""

    def package_parts(module: str) -> list[str]:
        parts = module.split(".")
        return parts if is_package else parts[:-1]

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                module = node.module or ""
                target = mapping.resolve(module) or module
                keeps_form = target == module
            else:
                if old_module is None or new_module is None:
                    continue
                base = package_parts(old_module)
                new_base = package_parts(new_module)
                if node.level - 1 > min(len(base), len(new_base)):
                    continue
                base = base[: len(base) - (node.level - 1)]
                new_base = new_base[: len(new_base) - (node.level - 1)]
                tail = [node.module] if node.module else []
                module = ".".join(base + tail)
                target = mapping.resolve(module) or module
                keeps_form = target == ".".join(new_base + tail)
            groups, split = _from_import_groups(mapping, module, target, node.names)
            if keeps_form and not split:
                continue
            start, end = span(node)
            if node.level == 0 and not split:
                pattern = r"(from\s+)" + r"\s*\.\s*".join(map(re.escape, module.split(".")))
                text = re.sub(
                    pattern, lambda m, new=target: m.group(1) + new, source[start:end], count=1
                )
            else:
                text = _import_from_text(groups, indent_of(node))
            edits.append((start, end, text))
        elif isinstance(node, ast.Import):
            statements, changed = [], False
            for alias in node.names:
                new = mapping.resolve(alias.name)
                if new is None or new == alias.name:
                    statements.append(f"import {_alias_text(alias)}")
                    continue
                changed = True
                if alias.asname:
                    statements.append(f"import {new} as {alias.asname}")
                elif "." not in alias.name:
                    parent, _, leaf = new.rpartition(".")
                    if parent:
                        bound = "" if leaf == alias.name else f" as {alias.name}"
                        statements.append(f"from {parent} import {leaf}{bound}")
                    else:
                        statements.append(f"import {new} as {alias.name}")
                else:
                    statements.append(f"import {new}")
                    rebound.add(alias.name.split(".")[0])
            if changed:
                start, end = span(node)
                edits.append((start, end, f"\n{indent_of(node)}".join(statements)))

    # References through a rewritten `import a.b`: a.b.thing -> new.thing.
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in rebound:
            chain, current = [(node.id, node)], node
            while isinstance(parents.get(current), ast.Attribute):
                parent = parents[current]
                chain.append((f"{chain[-1][0]}.{parent.attr}", parent))
                current = parent
            for dotted, link in reversed(chain):
                if dotted in mapping.modules:
                    start, _ = span(node)
                    _, end = span(link)
                    edits.append((start, end, mapping.modules[dotted]))
                    break

    # Dotted module names in strings, with at least two parts ("common.spark", never "training").
    _, starts = _char_offsets(source)
    string_types = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        tokens = []
    for token in tokens:
        if token.type not in string_types:
            continue

        def replace(match: re.Match) -> str:
            return mapping.resolve(match.group(0), min_parts=2) or match.group(0)

        text = _DOTTED.sub(replace, token.string)
        if text != token.string:
            start = starts[token.start[0] - 1] + token.start[1]
            end = starts[token.end[0] - 1] + token.end[1]
            edits.append((start, end, text))

    result, last = source, len(source) + 1
    for start, end, text in sorted(edits, reverse=True):
        if end > last:
            continue  # overlaps an edit already made
        result = result[:start] + text + result[end:]
        last = start
    return result
