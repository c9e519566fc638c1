"""Each export loads the way its trainer loads it, and the frames it decodes are the frames we wrote."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.helpers import REPO
from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.consumers import run_in_consumers_env
from videolake.commands.exports import VIDEO_DIR, exporter, sft_target
from videolake.pipeline.encode import decode_mp4
from videolake.pipeline.graph import build
from videolake.pipeline.recipes import load_recipe
from videolake.rewards import REWARDS, accuracy_reward, compute_score, ideal_completion

RECIPE = {
    "name": "mixed",
    "shard_size": 4,
    "max_size": [128, 128],
    "holdout_fraction": 0,
    "splits": {
        "train": [
            {"task": "anomaly_grounding", "subtype": "channel_swap", "count": 2},
            {"task": "temporal_jigsaw", "tier": "easy", "count": 1},
            {"task": "synrl", "subtype": "card_pile", "count": 1, "params": {"size": 64}},
            {"task": "synrl", "subtype": "rotation", "count": 1, "params": {"size": 64}},
        ]
    },
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, clips_dir) -> Path:
    out = tmp_path_factory.mktemp("exports")
    sources = out / "sources"
    sources.mkdir()
    for name in ("bikes.mp4", "b.mp4", "testMovie.mp4"):
        (sources / name).symlink_to(clips_dir / name)
    (out / "mixed.yaml").write_text(yaml.safe_dump(RECIPE))
    return build(load_recipe(str(out / "mixed.yaml")), str(sources), out / "out", workers=1, progress=False)


@pytest.fixture(scope="module")
def records(dataset) -> dict:
    import datasets

    return {row["id"]: row for row in datasets.load_from_disk(str(dataset))["train"]}


def decoded_with_times(path: str) -> tuple[np.ndarray, list[float]]:
    with av.open(path) as container:
        frames = list(container.decode(video=0))
    return np.stack([f.to_ndarray(format="rgb24") for f in frames]), [float(f.time) for f in frames]


def assert_same_videos(paths: list[str], record: dict) -> None:
    """The files hold the record's videos: same frames, frame i at i / fps."""
    assert len(paths) == len(record["videos"]) == record["question"].count("<video>")
    for path, data in zip(paths, record["videos"], strict=True):
        frames, times = decoded_with_times(path)
        assert np.array_equal(frames, decode_mp4(data))
        assert np.allclose(times, np.arange(len(times)) / record["fps"], atol=1e-3)


def test_verl_parquet_is_what_rlhfdataset_reads(dataset, records, tmp_path):
    import datasets

    (path,) = exporter("verl")(dataset, tmp_path, None)
    rows = datasets.load_dataset("parquet", data_files=str(path))["train"]  # verl's own call
    assert len(rows) == len(records)
    for row in rows:
        record = records[row["extra_info"]["id"]]
        assert [m["role"] for m in row["prompt"]] == ["system", "user"] and row["prompt"][1]["content"] == record[
            "question"
        ]
        assert row["data_source"] in REWARDS and row["reward_model"]["ground_truth"] == record["answer"]
        assert_same_videos([v["video"] for v in row["videos"]], record)
        for video, data in zip(row["videos"], record["videos"], strict=True):
            frames = len(decode_mp4(data))
            assert (
                video["nframes"] % 2 == 0 and frames - 1 <= video["nframes"] <= frames
            )  # every frame: the clip's own clock
            assert "fps" not in video  # verl's fps is a sampling rate: it would resample the clip
        score = compute_score(
            row["data_source"], record["answer"], row["reward_model"]["ground_truth"], row["extra_info"]
        )["score"]
        assert score > 0.99
        assert json.loads(row["extra_info"]["meta"]) == json.loads(record["meta"])


def assert_frames_resized_from(seen: np.ndarray, ours: np.ndarray) -> None:
    """``seen`` [T, H, W, 3] are ``ours`` in order, as the consumer resized them (<= 1 grey level)."""
    height, width = seen.shape[1:3]
    expected = np.stack(
        [np.asarray(Image.fromarray(frame).resize((width, height), Image.BICUBIC)) for frame in ours]
    ).astype(float)
    assert np.abs(seen.astype(float) - expected).mean(axis=(1, 2, 3)).max() < 1.0


