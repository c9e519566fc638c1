"""Nothing is read without being verified: every command that reads a built dataset opens it with
``open_dataset``, so a hostile manifest, a tampered shard or a record whose ``meta`` has the wrong
shape is one ``error:`` line naming the file or the record, never a traceback, and the dataset
(every file of it, hashed before and after) is left exactly as it was."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import importlib.util
import io
import json
import shutil
import traceback
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from videolake import VideolakeError
from videolake.commands.cli import main
from videolake.commands.validate import validate
from videolake.pipeline.dataset import (
    BuildReport,
    Manifest,
    Sidecar,
    open_dataset,
    parse_sample_id,
    read_json,
    read_report,
    read_sidecar,
    record_meta,
    refuse_output_inside,
    sample_id,
    shard_filename,
    shard_key,
    shard_number,
    split_composition_key,
    split_shard_key,
)
from videolake.pipeline.graph import build
from videolake.pipeline.recipes import load_recipe
from videolake.pipeline.shards import read_shard, serialize_shard, sha256_file

RECIPE = {
    "name": "guarded",
    "license": "apache-2.0",
    "shard_size": 2,
    "splits": {
        "train": [{"task": "synrl", "subtype": "rotation", "count": 2, "params": {"size": 64}}],
        "test": [{"task": "synrl", "subtype": "direction", "count": 1, "params": {"size": 64}}],
    },
}
HAS_TRAINING = importlib.util.find_spec("transformers") is not None and importlib.util.find_spec("trl") is not None


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dataset")
    (folder / "guarded.yaml").write_text(yaml.safe_dump(RECIPE))
    return build(load_recipe(str(folder / "guarded.yaml")), None, folder / "out", workers=1, progress=False)


@pytest.fixture
def parent(built, tmp_path) -> Path:
    """A private copy of the build to damage."""
    return Path(shutil.copytree(built, tmp_path / "parent" / "guarded"))


def tree_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def run_main(*args) -> tuple[int, str, str]:
    """The CLI in this process (a subprocess per hostile case would take minutes); an exception that
    escapes ``main`` is what a user would see as a traceback, so it fails the test."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as exit_:
            code = exit_.code or 0
        except BaseException:
            pytest.fail(
                f"videolake {' '.join(map(str, args))} raised instead of one error line:\n{traceback.format_exc()}"
            )
    return code, out.getvalue(), err.getvalue()


def commands(dataset: Path, scratch: Path) -> dict[str, list]:
    """Every command that reads a built dataset, each writing only under ``scratch``."""
    scratch.mkdir(parents=True, exist_ok=True)
    rollouts = scratch / "rollouts.jsonl"
    rollouts.write_text("")
    table = {
        "validate": ["validate", dataset, "--workers", "1"],
        "inspect": ["inspect", dataset, "--out", scratch / "inspect", "--samples", "3"],
        "score": ["score", "--dataset", dataset, "--baseline", "random", "--out", scratch / "score"],
        "export": ["export", "verl", dataset, "--out", scratch / "export"],
        "publish": ["publish", dataset, "user/guarded", "--dry-run", "--staging", scratch / "staging"],
        "curate": ["curate", dataset, "--rollouts", rollouts, "--k", "2", "--out", scratch / "curated"],
        "harden": ["harden", dataset, "--to", "next", "--out", scratch / "hardened", "--quiet", "--workers", "1"],
    }
    if HAS_TRAINING:
        table["train"] = ["train", "sft", dataset, "--model", scratch / "no-model", "--out", scratch / "run"]
    return table


def assert_one_error_line(code: int, stderr: str, *fragments: str) -> str:
    lines = stderr.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def write_manifest(dataset: Path, text: str) -> None:
    (dataset / "manifest.json").write_text(text)


def mutated(manifest: dict, path: tuple, value) -> dict:
    document = copy.deepcopy(manifest)
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


def first_key(mapping: dict) -> str:
    return sorted(mapping)[0]


