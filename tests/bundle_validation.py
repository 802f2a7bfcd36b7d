"""Offline validation of a rendered Databricks Asset Bundle project.

A bundle must give no error and no warning on every target (DESIGN.md section 5). Without a
workspace we cannot run `databricks bundle validate`, so this module rebuilds what the CLI
would see and checks it five ways:

1. the CLI's published JSON schema (types, unknown fields, required fields, deprecated and
   private-preview fields);
2. the `databricks-bundles` resource classes, which are newer than the vendored schema;
3. local paths (notebooks, Python files) exist relative to the YAML file naming them, and
   notebooks carry the `# Databricks notebook source` header;
4. every `${...}` reference resolves;
5. cheap platform rules the CLI or the API would reject at deploy time, among them that every
   wheel task runs an entry point of a wheel the bundle builds, installed on its compute.

Run it as `python tests/bundle_validation.py PROJECT_DIR`.
"""

from __future__ import annotations

import argparse
import ast
import functools
import glob
import importlib
import inspect
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

import regex
import yaml
from jsonschema import ValidationError, validators

SCHEMA_ENV = "DATABRICKS_BUNDLE_SCHEMA"
REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_SCHEMA = REPO_ROOT.parent / "shared" / "databricks-bundle-schema" / "jsonschema.json"
ROOT_CONFIG_NAMES = ("databricks.yml", "databricks.yaml")
LOAD_ERROR_KEY = "*"  # validate_project's key when the bundle cannot even be loaded

# A bundle reference, as the CLI parses it (libs/dyn/dynvar/ref.go, mirrored by databricks-bundles).
# "$${x}" is an escaped literal for the Databricks runtime, not a reference.
_SEGMENT = r"_*[^\W\d_]+(?:[-_]*[^\W_]+)*"
REFERENCE = re.compile(
    rf"(?<!\$)\$\{{({_SEGMENT}(?:\.{_SEGMENT}(?:\[[0-9]+\])*)*(?:\[[0-9]+\])*)\}}"
)
_ANYTHING_LIKE_A_REFERENCE = re.compile(r"(?<!\$)\$\{([^}]*)\}")
_PATH_TOKEN = re.compile(r"[^.\[\]]+|\[\d+\]")


class BundleError(Exception):
    """The bundle cannot be loaded or merged: the CLI would stop before validating anything."""


# ------------------------------------------------------ schema discovery


def load_schema() -> dict | None:
    """The bundle JSON schema: $DATABRICKS_BUNDLE_SCHEMA, the shared copy, the CLI, else None."""
    if env_path := os.environ.get(SCHEMA_ENV):
        # An explicit setting that points nowhere is a mistake, not a reason to fall back.
        return _read_json(str(Path(env_path).resolve()))
    if SHARED_SCHEMA.is_file():
        return _read_json(str(SHARED_SCHEMA))
    if cli := shutil.which("databricks"):
        return _schema_from_cli(cli)
    return None


@functools.cache
def _read_json(path: str) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


@functools.cache
def _schema_from_cli(cli: str) -> dict | None:
    # The legacy pip `databricks` CLI has no `bundle` command: treat any failure as "no schema".
    try:
        out = subprocess.run(
            [cli, "bundle", "schema"], capture_output=True, text=True, timeout=120, check=True
        )
        return json.loads(out.stdout)
    except (OSError, subprocess.SubprocessError, json.JSONDecodeError):
        return None


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


SCHEMA_MISSING = (
    f"Databricks bundle schema not found: set {SCHEMA_ENV} to a jsonschema.json, "
    f"provide {SHARED_SCHEMA}, or put a `databricks` CLI on PATH (`databricks bundle schema`)."
)


def require_schema() -> dict:
    """For tests: the schema, else skip (locally) or fail (when $CI is set)."""
    import pytest

    schema = load_schema()
    if schema is None:
        if _in_ci():
            pytest.fail(SCHEMA_MISSING + " It is mandatory when CI is set.")
        pytest.skip(SCHEMA_MISSING)
    return schema


# ---------------------------------------------------------- YAML loading


class _Str(str):
    """A YAML string that remembers its file: the CLI resolves relative paths against it."""

    source: Path


def _str_from(text: str, source: Path) -> _Str:
    out = _Str(text)
    out.source = source
    return out