@pytest.mark.consumers
def test_verl_itself_reads_our_frames_on_our_clock_and_scores_with_our_reward(dataset, records, tmp_path):
    """In verl's own environment: RLHFDataset keeps every row, its video path hands the processor
    the frames we wrote with their timing, and the shipped config's reward manager scores a
    completion exactly as videolake.rewards does."""
    import datasets

    (path,) = exporter("verl")(dataset, tmp_path, None)
    exported = {row["extra_info"]["id"]: row for row in datasets.load_dataset("parquet", data_files=str(path))["train"]}
    completions = {
        id_: ideal_completion(r["task"], r["answer"]) if i % 2 == 0 else "I cannot tell."
        for i, (id_, r) in enumerate(sorted(records.items()))
    }
    (tmp_path / "completions.json").write_text(json.dumps(completions))
    out = tmp_path / "seen.npz"
    run_in_consumers_env(
        "verl_reads_export.py", path, REPO / "trainer" / "configs", tmp_path / "completions.json", out, cwd=tmp_path
    )
    seen = np.load(out)
    rows = json.loads(str(seen["rows"]))
    assert sorted(row["id"] for row in rows) == sorted(records)  # nothing filtered out as unloadable
    for row in rows:
        record = records[row["id"]]
        assert row["data_source"] == record["task"] and row["ground_truth"] == record["answer"]
        for k, (data, metadata) in enumerate(zip(record["videos"], row["metadata"], strict=True)):
            ours, fps = decode_mp4(data), record["fps"]
            indices = metadata["frames_indices"]
            assert metadata["total_num_frames"] == len(ours) and metadata["fps"] == pytest.approx(fps)
            assert len(indices) == len(ours) - len(ours) % 2 and indices == sorted(set(indices))
            assert_frames_resized_from(seen[f"{row['id']}/{k}"].transpose(0, 2, 3, 1), ours[indices])
            # the model's clock: temporal patch t starts at t * second_per_grid_ts, and is frame indices[2t]
            starts = np.arange(row["video_grid_thw"][k][0]) * row["second_per_grid_ts"][k]
            assert np.abs(starts - np.asarray(indices[::2]) / fps).max() <= 1 / fps + 1e-6
    scores = json.loads(str(seen["scores"]))
    for id_, completion in completions.items():
        row = exported[id_]
        expected_score = compute_score(
            row["data_source"], completion, row["reward_model"]["ground_truth"], row["extra_info"]
        )["score"]
        assert scores[id_] == pytest.approx(expected_score)
    assert {scores[i] > 0.99 for i in completions} == {True, False}  # the right answers score, the others do not


def test_trl_parquet_has_flat_columns_the_rewards_read(dataset, records, tmp_path):
    import datasets

    (path,) = exporter("trl")(dataset, tmp_path, "train")
    rows = datasets.load_dataset("parquet", data_files=str(path))["train"]
    assert {"prompt", "completion", "videos", "fps", "task", "answer"} <= set(rows.column_names)
    assert accuracy_reward(rows["prompt"], list(rows["answer"]), task=rows["task"], answer=rows["answer"]) == [
        1.0
    ] * len(rows)
    for row in rows:
        record = records[row["id"]]
        assert_same_videos(row["videos"], record)
        content = row["completion"][0]["content"]
        assert content == sft_target(record)
        if record["reasoning"] is not None:  # SFT: the trace in <think>, the answer in <answer>, as SynRL asks
            assert content.startswith("<think>\n" + record["reasoning"]) and content.endswith(
                f"<answer>{record['answer']}</answer>"
            )
            assert compute_score("synrl", content, record["answer"]) == {"score": 1.0, "accuracy": 1.0, "format": 1.0}