def hostile_manifests(manifest: dict) -> list[tuple[str, str, str]]:
    """(case, manifest text, what the error must name): the shapes of the issue and their neighbours."""
    shard = first_key(manifest["shards"])
    count = first_key(manifest["counts"]["train"])
    cases = [
        ("not JSON", "{not json", "not valid JSON"),
        ("truncated", json.dumps(manifest)[:100], "not valid JSON"),
        ("not UTF-8", "\udcff", "not valid JSON"),  # written as the single byte 0xff
        ("a list", "[1]", "the manifest must be a JSON object"),
        ("empty object", "{}", "missing field"),
        ("shards a number", json.dumps({"shards": 5}), "missing field"),
        ("null", "null", "the manifest must be a JSON object"),
        ("nested 100000 deep", "[" * 100_000, "manifest.json"),
        (
            "shards a number in a full manifest",
            json.dumps(mutated(manifest, ("shards",), 5)),
            "shards must be a JSON object",
        ),
        ("negative rows", json.dumps(mutated(manifest, ("shards", shard, "rows"), -1)), "rows"),
        ("huge rows", json.dumps(mutated(manifest, ("shards", shard, "rows"), 10**30)), "rows"),
        ("rows a string", json.dumps(mutated(manifest, ("shards", shard, "rows"), "2")), "rows"),
        ("huge bytes", json.dumps(mutated(manifest, ("shards", shard, "bytes"), 10**30)), "bytes"),
        ("sha256 a number", json.dumps(mutated(manifest, ("shards", shard, "sha256"), 5)), "sha256"),
        (
            "shard key escapes",
            json.dumps(mutated(manifest, ("shards",), {"train/../../../etc/passwd": manifest["shards"][shard]})),
            "shards",
        ),
        ("negative count", json.dumps(mutated(manifest, ("counts", "train", count), -3)), "counts"),
        ("huge count", json.dumps(mutated(manifest, ("counts", "train", count), 10**30)), "counts"),
        ("count key without tier", json.dumps(mutated(manifest, ("counts", "train"), {"synrl": 1})), "counts"),
        ("dataset a path", json.dumps(mutated(manifest, ("dataset",), "../escape")), "dataset"),
        ("dataset a number", json.dumps(mutated(manifest, ("dataset",), 7)), "dataset"),
        ("negative seed", json.dumps(mutated(manifest, ("seed",), -1)), "seed"),
        ("recipe a list", json.dumps(mutated(manifest, ("recipe",), [])), "recipe"),
        ("shard_size zero", json.dumps(mutated(manifest, ("recipe", "shard_size"), 0)), "shard_size"),
        (
            "holdout ids a string",
            json.dumps(mutated(manifest, ("holdout", "benchmark_source_ids"), "a")),
            "benchmark_source_ids",
        ),
        ("encoder options a list", json.dumps(mutated(manifest, ("encoder", "options"), [])), "encoder.options"),
        ("no shards", json.dumps(mutated(manifest, ("shards",), {})), "no shard"),
        ("counts without a split", json.dumps(mutated(manifest, ("counts",), {})), "counts"),
    ]
    return cases


def test_every_command_refuses_a_hostile_manifest_in_one_line(built, tmp_path):
    manifest = json.loads((built / "manifest.json").read_text())
    dataset = Path(shutil.copytree(built, tmp_path / "parent" / "guarded"))
    for case, text, named in hostile_manifests(manifest):
        (dataset / "manifest.json").write_bytes(text.encode("utf-8", "surrogateescape"))
        before = tree_hashes(dataset)
        for name, argv in commands(dataset, tmp_path / "scratch").items():
            code, _, stderr = run_main(*argv)
            line = assert_one_error_line(code, stderr)
            assert "manifest.json" in line and named in line, (case, name, line)
            assert tree_hashes(dataset) == before, (case, name)


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "missing"])
def test_a_damaged_shard_is_refused_by_name(parent, tmp_path, damage):
    manifest = json.loads((parent / "manifest.json").read_text())
    key = sorted(manifest["shards"])[-1]
    shard = parent / key
    if damage == "flipped byte":
        flip_a_byte(shard)
        reason = "sha256 does not match the manifest"
    elif damage == "truncated":
        shard.write_bytes(shard.read_bytes()[:-10])
        reason = "the manifest says"
    else:
        shard.unlink()
        reason = "missing"
    before = tree_hashes(parent)
    for name, argv in commands(parent, tmp_path / "scratch").items():
        code, _, stderr = run_main(*argv)
        if name == "validate":
            assert code == 1 and f"{key}: " in stderr and reason in stderr and "Traceback" not in stderr, stderr
        else:
            assert_one_error_line(code, stderr, f"{parent}/{key}", reason)
        assert tree_hashes(parent) == before, name
    assert not (tmp_path / "scratch" / "export" / "verl").exists(), "export wrote before it checked the shards"


