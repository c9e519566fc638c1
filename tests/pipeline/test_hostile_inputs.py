"""The JSON Lines files users hand to commands (``score`` predictions, ``curate`` rollouts, a run's
``metrics.jsonl`` for ``inspect``), generated hostile: every one is a single ``error:`` line naming the
file and line, never a traceback, and the dataset read is left byte-identical."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.cli import assert_one_line_error, run_cli, tree_hashes
from videolake import VideolakeError
from videolake.commands.cli import main
from videolake.pipeline import jsonio
from videolake.pipeline.graph import build
from videolake.pipeline.jsonio import id_lines, jsonl_values
from videolake.pipeline.recipes import load_recipe

DEEP = 10**5
FIELDS = {"score": "prediction", "curate": "completion"}


def hostile_files(field: str) -> dict[str, tuple[bytes, str]]:
    """name -> (file content, what the one error line says after ``PATH``)."""
    line = json.dumps({"id": "pool-train-0", field: "A"}).encode() + b"\n"
    garbage = np.random.default_rng(0).bytes(4096)
    return {
        "empty": (b"", ": no JSON lines"),
        "blank_lines": (b"\n  \n\t\r\n", ": no JSON lines"),
        "not_json": (b"hello\n", ":1: not valid JSON"),
        "bad_second_line": (line + b"{oops\n", ":2: not valid JSON"),
        "truncated": (line[:20], ":1: not valid JSON"),
        "deep_array": (b"[" * DEEP + b"\n", ":1: not valid JSON (nested too deeply)"),
        "deep_object": (b'{"a":' * DEEP + b"\n", ":1: not valid JSON (nested too deeply)"),
        "deep_closed_value": (
            f'{{"id": "x", "{field}": '.encode() + b"[" * DEEP + b"]" * DEEP + b"}\n",
            ":1: not valid JSON (nested too deeply)",
        ),
        "deep_after_good_lines": (line * 3 + b"[" * DEEP, ":4: not valid JSON (nested too deeply)"),
        "huge_integer_value": (f'{{"id": "x", "{field}": {"9" * 5000}}}\n'.encode(), ":1: not valid JSON"),
        "huge_integer_id": (f'{{"id": {"9" * 5000}, "{field}": "A"}}\n'.encode(), ":1: not valid JSON"),
        "nan": (f'{{"id": "x", "{field}": NaN}}\n'.encode(), ":1: not valid JSON (NaN is not JSON)"),
        "infinity": (f'{{"id": "x", "{field}": -Infinity}}\n'.encode(), ":1: not valid JSON (-Infinity is not JSON)"),
        "array_line": (b"[1, 2]\n", ":1: expected"),
        "string_line": (b'"pool-train-0"\n', ":1: expected"),
        "null_line": (b"null\n", "got null"),
        "number_line": (b"1e999\n", "got a number"),
        "missing_id": (
            json.dumps({field: "A"}).encode(),
            ':1: expected {"id": ..., "' + field + '": ...}, "id" is missing',
        ),
        "missing_field": (json.dumps({"id": "x"}).encode(), f'"{field}" is missing'),
        "numeric_id": (json.dumps({"id": 0, field: "A"}).encode(), ":1: id must be a string, got a number"),
        "null_id": (json.dumps({"id": None, field: "A"}).encode(), ":1: id must be a string, got null"),
        "object_id": (json.dumps({"id": {"a": 1}, field: "A"}).encode(), ":1: id must be a string, got an object"),
        "not_utf8": (line + b'{"id": "caf\xe9"}\n', ":2: not UTF-8 text"),
        "utf16": (line.decode().encode("utf-16"), ":1: not UTF-8 text"),
        "nul_bytes": (b"\x00" * 64 + b"\n", ":1: not valid JSON"),
        "binary_garbage": (garbage, ": not "),
    }


def read_all(path: Path, field: str):
    return list(id_lines(path, field))


@pytest.mark.parametrize("name", sorted(hostile_files("prediction")))
def test_the_reader_names_file_and_line(name, tmp_path):
    content, says = hostile_files("prediction")[name]
    path = tmp_path / "p.jsonl"
    path.write_bytes(content)
    with pytest.raises(VideolakeError) as caught:
        read_all(path, "prediction")
    message = str(caught.value)
    assert message.startswith(str(path)) and says in message and "\n" not in message, message


def test_what_the_reader_takes():
    """Hand-checked: blank lines skipped, line numbers counted over them, a BOM and CRLF accepted,
    a value that is not a string kept as its JSON text."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.jsonl"
        path.write_bytes(
            b'\xef\xbb\xbf{"id": "a", "prediction": "A"}\r\n\n{"id": "b", "prediction": {"answer": "B"}}\n{"id": "c", "prediction": 1e999}'
        )
        assert read_all(path, "prediction") == [(1, "a", "A"), (3, "b", '{"answer": "B"}'), (4, "c", "Infinity")]


def test_a_line_longer_than_the_bound_is_refused_without_reading_it_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(jsonio, "MAX_LINE_BYTES", 1024)
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"id": "a", "prediction": "A"}\n' + b"x" * 5000)
    with pytest.raises(VideolakeError, match=re.escape(f"{path}:2: line longer than")):
        read_all(path, "prediction")


