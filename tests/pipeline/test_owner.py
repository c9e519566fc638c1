"""pipeline/dataset.py is the one owner of a dataset folder: nothing else in the package names its
metadata files or builds and takes apart its keys and ids by hand. The check reads every source
file's syntax tree (docstrings and comments may name the files freely), so a re-derivation, the
kind the harden naming and holdout bugs lived in, fails here with its file and line."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_FOLDERS = ("pipeline", "commands", "trainer", "generators", "rewards", "bench")
OWNER = Path("pipeline/dataset.py")
FILE_NAMES = ("manifest.json", "build_report.json", ".build")  # .build: the folder of the sidecars
TAKE_APART = {"split", "rsplit", "partition", "rpartition", "count"}
SEPARATORS = {"/", "-"}
# Names that hold a shard key, a sample id or a composition key in this code base.
KEYISH = re.compile(r"key|(^|[._'\"])id\b|sample|shard|composition|filename")


def docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def slash_joined(node: ast.JoinedStr) -> list[tuple[str, str]]:
    """(left, right) source of each pair of values an f-string joins with exactly ``/``."""
    parts = node.values
    return [
        (ast.unparse(left.value), ast.unparse(right.value))
        for left, middle, right in zip(parts, parts[1:], parts[2:])
        if isinstance(left, ast.FormattedValue)
        and isinstance(right, ast.FormattedValue)
        and isinstance(middle, ast.Constant)
        and middle.value == "/"
    ]


def string_violations(node: ast.Constant) -> list[str]:
    found = [f"names {name}" for name in FILE_NAMES if name in node.value]
    return found + (["spells a shard file name"] if "-of-" in node.value else [])


def call_violations(node: ast.Call) -> list[str]:
    if not isinstance(node.func, ast.Attribute):
        return []
    if node.func.attr in TAKE_APART and node.args:
        receiver, separator = ast.unparse(node.func.value), node.args[0]
        if isinstance(separator, ast.Constant) and separator.value in SEPARATORS and KEYISH.search(receiver):
            return [f"takes {receiver} apart at {separator.value!r}"]
    if node.func.attr == "join" and isinstance(node.func.value, ast.Constant):
        joined = " ".join(ast.unparse(arg) for arg in node.args)
        if node.func.value.value in SEPARATORS and KEYISH.search(joined):
            return [f"joins {joined} with {node.func.value.value!r}"]
    return []


def fstring_violations(node: ast.JoinedStr) -> list[str]:
    found = []
    pairs = slash_joined(node)
    if any("task" in a and "subtype" in b for a, b in pairs) and any("subtype" in a and "tier" in b for a, b in pairs):
        found.append("spells a composition key")
    if any(re.search(r"\bsplit\b", left) for left, _ in pairs):
        found.append("spells a shard key")
    specs = [ast.unparse(part.format_spec) for part in node.values if getattr(part, "format_spec", None)]
    if any("07d" in spec for spec in specs):
        found.append("spells a sample id")
    return found


def violations(source: str) -> list[tuple[int, str]]:
    """(line, what) for each place that does by hand what only the owner may."""
    tree = ast.parse(source)
    skip = docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            found += [(node.lineno, what) for what in string_violations(node)]
        elif isinstance(node, ast.Call):
            found += [(node.lineno, what) for what in call_violations(node)]
        elif isinstance(node, ast.JoinedStr):
            found += [(node.lineno, what) for what in fstring_violations(node)]
    return found


def package_files() -> list[Path]:
    return sorted(path.relative_to(ROOT) for folder in PACKAGE_FOLDERS for path in (ROOT / folder).rglob("*.py"))


def test_only_the_owner_names_the_files_and_takes_keys_apart():
    offences = [
        f"{path}:{line}: {what}"
        for path in package_files()
        if path != OWNER
        for line, what in violations((ROOT / path).read_text())
    ]
    assert not offences, "do it through pipeline/dataset.py:\n" + "\n".join(offences)


def test_the_owner_does_all_of_it():
    """The check sees each of these things where they are done: it is not blind to any of them."""
    seen = {what for _, what in violations((ROOT / OWNER).read_text())}
    assert {
        "names manifest.json",
        "names build_report.json",
        "names .build",
        "spells a shard file name",
        "spells a shard key",
        "spells a sample id",
        "spells a composition key",
        "takes key apart at '/'",
        "takes candidate_id apart at '-'",
    } <= seen, seen


@pytest.mark.parametrize(
    "line",
    [
        'path = dataset_dir / "manifest.json"',
        'report = folder / "build_report.json"',
        'marker = folder / ".build" / "build.json"',
        'split, name = key.split("/", 1)',
        'task, subtype, tier = key.split("/")',
        'split, _, filename = shard.key.partition("/")',
        'head, _, digits = sample_id.rpartition("-")',
        'number = record["id"].rsplit("-", 1)[1]',
        'index = filename.split("-")[1]',
        'ok = key.count("/") == 2',
        'name = "/".join(key)',
        'key = f"{task}/{subtype}/{tier}"',
        "key = f\"{row['task']}/{row['subtype']}/{row['tier']}\"",
        'sample = f"{name}-{split}-{number:07d}"',
        'name = f"data-{index:05d}-of-{count:05d}.arrow"',
        'key = f"{split}/{filename}"',
        'key = f"{self.split}/{self.filename}"',
    ],
)
def test_each_re_derivation_of_the_old_code_is_caught(line):
    assert violations(line), line


@pytest.mark.parametrize(
    "line",
    [
        '"""Reads manifest.json, as a docstring may say."""',
        'parts = spec[len(HUB_PREFIX) :].strip("/").split("/")',
        'repo_id = "/".join(parts[:2])',
        'fps = int(meta["fps"].split("/")[0])',
        'parts = item.split("-")',
        'path = f"{folder}/{member}"',
        'problem = f"{split}/state.json: missing"',
        'where = f"{split}[{i}] {entry.task}/{entry.subtype}"',
        "line = f\"{record['task']}/{record['subtype']}{tier}\"",
        'url = self.endpoint.rstrip("/") + "/chat/completions"',
    ],
)
def test_other_formats_are_left_alone(line):
    assert not violations(line), line
