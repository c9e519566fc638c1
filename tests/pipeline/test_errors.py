"""Bad input and a hostile environment: one ``error:`` line naming the path, exit 1, nothing left behind."""

from __future__ import annotations

import json
import os
import resource
from pathlib import Path

import pytest
import yaml

from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.media import moving_frames, write_video
from videolake.pipeline.graph import build_lock
from videolake.pipeline.ingest import discover

# A synthetic-only recipe: builds in seconds with no sources.
TINY = {
    "name": "tiny",
    "shard_size": 1,
    "splits": {"train": [{"task": "synrl", "subtype": "chip_cups", "count": 2, "params": {"size": 64}}]},
}


@pytest.fixture
def recipe(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


def build_cli(recipe: Path, out: Path, **kwargs):
    return run_cli("build", recipe, "--out", out, "--workers", "1", "--quiet", **kwargs)


def test_out_below_a_regular_file(recipe, tmp_path):
    (tmp_path / "file").write_text("x")
    assert_one_line_error(build_cli(recipe, tmp_path / "file" / "out"), str(tmp_path / "file"))


def test_out_in_a_read_only_place(recipe):
    # /proc refuses new folders even to root, so this holds whoever runs the tests
    assert_one_line_error(build_cli(recipe, Path("/proc/videolake-out")), "/proc/videolake-out")


def test_disk_full_is_one_line_and_resume_cleans_up(recipe, tmp_path):
    out = tmp_path / "out"

    def small_file_limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # ulimit -f: shards cannot be written

    assert_one_line_error(
        build_cli(recipe, out, preexec_fn=small_file_limit), "file size limit reached", str(out / "tiny")
    )
    dataset = out / "tiny"
    assert not list(dataset.rglob("*.tmp")), "a failed write left a half-written file"
    assert not (dataset / "manifest.json").exists()
    stale = dataset / "train" / ".data-00000-of-00002.arrow.999.tmp"  # what kill -9 mid-write leaves
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"half")
    result = build_cli(recipe, out)
    assert result.returncode == 0, result.stderr
    assert not stale.exists() and not list(dataset.rglob("*.tmp"))
    assert run_cli("validate", dataset).returncode == 0


def test_a_second_build_into_the_same_folder_is_refused(recipe, tmp_path):
    out = tmp_path / "out"
    with build_lock(out, "tiny"):
        result = build_cli(recipe, out)
    assert_one_line_error(result, "is being built by pid", str(out / "tiny"))
    assert build_cli(recipe, out).returncode == 0  # the lock died with its holder


@pytest.mark.parametrize("broken", ["[1]", "{}", "garbage{", '{"sources": {"digest": "x"}}'])
def test_a_broken_dataset_beside_the_output_is_one_line_naming_it(recipe, tmp_path, broken):
    """Its holdout cannot be checked against this build's, so the build stops before writing."""
    (tmp_path / "out" / "other").mkdir(parents=True)
    (tmp_path / "out" / "other" / "manifest.json").write_text(broken)
    assert_one_line_error(build_cli(recipe, tmp_path / "out"), "other")
    assert not (tmp_path / "out" / "tiny").exists()


def test_a_recipe_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    assert_one_line_error(run_cli("build", path, "--out", tmp_path / "out"), str(path), "not UTF-8")


def test_sources_that_are_not_files_go_to_the_report(tmp_path):
    root = tmp_path / "sources"
    root.mkdir()
    write_video(root / "good.mp4", moving_frames(60, 32, 32))
    (root / "folder.mp4").mkdir()
    (root / "loop.mp4").symlink_to(root / "loop.mp4")
    (root / "dangling.mkv").symlink_to(root / "nowhere.mkv")
    (root / "sub").mkdir()
    (root / "sub" / "up").symlink_to(root)  # a directory cycle
    found, skipped = discover(root)
    assert [s.source_id for s in found] == ["good.mp4"]
    reasons = {s.source_id: s.reason for s in skipped}
    assert reasons == {
        "folder.mp4": "a directory, not a video file",
        "loop.mp4": "broken or looping symbolic link",
        "dangling.mkv": "broken or looping symbolic link",
    }


@pytest.fixture(scope="module")
def scored_dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scored")
    path = out / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    assert build_cli(path, out).returncode == 0
    return out / "tiny"


def test_score_predictions_that_are_not_utf8(scored_dataset, tmp_path):
    predictions = tmp_path / "p.jsonl"
    predictions.write_bytes(b'{"id": "x", "prediction": "caf\xe9"}\n')
    assert_one_line_error(run_cli("score", predictions, "--dataset", scored_dataset), str(predictions), "not UTF-8")


def test_score_duplicate_ids_are_an_error_and_unknown_ids_are_reported(scored_dataset, tmp_path):
    import datasets

    ids = datasets.load_from_disk(str(scored_dataset))["train"]["id"]
    predictions = tmp_path / "p.jsonl"
    predictions.write_text("".join(json.dumps({"id": i, "prediction": "A"}) + "\n" for i in [ids[0], ids[1], ids[0]]))
    assert_one_line_error(
        run_cli("score", predictions, "--dataset", scored_dataset), "1 duplicate id(s)", repr(ids[0]), "lines 1 and 3"
    )
    predictions.write_text(
        "".join(json.dumps({"id": i, "prediction": "A"}) + "\n" for i in [ids[0], "nope-1", "nope-2"])
    )
    result = run_cli("score", predictions, "--dataset", scored_dataset, "--out", tmp_path / "s")
    assert result.returncode == 0, result.stderr
    assert "warning: 2 prediction id(s) are not in tiny and were ignored (first: 'nope-1')" in result.stderr
    assert json.loads((tmp_path / "s.scores.json").read_text())["unknown_predictions"] == 2


def test_no_error_path_prints_a_traceback(tmp_path):
    """Sanity for the helper itself: a traceback is never one line."""
    result = run_cli("validate", tmp_path / "nothing")
    assert_one_line_error(result, "no manifest.json")
    assert "Traceback" not in result.stderr and os.path.basename(str(tmp_path)) in result.stderr


def test_a_generator_bug_stops_the_build_instead_of_skipping_samples(monkeypatch):
    """CannotGenerate is reported and skipped; a ValueError from a bug propagates."""
    import dataclasses

    from videolake.generators import CannotGenerate, synthetic
    from videolake.pipeline.encode import ENCODERS
    from videolake.pipeline.plan import SampleSpec
    from videolake.pipeline.records import make_records

    spec = SampleSpec("x-train-0", "synrl", "rotation", "default", "train", None, None, 1, {"size": 64})

    def with_simulate(error):
        def simulate(settings, rng):
            raise error

        return {"rotation": dataclasses.replace(synthetic.SCENARIOS["rotation"], simulate=simulate)}

    monkeypatch.setattr(synthetic, "SCENARIOS", with_simulate(CannotGenerate("no room")))
    records, skipped = make_records([spec], 48, (64, 64), ENCODERS["libx264"])
    assert records == [] and skipped == [{"source_id": "", "reason": "x-train-0: no room", "samples": ["x-train-0"]}]
    monkeypatch.setattr(synthetic, "SCENARIOS", with_simulate(ValueError("a bug")))
    with pytest.raises(ValueError, match="a bug"):
        make_records([spec], 48, (64, 64), ENCODERS["libx264"])