def test_a_file_without_newlines_is_refused_without_reading_it_whole(monkeypatch):
    monkeypatch.setattr(jsonio, "MAX_LINE_BYTES", 1 << 20)
    with pytest.raises(VideolakeError, match="/dev/zero:1: line longer than 1 MiB"):
        read_all(Path("/dev/zero"), "prediction")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=64),
            st.sampled_from([b"[" * 3000, b'{"id": "a", "prediction": "A"}', b'{"id":', b"\xff", b"{}", b"[]", b"\n"]),
        ),
        max_size=6,
    )
)
def test_any_bytes_give_rows_or_one_line_error(tmp_path_factory, chunks):
    path = tmp_path_factory.mktemp("h") / "p.jsonl"
    path.write_bytes(b"\n".join(chunks))
    try:
        rows = read_all(path, "prediction")
    except VideolakeError as err:
        assert str(err).startswith(str(path)) and "\n" not in str(err)
    else:
        assert rows and all(isinstance(record_id, str) and isinstance(text, str) for _, record_id, text in rows)


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=20,
    )
)
def test_every_json_line_is_read_back_as_written(tmp_path_factory, value):
    path = tmp_path_factory.mktemp("v") / "v.jsonl"
    path.write_text(json.dumps(value) + "\n", encoding="utf-8")
    assert list(jsonl_values(path)) == [(1, value)]


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    recipe = {
        "name": "pool",
        "shard_size": 2,
        "splits": {"train": [{"task": "synrl", "subtype": "chip_cups", "count": 2, "params": {"size": 64}}]},
    }
    (folder / "r.yaml").write_text(yaml.safe_dump(recipe))
    return build(load_recipe(str(folder / "r.yaml")), None, folder / "out", workers=1, progress=False)


def run_in_process(args: list[str], capsys) -> tuple[int, str]:
    """``videolake ARGS`` through the CLI's own entry point, in this process: (exit code, stderr)."""
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as err:
        code = err.code
    return code, capsys.readouterr().err


def command(name: str, pool: Path, path: Path, out: Path) -> list:
    if name == "score":
        return ["score", path, "--dataset", pool, "--out", out / "s"]
    return ["curate", pool, "--rollouts", path, "--k", "2", "--out", out]


@pytest.mark.parametrize("name", sorted(hostile_files("completion")))
@pytest.mark.parametrize("which", sorted(FIELDS))
def test_every_hostile_file_is_one_error_line_and_the_parent_is_untouched(which, name, pool, tmp_path, capsys):
    content, says = hostile_files(FIELDS[which])[name]
    path = tmp_path / "input.jsonl"
    path.write_bytes(content)
    before = tree_hashes(pool)
    code, stderr = run_in_process(command(which, pool, path, tmp_path / "out"), capsys)
    lines = stderr.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith(f"error: {path}") and says in lines[0], stderr
    assert tree_hashes(pool) == before and path.read_bytes() == content
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("which", sorted(FIELDS))
def test_a_deep_line_through_a_real_process(which, pool, tmp_path):
    """The same in a process of its own, whose stack is the user's, not pytest's."""
    path = tmp_path / "input.jsonl"
    path.write_bytes(json.dumps({"id": "pool-train-0", FIELDS[which]: "A"}).encode() + b"\n" + b"[" * DEEP)
    before = tree_hashes(pool)
    assert_one_line_error(
        run_cli(*command(which, pool, path, tmp_path / "out")), f"{path}:2: not valid JSON (nested too deeply)"
    )
    assert tree_hashes(pool) == before


def test_a_hostile_metrics_log_is_one_line_for_inspect(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    good = json.dumps({"step": 1, "loss": 0.5}) + "\n"
    for content, says in [
        (good + "[" * DEEP, ":2: not valid JSON (nested too deeply)"),
        (good + "[1]\n", ":2: expected an object with an integer step"),
        (good + '{"step": "1"}\n', ":2: expected an object with an integer step"),
        (good + '{"step": -1}\n', ":2: expected an object with an integer step"),
        (good + '{"step": true}\n', ":2: expected an object with an integer step"),
    ]:
        (run / "metrics.jsonl").write_text(content)
        code, stderr = run_in_process(["inspect", run, "--out", tmp_path / "view"], capsys)
        lines = stderr.strip().splitlines()
        assert (
            code == 1
            and len(lines) == 1
            and lines[0].startswith(f"error: {run / 'metrics.jsonl'}")
            and says in lines[0]
        ), stderr


def test_a_metrics_log_with_numbers_matplotlib_cannot_draw_still_plots(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    rows = [
        {"step": 1, "loss": 0.5, "reward": 1e308 * 10},
        {"step": 2, "loss": 10**400, "reward": 0.25},
        {"step": 3, "loss": 0.25, "reward": "high"},
    ]
    (run / "metrics.jsonl").write_text("".join(json.dumps(row).replace("Infinity", "1e999") + "\n" for row in rows))
    code, stderr = run_in_process(["inspect", run, "--out", tmp_path / "view"], capsys)
    assert code == 0 and (tmp_path / "view" / "metrics.png").exists(), stderr
