"""Build a small dataset from real clips (and broken ones), load it the documented way, and check
every answer against the decoded pixels, the build report, determinism and resume after kill -9."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.helpers.cli import run_cli
from tests.helpers.media import add_bytes, moving_frames, write_audio_only, write_video
from videolake.commands.validate import validate
from videolake.generators.perturbations import PERTURBATIONS
from videolake.pipeline.encode import decode_mp4, encode_mp4
from videolake.pipeline.graph import build
from videolake.pipeline.recipes import load_recipe
from videolake.pipeline.sampling import sample_clip
from videolake.pipeline.shards import read_shard, serialize_shard, sha256_file

pytestmark = pytest.mark.slow  # a build of several tasks or a model trained: `make check` skips it

GOOD = ["bikes.mp4", "carphone_pristine.mp4", "testMovie.mp4", "jwpIntro.mp4", "b.mp4", "cityCC0.mpg"]
BAD = {
    "empty.mp4": "not a readable video",
    "not_video.mp4": "not a readable video",
    "audio_only.mp4": "no video stream",
    "short.mp4": "too short",
    "truncated.mp4": "",
    "llava/0_30_s_x/broken.mp4": "not a readable video",
}
RECIPE = {
    "name": "tiny",
    "seed": 7,
    "shard_size": 4,
    "max_size": [256, 256],
    "holdout_fraction": 0.2,
    "splits": {
        "train": [
            {"task": "anomaly_grounding", "subtype": s, "count": 1}
            for s in [
                "channel_swap",
                "mirror",
                "zoom_out",
                "rotate180",
                "noise",
                "shuffle",
                "slow",
                "fast",
                "stutter_hold",
                "swap",
                "invert",
            ]
        ]
        + [
            {"task": "object_counting", "tier": "easy", "count": 3},
            {"task": "object_counting", "tier": "hard", "count": 2},
            {"task": "temporal_jigsaw", "tier": "easy", "count": 6},
            {"task": "temporal_jigsaw", "tier": "hard", "count": 2},
        ],
        "test": [
            {"task": "anomaly_grounding", "subtype": "channel_swap", "count": 2},
            {"task": "object_counting", "tier": "hard", "count": 2},
            {"task": "temporal_jigsaw", "tier": "hard", "count": 2},
        ],
    },
}


@pytest.fixture(scope="module")
def sources(tmp_path_factory, clips_dir) -> Path:
    root = tmp_path_factory.mktemp("sources")
    for name in GOOD:
        os.symlink(clips_dir / name, root / name)
    (root / "odd.mkv").parent.mkdir(exist_ok=True)
    write_video(root / "odd.mkv", moving_frames(90, 77, 101), codec="ffv1", pix_fmt="yuv444p")
    (root / "empty.mp4").write_bytes(b"")
    (root / "not_video.mp4").write_text("hello\n" * 100)
    write_audio_only(root / "audio_only.mp4")
    write_video(root / "short.mp4", moving_frames(20, 64, 64))
    data = (clips_dir / "bikes.mp4").read_bytes()
    (root / "truncated.mp4").write_bytes(data[: len(data) // 4])
    subset = root / "llava" / "0_30_s_x"
    subset.mkdir(parents=True)
    with tarfile.open(subset / "0_30_s_x_videos_1.tar.gz", "w:gz") as tar:
        add_bytes(
            tar, "good.mp4", (clips_dir / "bigbuckbunny.mp4").read_bytes()
        )  # not a copy of a clip above: copies share a split
        add_bytes(tar, "broken.mp4", os.urandom(5000))
        add_bytes(tar, "../outside.mp4", data)
    return root


@pytest.fixture(scope="module")
def recipe_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("recipe") / "tiny.yaml"
    path.write_text(yaml.safe_dump(RECIPE))
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory, sources, recipe_file) -> Path:
    out = tmp_path_factory.mktemp("out")
    return build(load_recipe(str(recipe_file)), str(sources), out, workers=1, progress=False)


def shard_checksums(dataset_dir: Path) -> dict:
    return {k: v["sha256"] for k, v in json.loads((dataset_dir / "manifest.json").read_text())["shards"].items()}


def test_documented_load_call_and_validate(built):
    import datasets

    ds = datasets.load_from_disk(str(built))
    assert set(ds) == {"train", "test"}
    checked, problems = validate(built)
    assert problems == [] and checked == len(ds["train"]) + len(ds["test"]) >= 15
    manifest = json.loads((built / "manifest.json").read_text())
    assert manifest["encoder"]["codec"] == "libx264" and manifest["versions"]["av"]
    assert sum(manifest["counts"]["train"].values()) == len(ds["train"])


def test_bad_inputs_are_reported_and_the_build_finishes(built, sources):
    """Every source gets samples (round robin over each pool), so every bad one must be reported."""
    text = (built / "build_report.json").read_text()
    assert str(sources) not in text and str(built.parent) not in text  # no absolute paths of this machine
    report = json.loads(text)
    reasons = {entry["source_id"]: entry["reason"] for entry in report["skipped"]}
    for source_id, reason in BAD.items():
        assert source_id in reasons and reason in reasons[source_id], (source_id, reasons.get(source_id))
    assert "refused tar member: path contains '..'" in reasons["llava/0_30_s_x/0_30_s_x_videos_1.tar.gz:../outside.mp4"]
    assert not any(s.endswith(("odd.mkv", "bikes.mp4", "good.mp4")) for s in reasons)
    assert report["written_samples"] + sum(len(e["samples"]) for e in report["skipped"]) == report["planned_samples"]


def test_benchmark_sources_never_reach_train(built):
    manifest = json.loads((built / "manifest.json").read_text())
    assert not set(manifest["holdout"]["benchmark_source_ids"]) & set(manifest["holdout"]["train_source_ids"])


def resample(sources: Path, record: dict, meta: dict):
    return sample_clip(
        str(sources / record["source_id"]),
        meta["num_frames"] if "num_frames" in meta else 48,
        meta.get("density", 1),
        (256, 256),
    )


def mean_abs(a, b) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def records(built, split=None):
    import datasets

    ds = datasets.load_from_disk(str(built))
    for name in ds:
        if split is None or name == split:
            yield from ds[name]


def test_anomaly_interval_matches_the_pixels(built, sources):
    seen = set()
    for record in records(built):
        if record["task"] != "anomaly_grounding" or record["source_id"].startswith("llava"):
            continue
        meta = json.loads(record["meta"])
        clip = resample(sources, record, meta)
        decoded = decode_mp4(record["videos"][0])
        start, length = meta["start_frame"], meta["num_segment_frames"]
        expected = clip.frames[meta["dense_indices"]]  # what the slots show before any pixel change
        begin, end = (float(x) for x in record["answer"].split("-"))
        # The answer is the segment's first slot and one past its last, on the output timeline (1 decimal).
        assert (
            abs(begin - start / record["fps"]) <= 0.05 + 1e-9
            and abs(end - (start + length) / record["fps"]) <= 0.05 + 1e-9
        )
        perturbation = PERTURBATIONS[meta["perturbation"]]
        outside = [i for i in range(48) if not start <= i < start + length]
        worst_outside = max(mean_abs(decoded[i], expected[i]) for i in outside)
        assert worst_outside < 8, record["id"]
        base = clip.frames[clip.base_indices]
        if perturbation.kind == "pixel":
            target = perturbation.apply(expected[start : start + length], meta["params"])
            for k, i in enumerate(range(start, start + length)):
                assert mean_abs(decoded[i], expected[i]) > 2 * worst_outside, (record["id"], i)
                if meta["perturbation"] != "noise":  # the encoder keeps noise's strength, not its exact pattern
                    assert mean_abs(decoded[i], target[k]) < mean_abs(decoded[i], expected[i]), (record["id"], i)
        elif perturbation.kind == "temporal":
            for i in range(48):
                assert mean_abs(decoded[i], expected[i]) < 8
            if meta["perturbation"] == "shuffle":
                moved = [i for i in range(start, start + length) if mean_abs(base[i], expected[i]) > 8]
                assert all(mean_abs(decoded[i], expected[i]) < mean_abs(decoded[i], base[i]) for i in moved)
        else:  # swap: the segment is another clip, the rest untouched
            for i in range(start, start + length):
                assert mean_abs(decoded[i], base[i]) > mean_abs(decoded[j := outside[0]], expected[j])
        seen.add(meta["perturbation"])
    assert len(seen) >= 6


def test_each_counted_shape_is_on_its_frame(built, sources):
    checked = 0
    for record in records(built):
        if record["task"] != "object_counting":
            continue
        meta = json.loads(record["meta"])
        decoded = decode_mp4(record["videos"][0])
        counts = [0, 0, 0]
        for shape in meta["shapes"]:
            pixel = decoded[shape["frame"], round(shape["cy"]), round(shape["cx"])].astype(int)
            assert np.abs(pixel - shape["color"]).max() < 40, (record["id"], shape)
            counts[["circle", "square", "triangle"].index(shape["type"])] += 1
            checked += 1
        assert ",".join(map(str, counts)) == record["answer"]
    assert checked > 10


def test_jigsaw_clips_reassemble_with_the_answer(built, sources):
    checked = 0
    for record in records(built):
        if record["task"] != "temporal_jigsaw" or record["source_id"].startswith("llava"):
            continue
        clip = resample(sources, record, {"num_frames": 48})
        clips = [decode_mp4(v) for v in record["videos"]]
        positions = [int(d) for d in record["answer"]]
        restored = np.concatenate([clips[p - 1] for p in positions])
        original = clip.frames[: len(restored)]
        assert mean_abs(restored, original) < 6
        assert positions != sorted(positions)
        presented = np.concatenate(clips)
        assert mean_abs(presented, original) > mean_abs(restored, original)
        checked += 1
    assert checked >= 3


def test_same_build_with_two_workers_is_byte_identical(built, sources, recipe_file, tmp_path):
    again = build(load_recipe(str(recipe_file)), str(sources), tmp_path, workers=2, progress=False)
    assert shard_checksums(again) == shard_checksums(built)


def start_build(recipe_file, sources, out):
    command = [
        sys.executable,
        "-m",
        "videolake.commands.cli",
        "build",
        str(recipe_file),
        "--sources",
        str(sources),
        "--out",
        str(out),
        "--workers",
        "1",
        "--quiet",
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def wait_for_sidecar(out: Path, process, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if list(out.glob("tiny/.build/shards/*/*.json")):
            return
        assert process.poll() is None, "the build ended before the first shard"
        time.sleep(0.05)
    raise AssertionError("no shard finished in time")


def test_kill_9_of_driver_and_workers_then_resume(built, sources, recipe_file, tmp_path):
    process = start_build(recipe_file, sources, tmp_path)
    wait_for_sidecar(tmp_path, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done_before = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("tiny/.build/shards/*/*.json")}
    assert not (tmp_path / "tiny" / "manifest.json").exists()
    assert not (tmp_path / "tiny" / "train" / "state.json").exists()  # not loadable as complete
    result = run_cli(
        "build", str(recipe_file), "--sources", str(sources), "--out", str(tmp_path), "--workers", "1", "--quiet"
    )
    assert result.returncode == 0, result.stderr
    after = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("tiny/.build/shards/*/*.json")}
    assert all(after[name] == mtime for name, mtime in done_before.items())  # finished shards were not redone
    assert shard_checksums(tmp_path / "tiny") == shard_checksums(built)
    assert validate(tmp_path / "tiny")[1] == []


def test_kill_9_of_a_worker_mid_build(built, sources, recipe_file, tmp_path):
    import psutil

    process = start_build(recipe_file, sources, tmp_path)
    wait_for_sidecar(tmp_path, process)

    def is_worker(p):
        command = " ".join(p.cmdline())
        return "spawn_main" in command and "resource_tracker" not in command

    workers = [p for p in psutil.Process(process.pid).children(recursive=True) if is_worker(p)]
    assert len(workers) == 1
    workers[0].kill()
    assert process.wait(timeout=300) == 0
    assert shard_checksums(tmp_path / "tiny") == shard_checksums(built)


def test_validate_rederives_and_catches_a_wrong_answer(built, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    key = sorted(manifest["shards"])[0]
    table = read_shard(copy / key).to_pylist()
    table[0]["answer"] = (
        "9.9-9.9"
        if table[0]["task"] == "anomaly_grounding"
        else "0,0,0"
        if table[0]["task"] == "object_counting"
        else "1" * 6
    )
    (copy / key).write_bytes(serialize_shard(table))
    manifest["shards"][key].update(sha256=sha256_file(copy / key), bytes=(copy / key).stat().st_size)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    checked, problems = validate(copy)
    assert len(problems) == 1 and "but meta gives" in problems[0]
    result = run_cli("validate", str(copy))
    assert result.returncode == 1 and "Traceback" not in result.stderr


def rewrite_first_record(dataset_dir: Path, change) -> str:
    """Apply ``change(record)`` to the first record of the first shard and update the manifest's
    sha256, as a tool that edits shards consistently would; returns the record id."""
    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    key = sorted(manifest["shards"])[0]
    table = read_shard(dataset_dir / key).to_pylist()
    change(table[0])
    (dataset_dir / key).write_bytes(serialize_shard(table))
    manifest["shards"][key].update(sha256=sha256_file(dataset_dir / key), bytes=(dataset_dir / key).stat().st_size)
    (dataset_dir / "manifest.json").write_text(json.dumps(manifest))
    return table[0]["id"]


def test_validate_decodes_videos_against_meta(built, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(built, copy)

    def flip_a_byte(record):
        video = bytearray(record["videos"][0])
        video[len(video) // 2] ^= 0xFF
        record["videos"][0] = bytes(video)

    record_id = rewrite_first_record(copy, flip_a_byte)
    problems = validate(copy)[1]
    assert len(problems) == 1 and problems[0].startswith(f"{record_id}: video 0:"), problems

    def fewer_frames_meta_hash_updated(record):
        meta = json.loads(record["meta"])
        frames = decode_mp4(record["videos"][0])[:-1]
        record["videos"][0] = encode_mp4(frames, Fraction(meta["fps"]))
        meta["video_sha256"][0] = hashlib.sha256(record["videos"][0]).hexdigest()
        record["meta"] = json.dumps(meta)

    shutil.rmtree(copy)
    shutil.copytree(built, copy)
    record_id = rewrite_first_record(copy, fewer_frames_meta_hash_updated)
    problems = validate(copy)[1]
    assert (
        len(problems) == 1 and problems[0].startswith(f"{record_id}: video 0:") and "frames decoded" in problems[0]
    ), problems


def test_validate_sees_what_loaders_would_read(built, tmp_path):
    import datasets

    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    assert validate(copy)[1] == []
    # a shard listed in state.json but not in the manifest: load_from_disk reads its rows twice
    state_path = copy / "train" / "state.json"
    state = json.loads(state_path.read_text())
    first = state["_data_files"][0]["filename"]
    shutil.copy(copy / "train" / first, copy / "train" / "data-extra.arrow")
    state["_data_files"].append({"filename": "data-extra.arrow"})
    state_path.write_text(json.dumps(state))
    assert len(datasets.load_from_disk(str(copy))["train"]) > len(datasets.load_from_disk(str(built))["train"])
    problems = validate(copy)[1]
    assert any("train/state.json lists" in p and "data-extra.arrow" in p for p in problems), problems
    assert any(p.startswith("train/data-extra.arrow: not a shard of the manifest") for p in problems), problems

    # a cache file written beside the shards by .map/.cast
    shutil.rmtree(copy)
    shutil.copytree(built, copy)
    shutil.copy(copy / "train" / first, copy / "train" / "cache-0123abcd.arrow")
    problems = validate(copy)[1]
    assert problems == [
        "train/cache-0123abcd.arrow: a datasets cache file (written by .map/.cast): load_dataset would read its rows too; delete it"
    ]

    # a split removed from the manifest whose files remain
    shutil.rmtree(copy)
    shutil.copytree(built, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["shards"] = {k: v for k, v in manifest["shards"].items() if not k.startswith("test/")}
    del manifest["counts"]["test"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    problems = validate(copy)[1]
    assert any(p.startswith("dataset_dict.json lists splits") for p in problems), problems
    assert any(p.startswith("test/data-") and "not a shard of the manifest" in p for p in problems), problems


def test_validate_a_truncated_manifest_is_one_line(built, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    text = (copy / "manifest.json").read_text()
    (copy / "manifest.json").write_text(text[: len(text) // 2])
    result = run_cli("validate", str(copy))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert (
        result.stderr.strip().splitlines() == [result.stderr.strip()]
        and "manifest.json: not valid JSON" in result.stderr
    )


def test_user_errors_are_one_line(tmp_path):
    for args in (
        ["build", "no-such-recipe", "--sources", str(tmp_path), "--out", str(tmp_path)],
        ["validate", str(tmp_path)],
        ["build", "demo", "--sources", str(tmp_path / "missing"), "--out", str(tmp_path)],
    ):
        result = run_cli(*args)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    # a malformed command line is one line too (click's usage block is not), with exit status 2
    for args, says in (
        (["build", "synrl-rl", "--max-samples", "0", "--out", str(tmp_path)], "'--max-samples': 0 is not in the range"),
        (["buld"], "No such command 'buld'"),
        (["build"], "Missing argument 'RECIPE'"),
        (
            ["train", "grpo", str(tmp_path), "--model", "tiny", "--out", str(tmp_path), "--max-steps", "0"],
            "--max-steps",
        ),
    ):
        result = run_cli(*args)
        (line,) = result.stderr.strip().splitlines()
        assert result.returncode == 2 and line.startswith("error: ") and says in line and "--help)" in line, line


def test_a_different_recipe_into_the_same_folder_is_refused(built, sources, tmp_path):
    changed = dict(RECIPE, seed=8)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(changed))
    result = run_cli(
        "build", str(path), "--sources", str(sources), "--out", str(built.parent), "--workers", "1", "--quiet"
    )
    assert result.returncode == 1 and "holds a different build" in result.stderr


def test_inspect_draws_contact_sheets_and_the_composition_chart(built, tmp_path):
    from PIL import Image

    result = run_cli("inspect", str(built), "--samples", "3", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    paths = [Path(line) for line in result.stdout.split()]
    assert paths[0].name == "composition.png" and len(paths) == 4
    for path in paths:
        with Image.open(path) as image:
            assert image.size[0] > 400 and image.size[1] > 300


def test_an_existing_dask_cluster_builds_the_same_shards(built, sources, recipe_file, tmp_path):
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        again = build(
            load_recipe(str(recipe_file)), str(sources), tmp_path, scheduler=cluster.scheduler_address, progress=False
        )
        assert len(cluster.workers) == 2  # the build used the cluster and left it running
    assert shard_checksums(again) == shard_checksums(built)


def test_score_cli_on_a_build(built, tmp_path):
    import datasets

    ds = datasets.load_from_disk(str(built))["test"]
    predictions = tmp_path / "preds.jsonl"
    predictions.write_text(
        "".join(json.dumps({"id": r["id"], "prediction": f"<answer>{r['answer']}</answer>"}) + "\n" for r in ds)
    )
    result = run_cli("score", str(predictions), "--dataset", str(built), "--split", "test")
    assert result.returncode == 0, result.stderr
    assert "overall" in result.stdout and json.loads((tmp_path / "preds.scores.json").read_text())["overall"] == 100.0
    assert (tmp_path / "preds.scores.png").stat().st_size > 1000
    baseline = run_cli("score", "--dataset", str(built), "--baseline", "random", "--out", str(tmp_path / "rnd"))
    assert baseline.returncode == 0 and (tmp_path / "rnd.scores.json").exists()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    result = run_cli("score", str(bad), "--dataset", str(built))
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1


def test_ctrl_c_says_how_to_resume_and_the_rerun_completes(built, sources, tmp_path):
    # One sample per shard, so plenty of shards remain when the first one finishes: on a fast
    # machine the 4-sample shards of the shared recipe could all finish before SIGINT lands.
    recipe_file = tmp_path / "tiny.yaml"
    recipe_file.write_text(yaml.safe_dump(dict(RECIPE, shard_size=1)))
    command = [
        sys.executable,
        "-m",
        "videolake.commands.cli",
        "build",
        str(recipe_file),
        "--sources",
        str(sources),
        "--out",
        str(tmp_path),
        "--workers",
        "1",
        "--quiet",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    wait_for_sidecar(tmp_path, process)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and "re-run the same command to resume" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "tiny" / "manifest.json").exists()
    assert run_cli(*command[3:]).returncode == 0
    resumed = json.loads((tmp_path / "tiny" / "manifest.json").read_text())
    assert resumed["counts"] == json.loads((built / "manifest.json").read_text())["counts"]
    assert validate(tmp_path / "tiny")[1] == []