def test_llamafactory_sharegpt_json_and_dataset_info(dataset, records, tmp_path):
    import datasets

    written = exporter("llamafactory")(dataset, tmp_path, None)
    info = json.loads((tmp_path / "llamafactory" / "dataset_info.json").read_text())
    entry = info["mixed_train"]
    assert entry["formatting"] == "sharegpt" and entry["columns"] == {
        "messages": "messages",
        "system": "system",
        "videos": "videos",
    }
    assert entry["tags"] == {
        "role_tag": "role",
        "content_tag": "content",
        "user_tag": "user",
        "assistant_tag": "assistant",
    }
    data_file = tmp_path / "llamafactory" / entry["file_name"]
    assert data_file in written
    items = datasets.load_dataset("json", data_files=str(data_file))["train"]
    assert len(items) == len(records)
    by_first_video = {hashlib.sha256(r["videos"][0]).hexdigest(): r for r in records.values()}  # files are named by it
    for item in items:
        user, assistant = item["messages"]
        assert (user["role"], assistant["role"]) == ("user", "assistant")
        record = by_first_video[Path(item["videos"][0]).stem]
        assert (user["content"], item["system"]) == (record["question"], record["system"])
        assert user["content"].count("<video>") == len(item["videos"])  # LLaMA-Factory's own rule
        assert_same_videos(item["videos"], record)
        assert assistant["content"] == sft_target(record)
    # a second dataset in the same folder keeps the first one's entry
    exporter("llamafactory")(dataset, tmp_path, "train")
    assert set(json.loads((tmp_path / "llamafactory" / "dataset_info.json").read_text())) == {"mixed_train"}


@pytest.mark.consumers
def test_llamafactory_itself_trains_on_our_answers_with_our_frames_on_our_clock(dataset, records, tmp_path):
    """In LLaMA-Factory's own environment, as `llamafactory-cli train --stage sft --template qwen2_vl
    --video_fps 30` reads it: every row, the assistant turn we wrote as the label, every frame of
    every video (an odd count padded with its last frame, as qwen2_vl needs), at the record's rate."""
    exporter("llamafactory")(dataset, tmp_path, None)
    out = tmp_path / "seen.npz"
    run_in_consumers_env(
        "llamafactory_reads_export.py", tmp_path / "llamafactory", "mixed_train", 30, out, cwd=tmp_path
    )
    seen = np.load(out)
    rows = json.loads(str(seen["rows"]))
    by_first_video = {hashlib.sha256(r["videos"][0]).hexdigest(): r for r in records.values()}
    assert sorted(by_first_video[Path(row["videos"][0]).stem]["id"] for row in rows) == sorted(records)
    for i, row in enumerate(rows):
        record = by_first_video[Path(row["videos"][0]).stem]
        assert row["answer"] == sft_target(record) + "\n"  # the qwen template ends a turn with <|im_end|>\n
        for k, data in enumerate(record["videos"]):
            ours = decode_mp4(data)
            padded = np.concatenate([ours, ours[-1:]]) if len(ours) % 2 else ours
            assert seen[f"{i}/{k}"].shape[0] == len(padded)
            assert_frames_resized_from(seen[f"{i}/{k}"], padded)
            assert row["fps_per_video"][k] == pytest.approx(record["fps"]) and row["second_per_grid_ts"][
                k
            ] == pytest.approx(2 / record["fps"])
        # the prompt holds one video token per merged patch the vision tower will produce
        assert row["video_tokens"] == sum(t * h * w for t, h, w in row["video_grid_thw"]) // 4


def test_videos_are_written_once_across_formats_and_runs(dataset, records, tmp_path):
    for name in ("verl", "trl", "llamafactory"):
        exporter(name)(dataset, tmp_path, None)
    files = sorted((tmp_path / VIDEO_DIR).rglob("*.mp4"))
    assert len(files) == len({bytes(v) for r in records.values() for v in r["videos"]})
    stamps = {f: f.stat().st_mtime_ns for f in files}
    exporter("verl")(dataset, tmp_path, None)
    assert {f: f.stat().st_mtime_ns for f in files} == stamps


def test_export_prints_what_it_wrote_and_refuses_a_split_the_dataset_lacks(dataset, tmp_path):
    result = run_cli("export", "trl", dataset, "--out", tmp_path)
    assert result.returncode == 0 and result.stdout.strip().endswith("train.parquet"), result.stderr
    result = run_cli("export", "trl", dataset, "--out", tmp_path, "--split", "test")
    assert result.returncode == 1 and "has no split 'test'" in result.stderr