def rewrite_records(dataset: Path, change) -> list[str]:
    """Apply ``change(record)`` to every record and update the manifest as a consistent (hostile)
    tool would, so the shard checks pass and only the records are wrong; returns the ids."""
    manifest = json.loads((dataset / "manifest.json").read_text())
    ids = []
    for key in sorted(manifest["shards"]):
        records = read_shard(dataset / key).to_pylist()
        for record in records:
            change(record)
            ids.append(record["id"])
        (dataset / key).write_bytes(serialize_shard(records))
        manifest["shards"][key].update(sha256=sha256_file(dataset / key), bytes=(dataset / key).stat().st_size)
    (dataset / "manifest.json").write_text(json.dumps(manifest))
    return ids


META_READERS = ("validate", "inspect", "score", "export")
BROKEN_METAS = {
    "not JSON": "{meta",
    "empty object": "{}",
    "a list": "[1]",
    "null": "null",
    "a number": "5",
    "nested 100000 deep": "[" * 100_000,
    "empty": "",
}
HOSTILE_VALUES = [None, "x", -1, 10**30, 1e308, [], {}, [[-5]], True]


def check_meta_readers(dataset: Path, scratch: Path, ids: list[str], must_fail: bool) -> None:
    """Each reader either succeeds or says, in one line naming a record, what is wrong (validate
    lists its problems, then one line); the dataset is never changed."""
    before = tree_hashes(dataset)
    for name in META_READERS:
        code, _, stderr = run_main(*commands(dataset, scratch / name)[name])
        assert "Traceback" not in stderr
        if must_fail or code:
            assert code == 1, (name, stderr)
            lines = stderr.strip().splitlines()
            assert lines[-1].startswith("error: ") and (name == "validate" or len(lines) == 1), (name, stderr)
            assert any(record_id in stderr for record_id in ids), (name, stderr)
        assert tree_hashes(dataset) == before, name


@pytest.mark.parametrize("case", sorted(BROKEN_METAS))
def test_meta_that_is_no_json_object_is_one_line_naming_the_record(parent, tmp_path, case):
    ids = rewrite_records(parent, lambda record: record.update(meta=BROKEN_METAS[case]))
    check_meta_readers(parent, tmp_path / "scratch", ids, must_fail=True)


def test_meta_fields_of_the_wrong_type_or_size_never_traceback(built, tmp_path):
    """Every top-level field of a real record's meta replaced by each hostile value in turn."""
    dataset = Path(shutil.copytree(built, tmp_path / "parent" / "guarded"))
    pristine = {
        key: read_shard(built / key).to_pylist()
        for key in sorted(json.loads((built / "manifest.json").read_text())["shards"])
    }
    fields = sorted(json.loads(next(iter(pristine.values()))[0]["meta"]))
    for index, field in enumerate(fields):
        value = HOSTILE_VALUES[index % len(HOSTILE_VALUES)]
        shutil.rmtree(dataset)
        shutil.copytree(built, dataset)

        def change(record, field=field, value=value):
            meta = json.loads(record["meta"])
            meta[field] = value
            record["meta"] = json.dumps(meta)

        ids = rewrite_records(dataset, change)
        check_meta_readers(dataset, tmp_path / "scratch" / field, ids, must_fail=False)


def test_a_split_curation_emptied_validates_and_inspects(parent, tmp_path):
    manifest = json.loads((parent / "manifest.json").read_text())
    key = "test/data-00000-of-00001.arrow"
    (parent / key).write_bytes(serialize_shard([]))
    manifest["shards"][key] = {"rows": 0, "bytes": (parent / key).stat().st_size, "sha256": sha256_file(parent / key)}
    manifest["counts"]["test"] = {}
    (parent / "manifest.json").write_text(json.dumps(manifest))
    code, stdout, stderr = run_main("validate", parent, "--workers", "1")
    assert code == 0, stderr
    code, stdout, stderr = run_main("inspect", parent, "--out", tmp_path / "pictures", "--samples", "0")
    assert code == 0 and stdout.split() == [str(tmp_path / "pictures" / "composition.png")], stderr