def _located(value: Any, like: Any) -> Any:
    """Give a string computed from `like` the same source file (as the CLI keeps locations)."""
    if isinstance(value, str) and isinstance(like, _Str):
        return _str_from(value, like.source)
    return value


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml parses ~5x faster
    source: Path

    def construct_located_str(self, node: yaml.ScalarNode) -> _Str:
        return _str_from(self.construct_scalar(node), self.source)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        # Go's YAML parser (the CLI's) rejects duplicate keys; PyYAML silently keeps the last.
        keys = Counter(k.value for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
        if dupes := sorted(k for k, n in keys.items() if n > 1):
            raise BundleError(f"{self.source}:{node.start_mark.line + 1}: duplicate key(s) {dupes}")
        return super().construct_mapping(node, deep)


_Loader.add_constructor("tag:yaml.org,2002:str", _Loader.construct_located_str)


def _load_yaml(path: Path) -> dict:
    loader = _Loader(path.read_text(encoding="utf-8"))
    loader.source = path
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise BundleError(f"{path}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BundleError(f"{path}: top level must be a mapping")
    return data


def _plain(node: Any) -> Any:
    """Drop the source files from strings, so callers get ordinary YAML-able data."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return str(node) if isinstance(node, str) else node


# --------------------------------------------------------------- merging


def _merge(base: Any, override: Any, where: str = "") -> Any:
    """The CLI's merge: maps merge recursively, sequences concatenate, scalars are replaced."""
    if override is None:
        return base
    if base is None:
        return override
    if _kind(base) != _kind(override):
        raise BundleError(
            f"{where or 'root'}: cannot merge a {_kind(base)} with a {_kind(override)}"
        )
    if isinstance(base, dict):
        out = dict(base)
        for key, value in override.items():
            out[key] = _merge(out.get(key), value, f"{where}.{key}".lstrip("."))
        return out
    if isinstance(base, list):
        return base + override
    return override


def _kind(value: Any) -> str:
    return "map" if isinstance(value, dict) else "sequence" if isinstance(value, list) else "scalar"


def _root_config(project_dir: Path) -> Path:
    for name in ROOT_CONFIG_NAMES:
        if (project_dir / name).is_file():
            return project_dir / name
    raise BundleError(f"{project_dir}: no {' or '.join(ROOT_CONFIG_NAMES)}")


def _included_files(project_dir: Path, root_file: Path, patterns: list) -> list[Path]:
    """Files matched by `include`, in pattern order, each pattern's matches sorted (Go's Glob)."""
    seen, files = {root_file.name}, []
    for pattern in patterns or []:
        if os.path.isabs(pattern):
            raise BundleError(f"include {pattern!r}: includes must be relative paths")
        matches = sorted(glob.glob(pattern, root_dir=project_dir, include_hidden=True))
        if not matches and not glob.has_magic(pattern):
            raise BundleError(f"include {pattern!r}: file not found")
        for rel in matches:
            if rel in seen:
                continue
            seen.add(rel)
            if not rel.endswith((".yml", ".yaml")):
                raise BundleError(
                    f"include {pattern!r} matches {rel}: only YAML files can be included"
                )
            files.append(project_dir / rel)
    return files


def _record_resources(data: dict, path: Path, sources: dict[str, Path]) -> None:
    for rtype, items in (data.get("resources") or {}).items():
        for key in items or {}:
            name = f"resources.{rtype}.{key}"
            if name in sources:
                raise BundleError(f"{name} is defined twice: in {sources[name]} and in {path}")
            sources[name] = path


def _load_root(project_dir: Path) -> tuple[dict, dict[str, Path]]:
    """databricks.yml with every included file merged in, and where each resource is defined."""
    root_file = _root_config(project_dir)
    root = _load_yaml(root_file)
    sources: dict[str, Path] = {}
    _record_resources(root, root_file, sources)
    for path in _included_files(project_dir, root_file, root.get("include")):
        data = _load_yaml(path)
        if data.get("include"):
            raise BundleError(f"{path}: `include` is only allowed in {root_file.name}")
        _record_resources(data, path, sources)
        root = _merge(root, data)
    _check_unique_resource_keys(sources)
    return root, sources


def _check_unique_resource_keys(sources: dict[str, Path]) -> None:
    # The CLI refuses two resources with the same key, even of different types.
    by_key = defaultdict(list)
    for name in sources:
        by_key[name.split(".", 2)[2]].append(name)
    for key, names in by_key.items():
        if len(names) > 1:
            raise BundleError(f"multiple resources have the same key {key!r}: {', '.join(names)}")


def bundle_targets(project_dir: Path) -> list[str]:
    """Target names, in file order; the CLI's implicit "default" target when none is declared."""
    root, _ = _load_root(Path(project_dir))
    return list(root.get("targets") or {}) or ["default"]


# Target fields merged into the root 1:1; other target fields are handled one by one.
_TARGET_MERGED_FIELDS = [
    "bundle",
    "workspace",
    "artifacts",
    "resources",
    "sync",
    "permissions",
    "presets",
]
# Sequences whose elements the CLI merges by key after appending the target's ones.
_KEYED_SEQUENCES = {
    ("jobs", "tasks"): "task_key",
    ("jobs", "job_clusters"): "job_cluster_key",
    ("jobs", "parameters"): "name",
    ("pipelines", "clusters"): "label",
}
_FULL_VARIABLE_OVERRIDES = (
    {"default", "type", "description"},
    {"default", "type"},
    {"default", "description"},
    {"lookup", "description"},
    {"default"},
    {"lookup"},
)


def _apply_target(root: dict, name: str) -> dict:
    targets = root.get("targets") or {}
    if targets and name not in targets:
        raise BundleError(f"target {name!r} not found (targets: {', '.join(targets)})")
    target = targets.get(name) or {}
    merged = {k: v for k, v in root.items() if k != "targets"}
    for field in _TARGET_MERGED_FIELDS:
        if field in target:
            merged[field] = _merge(merged.get(field), target[field], field)
    bundle = dict(merged.get("bundle") or {})
    for field in ("mode", "cluster_id", "compute_id"):  # overwritten, not merged
        if field in target:
            bundle[field] = target[field]
    if "git" in target:
        bundle["git"] = _merge(bundle.get("git"), target["git"], "bundle.git")
    merged["bundle"] = bundle
    if "run_as" in target:
        merged["run_as"] = target["run_as"]
    merged["variables"] = _override_variables(
        merged.get("variables") or {}, target.get("variables") or {}
    )
    return merged


def _override_variables(declared: dict, overrides: dict) -> dict:
    """Target variable values replace the declared default (or lookup), as the CLI does."""
    if bad := [name for name, decl in declared.items() if not isinstance(decl, dict | None)]:
        raise BundleError(f"variables {bad} must be mappings (with a default, lookup, ...)")
    out = {name: dict(decl or {}) for name, decl in declared.items()}
    for name, value in overrides.items():
        if name not in out:
            raise BundleError(f"variable {name} is not defined but is assigned a value")
        if value is None:
            continue
        if not (isinstance(value, dict) and set(value) in _FULL_VARIABLE_OVERRIDES):
            value = {"default": value}  # the shorthand `name: value`
        if "default" in value:
            out[name]["default"] = value["default"]
            out[name].pop("lookup", None)
        if "lookup" in value:
            out[name]["lookup"] = value["lookup"]
            out[name].pop("default", None)
    return out


def _merge_keyed_sequences(tree: dict) -> dict:
    """Merge tasks etc. by key, in place: call it on a fresh tree, not on the loaded files."""
    for (rtype, field), key in _KEYED_SEQUENCES.items():
        for _, _, body in _resources(tree, rtype):
            if isinstance(body.get(field), list):
                body[field] = _merge_by_key(body[field], key)
    return tree


def _merge_by_key(items: list, key: str) -> list:
    merged: dict = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            merged[("#", i)] = item  # e.g. "${var.tasks}": nothing to merge
            continue
        k = item.get(key) or ("default" if key == "label" else "")
        merged[k] = _merge(merged[k], item) if k in merged else item
    return list(merged.values())


# ------------------------------------------------------------- variables


_UNRESOLVED = object()


def _variable_values(variables: dict) -> dict[str, Any]:
    """Each variable's value, references between variables resolved. Lookups stay `${var.x}`."""
    values = {}
    for name, decl in variables.items():
        if "default" in decl:
            values[name] = decl["default"]
        elif "lookup" not in decl:
            raise BundleError(f"no value assigned to required variable {name}")
    for _ in range(len(values) + 1):
        resolved = {name: _substitute(value, values) for name, value in values.items()}
        if resolved == values:
            break
        values = resolved
    for name, value in values.items():
        for ref in _strings(value):
            if any(_var_name(m.group(1)) in values for m in REFERENCE.finditer(ref)):
                raise BundleError(f"variable {name} references itself through {ref!r} (a cycle)")
    return values


def _var_name(path: str) -> str | None:
    return path.split(".")[1].split("[")[0] if path.startswith("var.") else None


def _var_value(path: str, values: dict) -> Any:
    """The value of `var.name[.field...]`, or _UNRESOLVED (undeclared or lookup)."""
    name = _var_name(path)
    if name not in values:
        return _UNRESOLVED
    value = values[name]
    for token in _PATH_TOKEN.findall(path)[2:]:  # fields of a complex variable
        key = int(token[1:-1]) if token.startswith("[") else token
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            raise BundleError(f"${{{path}}}: variable {name} has no {token!r}") from None
    return value


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _substitute(node: Any, values: dict, typed: bool = True) -> Any:
    """Replace `${var.*}` everywhere; a whole-string reference takes the value's type.

    With typed=False such a reference to a bool or number stays a reference: the CLI converts
    it to the field's type (true -> "true" for a string field), which only the field knows.
    """
    if isinstance(node, dict):
        return {k: _substitute(v, values, typed) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, values, typed) for v in node]
    if not isinstance(node, str) or "${" not in node:
        return node
    if whole := REFERENCE.fullmatch(node):
        value = _var_value(whole.group(1), values)
        if value is _UNRESOLVED or not (typed or isinstance(value, (str, dict, list))):
            return node
        return _located(value, node)

    def replace(match: re.Match) -> str:
        value = _var_value(match.group(1), values)
        if value is _UNRESOLVED:
            return match.group(0)
        if isinstance(value, (dict, list)):
            raise BundleError(
                f"{node!r}: cannot put the non-scalar {match.group(0)} inside a string"
            )
        return _scalar_text(value)

    return _located(REFERENCE.sub(replace, node), node)


# ---------------------------------------------------------- public merge


@dataclass
class _Bundle:
    """One target's merged bundle, with what the checks need besides the tree."""

    project_dir: Path
    target: str
    tree: dict  # variables substituted; strings are _Str, they know their source file
    schema_tree: dict  # the same, but see _substitute(typed=False)
    sources: dict[str, Path]
    targets: dict  # every target's raw definition


def _build(project_dir: Path, root: dict, sources: dict[str, Path], target: str) -> _Bundle:
    merged = _apply_target(root, target)
    values = _variable_values(merged.get("variables") or {})
    # _substitute builds new containers, which the merge by key may then change.
    tree = _merge_keyed_sequences(_substitute(merged, values))
    schema_tree = _merge_keyed_sequences(_substitute(merged, values, typed=False))
    sources = _with_target_resources(tree, sources)
    return _Bundle(project_dir, target, tree, schema_tree, sources, root.get("targets") or {})


def _with_target_resources(tree: dict, sources: dict[str, Path]) -> dict[str, Path]:
    """Add the resources only a target defines: their YAML key remembers its file."""
    out = dict(sources)
    for rtype, items in (tree.get("resources") or {}).items():
        for key in items or {}:
            out.setdefault(f"resources.{rtype}.{key}", key.source)
    return out


def merge_bundle(project_dir: Path, target: str) -> tuple[dict, dict[str, Path]]:
    """The bundle as the CLI sees it for `target` (targets removed), and each resource's YAML file.

    Raises BundleError when the CLI would fail to load or merge it.
    """
    project_dir = Path(project_dir)
    bundle = _build(project_dir, *_load_root(project_dir), target)
    return _plain(bundle.tree), bundle.sources


# ---------------------------------------------------------- tree helpers


def _dotted(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out.lstrip(".")


def _walk(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Every (path, value) in the tree, depth first."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*path, i))


def _strings(node: Any) -> Iterator[str]:
    return (v for _, v in _walk(node) if isinstance(v, str))


def _at(node: Any, steps: list[str], path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Values at a path like ["tasks[]", "notebook_task", "notebook_path"] ("[]": each item)."""
    if not steps:
        yield path, node
        return
    step, rest = steps[0], steps[1:]
    key = step.removesuffix("[]")
    value = node.get(key) if isinstance(node, dict) else None
    if value is None:
        return
    if step.endswith("[]"):
        for i, item in enumerate(value if isinstance(value, list) else []):
            yield from _at(item, rest, (*path, key, i))
    else:
        yield from _at(value, rest, (*path, key))


def _resources(tree: dict, only: str | None = None) -> Iterator[tuple[str, str, dict]]:
    """(type, key, body) of every resource (of type `only`), an empty body as {}."""
    for rtype, items in (tree.get("resources") or {}).items():
        for key, body in (items or {}).items() if rtype == (only or rtype) else ():
            if isinstance(body, dict) or body is None:
                yield rtype, key, body or {}


# ------------------------------------------------------- check 1: schema


@functools.cache
def _compiled_pattern(pattern: str) -> regex.Pattern:
    return regex.compile(pattern)


def _pattern(validator, pattern: str, instance: Any, schema: dict) -> Iterator[ValidationError]:
    # The schema's patterns use \p{L}, which Python's `re` lacks.
    if validator.is_type(instance, "string") and not _compiled_pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_VALIDATORS: dict[int, tuple[dict, Any]] = {}


def _schema_validator(schema: dict):
    """One compiled validator per schema object per process (keeps the schema alive)."""
    if id(schema) not in _VALIDATORS:
        base = validators.validator_for(schema, default=validators.Draft7Validator)
        _VALIDATORS[id(schema)] = (schema, validators.extend(base, {"pattern": _pattern})(schema))
    return _VALIDATORS[id(schema)][1]


def _schema_instance(bundle: _Bundle) -> dict:
    """What the schema describes: the merged bundle minus CLI-internal fields, plus this target."""
    tree = dict(bundle.schema_tree)
    tree["bundle"] = {k: v for k, v in (tree.get("bundle") or {}).items() if k != "mode"}
    if bundle.targets:
        tree["targets"] = {bundle.target: bundle.targets.get(bundle.target) or {}}
    return tree


def _explain(error: ValidationError) -> list[str]:
    """Readable messages. A oneOf/anyOf failure hides the real reason in the right-typed branch."""
    where = _dotted(error.absolute_path) or "(root)"
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [f"{where}: {error.message}"]
    branches = defaultdict(list)
    for sub in error.context:
        branches[sub.relative_schema_path[0]].append(sub)
    for subs in branches.values():
        # A branch rejecting the value itself for its type or `${...}` pattern is the wrong branch.
        if not any(s.validator in ("type", "pattern") and not s.relative_path for s in subs):
            return [msg for s in subs for msg in _explain(s)]
    expected = sorted(
        {str(b.get("type")) for b in error.validator_value if b.get("type") and "pattern" not in b}
    )
    wanted = " or ".join(expected) or "valid"
    return [f"{where}: {error.instance!r} is not {wanted} (nor a ${{...}} reference)"]


def _check_schema(bundle: _Bundle, schema: dict) -> list[str]:
    instance = _schema_instance(bundle)
    errors = sorted(
        _schema_validator(schema).iter_errors(instance),
        key=lambda e: list(map(str, e.absolute_path)),
    )
    return [msg for e in errors for msg in _explain(e)]


def _resolve_ref(schema: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _branch_for(schema: dict, node: dict, value: Any) -> dict:
    """The object/array alternative of a `oneOf` (the others are `${...}` strings)."""
    node = _resolve_ref(schema, node)
    wanted = "object" if isinstance(value, dict) else "array" if isinstance(value, list) else None
    for alt in node.get("oneOf", node.get("anyOf", [])):
        alt = _resolve_ref(schema, alt)
        if alt.get("type") == wanted:
            return alt
    return node


def _schema_field_notes(
    schema: dict, node: dict, value: Any, path: tuple = ()
) -> Iterator[tuple[str, str]]:
    """(path, note) for every field the schema marks deprecated or private preview."""
    node = _branch_for(schema, node, value)
    if isinstance(value, list) and "items" in node:
        for i, item in enumerate(value):
            yield from _schema_field_notes(schema, node["items"], item, (*path, i))
    if not isinstance(value, dict):
        return
    props, extra = node.get("properties", {}), node.get("additionalProperties")
    for key, item in value.items():
        sub = props.get(key, extra if isinstance(extra, dict) else None)
        if sub is None:
            continue
        if key in props and (note := _schema_note(sub)):
            yield _dotted((*path, key)), note
        yield from _schema_field_notes(schema, sub, item, (*path, key))


def _schema_note(prop: dict) -> str | None:
    if prop.get("deprecated") or "deprecationMessage" in prop:
        return f"deprecated ({prop.get('deprecationMessage', 'schema')})"
    if prop.get("doNotSuggest"):
        return f"not generally available ({prop.get('x-databricks-launch-stage', 'doNotSuggest')})"
    return None


# ------------------------------------------- check 2: databricks-bundles


@functools.cache
def _resource_class(rtype: str) -> type | None:
    """databricks-bundles class for a resource type ("jobs" -> Job), from the package's registry.

    Looked up one type at a time: importing every resource module costs about a second.
    """
    try:
        registry = importlib.import_module(f"databricks.bundles.core._generated.{rtype}")
    except ImportError:
        return None
    return registry._resource_type().resource_type


def _load_resource_objects(bundle: _Bundle) -> tuple[dict[str, Any], list[str]]:
    """Build every resource with its databricks-bundles class; from_dict rejects unknown fields."""
    objects, errors = {}, []
    for rtype, key, body in _resources(_plain(bundle.tree)):
        cls = _resource_class(rtype)
        if cls is None:
            continue  # only the schema knows this type
        try:
            objects[f"resources.{rtype}.{key}"] = cls.from_dict(body)
        except (TypeError, ValueError, KeyError) as exc:
            errors.append(f"resources.{rtype}.{key}: {exc} (databricks-bundles {cls.__name__})")
    return objects, errors


_DEPRECATED_DOC = re.compile(r"\[DEPRECATED\]|\(Deprecated\b|\bDEPRECATED\b|^\s*Deprecated\b", re.M)


@functools.cache
def _deprecated_fields(cls: type) -> dict[str, str]:
    """Fields whose attribute docstring says deprecated: the package marks them no other way."""
    try:
        body = ast.parse(inspect.getsource(cls)).body[0].body
    except (OSError, TypeError):  # no source shipped: no docstrings to read
        return {}
    notes = {}
    for stmt, doc in itertools.pairwise(body):
        if (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(doc, ast.Expr)
            and isinstance(doc.value, ast.Constant)
        ):
            text = " ".join(str(doc.value.value).split())
            if _DEPRECATED_DOC.search(text):
                # "Deprecated: use X instead" is the useful part when the docstring has one.
                notes[stmt.target.id] = text[max(text.find("Deprecated:"), 0) :][:200]
    return notes


def _object_field_notes(obj: Any, path: str) -> Iterator[tuple[str, str]]:
    from databricks.bundles.core import Variable

    if isinstance(obj, Variable):
        return
    if is_dataclass(obj):
        deprecated = _deprecated_fields(type(obj))
        for f in fields(obj):
            value = getattr(obj, f.name)
            if value is None or value == [] or value == {}:
                continue
            if f.name in deprecated:
                yield f"{path}.{f.name}", f"deprecated ({deprecated[f.name]})"
            yield from _object_field_notes(value, f"{path}.{f.name}")
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from _object_field_notes(item, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from _object_field_notes(item, f"{path}.{key}")


def _check_field_notes(bundle: _Bundle, schema: dict | None, objects: dict[str, Any]) -> list[str]:
    """Deprecated / not-GA fields, from the schema and from databricks-bundles (newer) alike."""
    notes: dict[str, str] = {}
    if schema is not None:
        notes.update(_schema_field_notes(schema, schema, _schema_instance(bundle)))
    for name, obj in objects.items():
        notes.update(_object_field_notes(obj, name))  # the package's message names the replacement
    return [f"{path}: field is {note}" for path, note in sorted(notes.items())]


# -------------------------------------------------- check 3: local paths


# Fields holding local paths the CLI uploads, per resource type: (path in the resource, kind).
_LOCAL_PATHS = {
    "jobs": [
        ("tasks[].notebook_task.notebook_path", "notebook"),
        ("tasks[].for_each_task.task.notebook_task.notebook_path", "notebook"),
        ("tasks[].spark_python_task.python_file", "file"),
        ("tasks[].for_each_task.task.spark_python_task.python_file", "file"),
        ("tasks[].sql_task.file.path", "file"),
        ("tasks[].dbt_task.project_directory", "directory"),
        ("tasks[].libraries[].requirements", "file"),
    ],
    "pipelines": [("libraries[].notebook.path", "notebook"), ("libraries[].file.path", "file")],
    "apps": [("source_code_path", "directory")],
    "dashboards": [("file_path", "file")],
}
_NOTEBOOK_HEADERS = {
    ".py": "# Databricks notebook source",
    ".r": "# Databricks notebook source",
    ".sql": "-- Databricks notebook source",
    ".scala": "// Databricks notebook source",
}


def _is_remote(path: str) -> bool:
    return path.startswith("/") or "${" in path or re.match(r"^[A-Za-z][\w+.-]*:", path) is not None


def _notebook_header_ok(path: Path) -> bool:
    if path.suffix.lower() == ".ipynb":
        return True
    header = _NOTEBOOK_HEADERS.get(path.suffix.lower())
    with path.open(encoding="utf-8", errors="replace") as fh:
        return header is not None and fh.readline().rstrip("\r\n") == header


def _path_error(bundle: _Bundle, value: str, kind: str, fallback: Path) -> str | None:
    source = value.source if isinstance(value, _Str) else fallback
    resolved = (source.parent / value).resolve()
    root = bundle.project_dir.resolve()
    shown = f"{value!s} (relative to {source.relative_to(bundle.project_dir)})"
    if not resolved.is_relative_to(root):
        return f"{shown} points outside the bundle root"
    if not (resolved.is_dir() if kind == "directory" else resolved.is_file()):
        return f"{shown} not found: no {kind} at {resolved.relative_to(root)}"
    if kind == "notebook" and not _notebook_header_ok(resolved):
        first = _NOTEBOOK_HEADERS.get(resolved.suffix.lower(), "a notebook extension")
        return f"{shown} is not a notebook: its first line must be {first!r}"
    if kind == "file" and resolved.suffix.lower() == ".py" and _notebook_header_ok(resolved):
        return f"{shown} is a notebook, not a file: use a notebook_task"
    return None


def _check_local_paths(bundle: _Bundle) -> list[str]:
    errors = []
    for rtype, key, body in _resources(bundle.tree):
        if body.get("git_source"):
            continue  # paths of a git-sourced job live in the repository, not here
        name = f"resources.{rtype}.{key}"
        for spec, kind in _LOCAL_PATHS.get(rtype, []):
            for path, value in _at(body, spec.split(".")):
                if not isinstance(value, str) or _is_remote(value):
                    continue
                if problem := _path_error(bundle, value, kind, bundle.sources[name]):
                    errors.append(f"{name}.{_dotted(path)}: {problem}")
    return errors


# --------------------------------------------------- check 4: references


# Fields the CLI fills in itself: `${bundle.<f>}` / `${workspace.<f>}` resolve without being set.
_CLI_FILLED = {
    "bundle": ["name", "target", "environment", "git", "mode"],
    "workspace": [
        *["root_path", "file_path", "artifact_path", "state_path", "resource_path"],
        *["host", "current_user"],
    ],
}
# SCIM user fields, plus short_name and domain_friendly_name which the CLI adds.
_CURRENT_USER_FIELDS = [
    *["userName", "displayName", "id", "active", "emails", "entitlements", "externalId"],
    *["groups", "name", "roles", "schemas", "short_name", "domain_friendly_name"],
]


def _exists(tree: Any, parts: list[str]) -> bool:
    for part in parts:
        if isinstance(tree, dict) and part in tree:
            tree = tree[part]
        elif isinstance(tree, list) and part.startswith("[") and int(part[1:-1]) < len(tree):
            tree = tree[int(part[1:-1])]
        else:
            return False
    return True


def _reference_error(ref: str, bundle: _Bundle) -> str | None:
    parts, tree = _PATH_TOKEN.findall(ref), bundle.tree
    head = parts[0]
    if head == "var":
        ok, why = parts[1] in (tree.get("variables") or {}), "refers to an undeclared variable"
    elif head == "resources" and len(parts) < 4:
        ok, why = False, "must name a field of a resource, e.g. ${resources.jobs.<key>.id}"
    elif head == "resources":
        ok, why = _exists(tree, parts[:3]), "names a resource that does not exist"
    elif head == "workspace" and parts[1] == "current_user":
        ok, why = parts[2:3] and parts[2] in _CURRENT_USER_FIELDS, "is not a field of current_user"
    elif head in _CLI_FILLED:
        ok, why = parts[1] in _CLI_FILLED[head] or _exists(tree, parts), "does not exist"
    elif head == "artifacts":
        ok, why = _exists(tree, parts[:2]), "names an artifact that does not exist"
    else:
        ok, why = False, "is not a known reference (var, resources, bundle, workspace, artifacts)"
    return None if ok else why


def _check_references(bundle: _Bundle) -> list[str]:
    errors = []
    for path, value in _walk(bundle.tree):
        if not isinstance(value, str):
            continue
        for match in _ANYTHING_LIKE_A_REFERENCE.finditer(value):
            if not REFERENCE.fullmatch(match.group(0)):
                problem = "is not a reference: references are dotted paths, not expressions"
            else:
                problem = _reference_error(match.group(1), bundle)
            if problem:
                errors.append(f"{_dotted(path)}: {match.group(0)} {problem}")
    return errors


# ----------------------------------------------- check 5: platform rules


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# Runtime keys look like 15.4.x-scala2.12, 15.4.x-cpu-ml-scala2.12, 15.4.x-aarch64-photon-scala2.12;
# from Databricks Runtime 18 on, a runtime is named by its major alone: 18.x-cpu-ml-scala2.13.
_SPARK_VERSION = re.compile(r"^\d+(\.\d+)?\.x-(aarch64-)?((cpu|gpu)-ml-|photon-)?scala\d+\.\d+$")


_RUN_AS_IDENTITIES = ("user_name", "service_principal_name", "group_name")


def _mode_rules(bundle: _Bundle) -> Iterator[str]:
    mode = (bundle.tree.get("bundle") or {}).get("mode")
    if mode not in (None, "development", "production"):
        yield f"targets.{bundle.target}.mode: {mode!r} must be 'development' or 'production'"
    if mode == "production":
        if not (bundle.tree.get("workspace") or {}).get("root_path"):
            yield f"targets.{bundle.target}: mode: production requires workspace.root_path"
        for _, key, body in _resources(bundle.tree, "pipelines"):
            if body.get("development") is True:
                yield f"resources.pipelines.{key}.development: not allowed with mode: production"


def _run_as_rules(bundle: _Bundle) -> Iterator[str]:
    places = [("run_as", bundle.tree.get("run_as"))]
    places += [
        (f"resources.jobs.{k}.run_as", b.get("run_as"))
        for _, k, b in _resources(bundle.tree, "jobs")
    ]
    for where, run_as in places:
        if not isinstance(run_as, dict):
            continue
        if sum(bool(run_as.get(k)) for k in _RUN_AS_IDENTITIES) != 1:
            yield f"{where}: must set exactly one of {', '.join(_RUN_AS_IDENTITIES)}"
        sp = run_as.get("service_principal_name")
        if isinstance(sp, str) and "${" not in sp and not _UUID.match(sp):
            yield f"{where}.service_principal_name: {sp!r} must be the application ID (a UUID)"


def _default_target_rules(bundle: _Bundle) -> Iterator[str]:
    defaults = [
        name
        for name, t in bundle.targets.items()
        if isinstance(t, dict) and t.get("default") is True
    ]
    if len(defaults) > 1:
        yield f"targets: more than one default target ({', '.join(defaults)})"


def _serving_route_rules(bundle: _Bundle) -> Iterator[str]:
    for _, key, body in _resources(bundle.tree, "model_serving_endpoints"):
        config = body.get("config") or {}
        served = [*(config.get("served_entities") or []), *(config.get("served_models") or [])]
        names = {entity.get("name") for entity in served if isinstance(entity, dict)}
        for path, route in _at(config, ["traffic_config", "routes[]"]):
            route = route if isinstance(route, dict) else {}
            to = route.get("served_entity_name") or route.get("served_model_name")
            if to not in names:
                yield (
                    f"resources.model_serving_endpoints.{key}.config.{_dotted(path)}: routes to "
                    f"{to!r}, which no served entity is named (set served_entities[].name)"
                )


def _spark_version_rules(bundle: _Bundle) -> Iterator[str]:
    for path, value in _walk(bundle.tree.get("resources") or {}, ("resources",)):
        if path[-1:] != ("spark_version",) or not isinstance(value, str) or "${" in value:
            continue
        if not value.startswith("custom:") and not _SPARK_VERSION.match(value):
            yield (
                f"{_dotted(path)}: {value!r} is not a runtime key "
                "(ML runtimes look like 15.4.x-cpu-ml-scala2.12)"
            )


def _single_node_rules(bundle: _Bundle) -> Iterator[str]:
    """The CLI's warning for a job cluster without workers that is not set up as a single node
    (bundle/config/validate/single_node_cluster.go)."""
    for _, key, body in _resources(bundle.tree, "jobs"):
        clusters = [c.get("new_cluster") for c in body.get("job_clusters") or []]
        clusters += [t.get("new_cluster") for t in body.get("tasks") or []]
        for cluster in clusters:
            if not isinstance(cluster, dict) or cluster.get("num_workers", 1) != 0:
                continue
            if cluster.get("is_single_node") is True or cluster.get("policy_id"):
                continue
            conf, tags = cluster.get("spark_conf") or {}, cluster.get("custom_tags") or {}
            if not (
                conf.get("spark.databricks.cluster.profile") == "singleNode"
                and str(conf.get("spark.master", "")).startswith("local")
                and tags.get("ResourceClass") == "SingleNode"
            ):
                yield (
                    f"resources.jobs.{key}: a cluster with num_workers 0 is not configured as a "
                    "single node (spark_conf profile singleNode, spark.master local[*], "
                    "custom_tags ResourceClass SingleNode)"
                )


def _file_arrival_rules(bundle: _Bundle) -> Iterator[str]:
    volumes = {key: body for _, key, body in _resources(bundle.tree, "volumes")}
    roots = [
        f"/Volumes/{v.get('catalog_name')}/{v.get('schema_name')}/{v.get('name')}/"
        for v in volumes.values()
    ]
    refs = [f"${{resources.volumes.{key}." for key in volumes]
    for _, key, body in _resources(bundle.tree, "jobs"):
        for _, url in _at(body, ["trigger", "file_arrival", "url"]):
            inside = any(f"{url}/".startswith(root) for root in roots)
            if not inside and not any(ref in str(url) for ref in refs):
                yield (
                    f"resources.jobs.{key}.trigger.file_arrival.url: {url!r} is not inside "
                    "a volume declared in resources.volumes"
                )


# Where a job names libraries: a task's own, and the packages of a serverless environment.
_TASK_WHEELS = ["libraries[]", "whl"]
_ENVIRONMENT_PACKAGES = ["spec", "dependencies[]"]


def _is_local_library(value: Any) -> bool:
    """A library the CLI uploads from the bundle (relative path), not a PyPI or workspace one."""
    return isinstance(value, str) and not _is_remote(value) and value.startswith(".")


def _wheel_projects(bundle: _Bundle) -> dict[Path, dict]:
    """The Python projects the bundle builds (`artifacts` of type whl): their dist/ folder ->
    their pyproject.toml [project] table."""
    projects = {}
    for key, artifact in (bundle.tree.get("artifacts") or {}).items():
        if not isinstance(artifact, dict) or artifact.get("type") != "whl":
            continue
        # `path` is relative to the file that declares the artifact; the bundle root by default.
        folder = (bundle.project_dir / str(artifact.get("path") or ".")).resolve()
        pyproject = folder / "pyproject.toml"
        if not pyproject.is_file():
            raise BundleError(f"artifacts.{key}: no pyproject.toml in {folder}")
        projects[folder / "dist"] = tomllib.loads(pyproject.read_text()).get("project") or {}
    return projects


def _wheel_task_rules(bundle: _Bundle) -> Iterator[str]:
    """Every python_wheel_task runs a wheel the bundle builds, through an entry point that wheel
    declares, and its compute installs that wheel: the task's libraries on a cluster, the task's
    environment on serverless."""
    projects = _wheel_projects(bundle)
    names = {project.get("name"): project for project in projects.values()}
    for _, key, body in _resources(bundle.tree, "jobs"):
        name = f"resources.jobs.{key}"
        source = bundle.sources[name]
        environments = {
            env.get("environment_key"): env
            for env in body.get("environments") or []
            if isinstance(env, dict)
        }
        for path, task in _at(body, ["tasks[]"]):
            wheel_task = task.get("python_wheel_task") if isinstance(task, dict) else None
            if not isinstance(wheel_task, dict):
                continue
            where = f"{name}.{_dotted(path)}"
            package, entry = wheel_task.get("package_name"), wheel_task.get("entry_point")
            project = names.get(package)
            if project is None:
                yield (
                    f"{where}.python_wheel_task.package_name: {package!r} is not the name of a "
                    f"wheel the bundle builds ({', '.join(map(str, names)) or 'no whl artifacts'})"
                )
                continue
            if entry not in (project.get("scripts") or {}):
                yield (
                    f"{where}.python_wheel_task.entry_point: {entry!r} is not an entry point of "
                    f"{package} (pyproject.toml [project.scripts])"
                )
            serverless = not any(task.get(k) for k in _TASK_COMPUTE)
            if serverless:
                environment = environments.get(task.get("environment_key"))
                if environment is None:
                    yield (
                        f"{where}: a wheel task on serverless compute needs an environment_key "
                        "naming one of the job's environments"
                    )
                    continue
                libraries = [value for _, value in _at(environment, _ENVIRONMENT_PACKAGES)]
            else:
                libraries = [value for _, value in _at(task, _TASK_WHEELS)]
            built = [
                value
                for value in libraries
                if _is_local_library(value)
                and (source.parent / str(value)).resolve().parent in projects
            ]
            if not built:
                yield (
                    f"{where}: {'its environment does' if serverless else 'its libraries do'} "
                    f"not install the wheel of {package} (a path into its dist/ folder)"
                )


# A task's own compute: without one of these, a job task runs on serverless compute.
_TASK_COMPUTE = ("job_cluster_key", "new_cluster", "existing_cluster_id", "compute_key")


_PLATFORM_RULES = (
    _mode_rules,
    _run_as_rules,
    _default_target_rules,
    _serving_route_rules,
    _spark_version_rules,
    _single_node_rules,
    _file_arrival_rules,
    _wheel_task_rules,
)


def _check_platform(bundle: _Bundle) -> list[str]:
    return [msg for rule in _PLATFORM_RULES for msg in rule(bundle)]


# ---------------------------------------------------------- entry points


def _validate_target(bundle: _Bundle, schema: dict | None) -> list[str]:
    objects, class_errors = _load_resource_objects(bundle)
    errors = _check_schema(bundle, schema) if schema is not None else []
    errors += class_errors
    errors += _check_field_notes(bundle, schema, objects)
    errors += _check_local_paths(bundle)
    errors += _check_references(bundle)
    errors += _check_platform(bundle)
    return list(dict.fromkeys(errors))  # the same problem can surface twice: report it once


def validate_project(project_dir: Path, schema: dict | None) -> dict[str, list[str]]:
    """Errors per target (empty list = clean). The schema check is skipped when schema is None.

    A bundle that cannot be loaded at all is reported under the key "*".
    """
    project_dir = Path(project_dir)
    try:
        root, sources = _load_root(project_dir)
    except BundleError as exc:
        return {LOAD_ERROR_KEY: [str(exc)]}
    results = {}
    for target in list(root.get("targets") or {}) or ["default"]:
        try:
            results[target] = _validate_target(_build(project_dir, root, sources, target), schema)
        except BundleError as exc:
            results[target] = [str(exc)]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project_dir", type=Path)
    args = parser.parse_args(argv)
    schema = load_schema()
    if schema is None:
        print(f"SCHEMA NOT FOUND - schema check skipped. {SCHEMA_MISSING}")
    failed = schema is None and _in_ci()
    for target, errors in validate_project(args.project_dir, schema).items():
        print(f"[{target}] {'OK' if not errors else f'{len(errors)} error(s)'}")
        for error in errors:
            print(f"  - {error}")
        failed = failed or bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