def copy_as(dataset: Path, folder: Path, name: str, **manifest_changes) -> Path:
    """A copy of the dataset in ``folder/name`` (manifest fields changed: a different dataset)."""
    import shutil

    copy = folder / name
    shutil.copytree(dataset, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").write_text(json.dumps({**manifest, "dataset": name, **manifest_changes}))
    return copy


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("format_name", ["verl", "trl", "llamafactory"])
def test_a_different_dataset_of_the_same_name_is_refused_and_a_copy_is_not(dataset, tmp_path, format_name):
    out = tmp_path / "export"
    exporter(format_name)(dataset, out, None)
    before = tree_digest(out)
    other = copy_as(dataset, tmp_path / "elsewhere", "mixed", seed=99)
    assert_one_line_error(
        run_cli("export", format_name, other, "--out", out), "a different dataset of the same name", str(dataset)
    )
    assert tree_digest(out) == before
    copy = copy_as(dataset, tmp_path / "copy", "mixed")
    (tmp_path / "copy" / "mixed" / "manifest.json").write_bytes(
        (dataset / "manifest.json").read_bytes()
    )  # byte-identical: the same dataset
    assert exporter(format_name)(copy, out, None)


def test_a_rebuild_of_the_same_folder_replaces_its_export_and_drops_what_it_no_longer_has(dataset, tmp_path):
    folder = tmp_path / "lake"
    rebuilt = copy_as(dataset, folder, "mixed")
    out = tmp_path / "export"
    exporter("llamafactory")(rebuilt, out, None)
    claims = json.loads((out / ".videolake-exports.json").read_text())
    claims |= {
        key.replace("mixed_train", "mixed_old"): owner | {"manifest_sha256": "0" * 64} for key, owner in claims.items()
    }  # what an earlier build left
    (out / ".videolake-exports.json").write_text(json.dumps(claims))
    (out / "llamafactory" / "mixed_old.json").write_text("[]")
    info = json.loads((out / "llamafactory" / "dataset_info.json").read_text())
    (out / "llamafactory" / "dataset_info.json").write_text(
        json.dumps({**info, "mixed_old": info["mixed_train"], "users_own": {"file_name": "x.json"}})
    )
    exporter("llamafactory")(rebuilt, out, None)
    assert set(json.loads((out / "llamafactory" / "dataset_info.json").read_text())) == {"mixed_train", "users_own"}
    assert not (out / "llamafactory" / "mixed_old.json").exists()


def test_a_file_no_export_wrote_is_never_replaced(dataset, tmp_path):
    out = tmp_path / "export"
    (out / "llamafactory").mkdir(parents=True)
    (out / "llamafactory" / "dataset_info.json").write_text(json.dumps({"mixed_train": {"file_name": "mine.json"}}))
    assert_one_line_error(
        run_cli("export", "llamafactory", dataset, "--out", out), "no videolake export", "dataset_info.json"
    )
    (out / "trl" / "mixed").mkdir(parents=True)
    (out / "trl" / "mixed" / "train.parquet").write_bytes(b"mine")
    assert_one_line_error(run_cli("export", "trl", dataset, "--out", out), "no videolake export", "train.parquet")
    assert (out / "trl" / "mixed" / "train.parquet").read_bytes() == b"mine"


def test_concurrent_llamafactory_exports_keep_every_entry(dataset, tmp_path):
    """Real processes at once into one folder, a few rounds: every dataset_info.json entry survives."""
    names = [f"set{i}" for i in range(3)]
    copies = [copy_as(dataset, tmp_path / "lake", name) for name in names]
    for round_number in range(3):
        out = tmp_path / f"export{round_number}"
        command = [sys.executable, "-m", "videolake.commands.cli", "export", "llamafactory"]
        processes = [
            subprocess.Popen(
                [*command, str(copy), "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
            )
            for copy in copies
        ]
        for process in processes:
            assert process.wait(timeout=600) == 0, process.stderr.read()
            process.stderr.close()
        assert set(json.loads((out / "llamafactory" / "dataset_info.json").read_text())) == {
            f"{name}_train" for name in names
        }
        assert set(json.loads((out / ".videolake-exports.json").read_text())) >= {
            f"llamafactory/{name}_train.json" for name in names
        }


@pytest.mark.parametrize("content", ["{not json", "[1]", '{"a": 5}', ""])
def test_a_broken_dataset_info_is_one_line_and_left_as_it_is(dataset, tmp_path, content):
    info = tmp_path / "llamafactory" / "dataset_info.json"
    info.parent.mkdir()
    info.write_text(content)
    assert_one_line_error(run_cli("export", "llamafactory", dataset, "--out", tmp_path), str(info))
    assert info.read_text() == content


@pytest.mark.parametrize("content", ["nope", "[]", '{"verl/x": 1}', '{"verl/x": {"dataset": "d"}}'])
def test_a_broken_export_record_is_one_line(dataset, tmp_path, content):
    (tmp_path / ".videolake-exports.json").write_text(content)
    assert_one_line_error(run_cli("export", "verl", dataset, "--out", tmp_path), ".videolake-exports.json")


def test_a_truncated_or_altered_video_is_written_again(dataset, records, tmp_path):
    exporter("trl")(dataset, tmp_path, None)
    truncated, altered = sorted((tmp_path / VIDEO_DIR).rglob("*.mp4"))[:2]
    truncated.write_bytes(truncated.read_bytes()[:100])
    data = bytearray(altered.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    altered.write_bytes(bytes(data))
    exporter("verl")(dataset, tmp_path, None)
    for path in (truncated, altered):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.stem


def test_a_killed_exports_half_written_files_are_swept(dataset, tmp_path):
    exporter("trl")(dataset, tmp_path, None)
    video = next((tmp_path / VIDEO_DIR).rglob("*.mp4"))
    leftovers = [
        video.with_name(f".{video.name}.4242.tmp"),
        tmp_path / "trl" / "mixed" / ".train.parquet.77.tmp",
        tmp_path / "llamafactory" / ".mixed_train.json.9.tmp",
    ]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
    keep = tmp_path / ".notes.1.tmp"  # outside the folders exports write: not ours to remove
    keep.write_bytes(b"user")
    exporter("trl")(dataset, tmp_path, None)
    assert not any(path.exists() for path in leftovers) and keep.exists()


def test_a_symlink_loop_under_videos_is_one_line(dataset, records, tmp_path):
    digest = hashlib.sha256(next(iter(records.values()))["videos"][0]).hexdigest()
    loop = tmp_path / VIDEO_DIR / digest[:2] / f"{digest}.mp4"
    loop.parent.mkdir(parents=True)
    loop.symlink_to(loop)
    assert_one_line_error(run_cli("export", "trl", dataset, "--out", tmp_path), str(loop))
    other = tmp_path / "other"
    (other / VIDEO_DIR).parent.mkdir()
    (other / VIDEO_DIR).symlink_to(other / VIDEO_DIR)
    assert_one_line_error(run_cli("export", "verl", dataset, "--out", other), str(other / VIDEO_DIR))


@pytest.mark.parametrize("inside", [".", "out", "train"])
def test_an_export_inside_the_dataset_is_refused(dataset, inside):
    before = tree_digest(dataset)
    assert_one_line_error(
        run_cli("export", "trl", dataset, "--out", dataset / inside), "the input", "choose an output folder outside it"
    )
    assert tree_digest(dataset) == before


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(content=JSON_VALUES.map(json.dumps).map(str.encode) | st.binary(max_size=64))
def test_any_content_of_the_files_an_export_reads_back_is_used_whole_or_one_error(content):
    """dataset_info.json and the export record: what is used has the shape the export relies on."""
    import tempfile

    from videolake import VideolakeError
    from videolake.commands.exports import read_claims
    from videolake.commands.exports.llamafactory import read_info

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "file.json"
        path.write_bytes(content)
        try:
            assert all(isinstance(entry, dict) for entry in read_info(path).values())
        except VideolakeError as err:
            assert str(path) in str(err)
        try:
            assert all(
                isinstance(owner["dataset"], str) and isinstance(owner["manifest_sha256"], str)
                for owner in read_claims(path).values()
            )
        except VideolakeError as err:
            assert str(path) in str(err)


def test_a_large_export_counts_its_records_on_a_terminal_only(dataset, monkeypatch):
    import io

    import videolake.commands.exports as exports

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    rows = len(list(exports.records(dataset)))
    for large_from, stderr, shown in ((1, Terminal(), True), (1, io.StringIO(), False), (rows + 1, Terminal(), False)):
        monkeypatch.setattr(exports, "PROGRESS_FROM", large_from)
        monkeypatch.setattr(sys, "stderr", stderr)
        assert len(list(exports.records(dataset))) == rows
        assert (f"{rows}/{rows}" in stderr.getvalue()) == shown, (large_from, stderr.getvalue())