def test_validate_lists_a_bad_meta_as_a_problem(parent):
    ids = rewrite_records(parent, lambda record: record.update(meta="[" * 100_000))
    checked, problems = validate(parent, workers=1)
    assert checked == len(ids) and len(problems) >= len(ids)
    assert all(any(problem.startswith(f"{record_id}: meta") for problem in problems) for record_id in ids), problems


# Any JSON value, nested a little, for replacing any part of a manifest.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


def manifest_paths(document, prefix=()) -> list[tuple]:
    """Every key path in a manifest (each dict key and list index)."""
    paths = []
    items = (
        document.items() if isinstance(document, dict) else enumerate(document) if isinstance(document, list) else []
    )
    for key, value in items:
        paths.append((*prefix, key))
        paths.extend(manifest_paths(value, (*prefix, key)))
    return paths


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_open_dataset_on_any_manifest_edit_opens_or_says_one_thing(built, tmp_path_factory, data):
    """Replace any part of a real manifest with any JSON: open_dataset either refuses with a
    VideolakeError or returns a dataset whose shards have the types every command relies on."""
    manifest = json.loads((built / "manifest.json").read_text())
    path = data.draw(st.sampled_from(manifest_paths(manifest)))
    document = mutated(manifest, path, data.draw(json_values)) if data.draw(st.booleans()) else data.draw(json_values)
    folder = tmp_path_factory.mktemp("edit")
    for key in manifest["shards"]:
        (folder / key).parent.mkdir(parents=True, exist_ok=True)
        (folder / key).symlink_to(built / key)
    (folder / "manifest.json").write_text(json.dumps(document))
    try:
        dataset = open_dataset(folder)
        records = sum(1 for _ in dataset.records())
    except VideolakeError as err:
        assert "\n" not in str(err)
        return
    assert isinstance(dataset.name, str) and "/" not in dataset.name
    for shard in dataset.shards:
        assert shard.path.parent.parent == folder and shard.rows <= shard.bytes == shard.path.stat().st_size
    assert records == sum(shard.rows for shard in dataset.shards)


def test_open_dataset_gives_the_manifest_and_the_records(built):
    dataset = open_dataset(built)
    assert dataset.name == "guarded" and dataset.splits == ["test", "train"]
    assert [shard.key for shard in dataset.split_shards("train")] == ["train/data-00000-of-00001.arrow"]
    ids = [record["id"] for _, record in dataset.records()]
    assert ids == ["guarded-test-0000000", "guarded-train-0000000", "guarded-train-0000001"]
    assert [record["id"] for _, record in dataset.records("train", ["id"])] == ids[1:]
    assert len(dataset.hf_split("train")) == 2
    with pytest.raises(VideolakeError, match="has no split 'dev'"):
        dataset.split_shards("dev")


def test_a_state_file_cannot_smuggle_rows_into_training(built, tmp_path):
    """``load_from_disk`` reads what state.json lists; training reads the verified shards only."""
    import datasets

    dataset = Path(shutil.copytree(built, tmp_path / "guarded"))
    state = json.loads((dataset / "train" / "state.json").read_text())
    shutil.copy(dataset / "test" / "data-00000-of-00001.arrow", dataset / "train" / "data-extra.arrow")
    state["_data_files"].append({"filename": "data-extra.arrow"})
    (dataset / "train" / "state.json").write_text(json.dumps(state))
    assert len(datasets.load_from_disk(str(dataset))["train"]) == 3
    assert len(open_dataset(dataset).hf_split("train")) == 2


def test_read_json_refuses_a_huge_file_without_reading_it(tmp_path, monkeypatch):
    from videolake.pipeline import dataset as module

    monkeypatch.setattr(module, "MAX_JSON_BYTES", 10)
    (tmp_path / "big.json").write_text(json.dumps(list(range(20))))
    with pytest.raises(VideolakeError, match="larger than"):
        read_json(tmp_path / "big.json")


def test_record_meta_names_the_record():
    assert record_meta({"id": "a-train-1", "meta": '{"fps": "8"}'}) == {"fps": "8"}
    for meta in ("[1]", "{x", None, "[" * 100_000):
        with pytest.raises(VideolakeError, match="^a-train-1: meta"):
            record_meta({"id": "a-train-1", "meta": meta})


def test_refuse_output_inside(tmp_path):
    parent = tmp_path / "parent"
    (parent / "inner").mkdir(parents=True)
    (tmp_path / "link").symlink_to(parent)
    for output in (parent, parent / "inner", parent / "new" / "deeper", tmp_path / "link" / "x", tmp_path):
        with pytest.raises(VideolakeError, match="choose an output folder"):
            refuse_output_inside(output, tmp_path / "elsewhere", parent)
    refuse_output_inside(tmp_path / "sibling", parent)
    refuse_output_inside(tmp_path / "parent-harder", parent)  # a shared prefix is not inside


def test_the_typed_metadata_reads_back_what_the_build_wrote(built):
    """Each file's JSON is exactly its dataclass's ``to_dict`` (the manifest adds only its load line)."""
    document = read_json(built / "manifest.json")
    manifest = Manifest.from_dict(document, built / "manifest.json")
    assert {**manifest.to_dict(), "load": document["load"]} == document
    assert manifest == open_dataset(built).manifest and manifest.rows == 3
    assert read_report(built).to_dict() == read_json(built / "build_report.json")
    assert BuildReport.from_dict(read_report(built).to_dict(), built) == read_report(built)
    for key in manifest.shards:
        split, filename = split_shard_key(key)
        sidecar = read_sidecar(built, split, filename)
        assert sidecar.info == manifest.shards[key] and Sidecar.from_dict(sidecar.to_dict(), built) == sidecar


def test_a_manifest_of_an_older_build_opens(built, tmp_path):
    """Builds before schema_version, fingerprint, the load line and the holdout's rule still open."""
    folder = Path(shutil.copytree(built, tmp_path / "old" / "guarded"))
    document = read_json(folder / "manifest.json")
    for field in ("schema_version", "fingerprint", "load"):
        del document[field]
    document["holdout"] = {key: document["holdout"][key] for key in ("benchmark_source_ids", "train_source_ids")}
    (folder / "manifest.json").write_text(json.dumps(document))
    manifest = open_dataset(folder).manifest
    assert manifest.schema_version is None and manifest.fingerprint is None and manifest.holdout.details == {}
    assert manifest.to_dict() == document


def test_a_damaged_sidecar_is_one_line_naming_it(built, tmp_path):
    folder = Path(shutil.copytree(built, tmp_path / "damaged" / "guarded"))
    split, filename = split_shard_key(sorted(open_dataset(folder).manifest.shards)[0])
    path = next((folder / ".build" / "shards" / split).glob(f"{filename}.json"))
    document = read_json(path)
    for field, value in (("rows", "2"), ("skipped", [{"source_id": 3}]), ("shard", "../x")):
        path.write_text(json.dumps({**document, field: value}))
        with pytest.raises(VideolakeError, match=str(path)) as raised:
            read_sidecar(folder, split, filename)
        assert "\n" not in str(raised.value)


def test_each_format_reads_back_what_it_writes():
    assert split_shard_key(shard_key("train", shard_filename(3, 12))) == ("train", "data-00003-of-00012.arrow")
    assert shard_number(shard_filename(3, 12)) == 3
    for bad in ("train/../x", "train/data-1-of-2.arrow", "a/b/data-00000-of-00001.arrow", 5, "train-data"):
        assert split_shard_key(bad) is None, bad
    assert parse_sample_id(sample_id("my-recipe-harder", "train", 42), "my-recipe-harder") == ("train", 42)
    for bad in ("my-recipe-train-42", "other-train-0000042", "my-recipe-train-+000042", None, "my-recipe-0000042"):
        assert parse_sample_id(bad, "my-recipe") is None, bad
    assert split_composition_key("synrl/rotation/default") == ("synrl", "rotation", "default")
    assert split_composition_key("synrl/rotation") is None and split_composition_key(7) is None
