"""Annotated sets the papers trained on, ingested from small fixtures written in each documented
format over the real clips: Charades-STA, ActivityNet Captions, GOT-10k, NExT-GQA and
LLaVA-Video-178K QA. Good rows become validated samples; bad rows reach the build report."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from tests.helpers.cli import assert_one_line_error, run_cli
from videolake.commands.validate import validate
from videolake.pipeline.encode import decode_mp4
from videolake.pipeline.graph import build
from videolake.pipeline.recipes import RecipeError, load_recipe, parse_recipe

pytestmark = pytest.mark.slow  # a build of several tasks or a model trained: `make check` skips it

CLIPS = {
    "bikes": "bikes.mp4",
    "testMovie": "testMovie.mp4",
    "cityCC0": "cityCC0.mpg",
    "world": "world.mp4",
    "jwpIntro": "jwpIntro.mp4",
    "carphone_pristine": "carphone_pristine.mp4",
}
CHARADES = """bikes 0.5 3.2##A person rides a bike.
bikes 4.0 8.5##people ride past the shop
testMovie 1.0 5.0##something moves
world 10.0 20.0##a globe turns
world 22.0 26.0##a globe turns
world 24.0 28.0##a globe turns
cityCC0 2.0 30.0##the street is busy
missing 1.0 2.0##no such video
garbage line
"""
ACTIVITYNET = {
    "v_bikes": {
        "duration": 10.0,
        "timestamps": [[0.5, 3.0], [5.0, 9.0]],
        "sentences": ["A man rides a bike.", "Bikes pass by."],
    },
    "v_jwpIntro": {"duration": 5.8, "timestamps": [[1.0, 4.5]], "sentences": ["A logo appears."]},
    "v_nothing": {"duration": 5.0, "timestamps": [[1.0, 2.0]], "sentences": ["Nobody filmed this."]},
    "v_world": {"duration": 30.0, "timestamps": [[1.0, 2.0]], "sentences": []},
    "v_testMovie": {"duration": 7.8, "timestamps": [[1.0, 2.0]], "sentences": [5]},  # a sentence of the wrong type
}
SQUARE = (230, 40, 200)
SEQUENCE_SIZE = (320, 240)


def square_boxes(count: int) -> list[list[int]]:
    return [[10 + 10 * i, 20 + 6 * i, 40, 30] for i in range(count)]


def write_sequence(folder: Path, boxes: list[list[int]], frames: int, object_class: str | None = "toy square") -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(len(boxes))
    background = rng.integers(0, 120, size=(SEQUENCE_SIZE[1] // 8, SEQUENCE_SIZE[0] // 8, 3), dtype=np.uint8)
    background = np.asarray(Image.fromarray(background).resize(SEQUENCE_SIZE, Image.BILINEAR))
    for i in range(frames):
        image = background.copy()
        x, y, w, h = boxes[min(i, len(boxes) - 1)]
        image[max(0, y) : y + h, max(0, x) : x + w] = SQUARE
        Image.fromarray(image).save(folder / f"{i + 1:08d}.jpg", quality=95)
    (folder / "groundtruth.txt").write_text("".join(f"{x},{y},{w},{h}\n" for x, y, w, h in boxes))
    if object_class:
        (folder / "meta_info.ini").write_text(
            f"[METAINFO]\nurl: none\nobject_class: {object_class}\nmotion_class: sliding\n"
        )


def write_nextqa(root: Path) -> None:
    (root / "nextqa").mkdir()
    questions = [
        ("bikes", "q1", "what are the people riding", 2, ["cars", "horses", "bikes", "boats", "planes"]),
        ("world", "q2", "what turns", 0, ["a globe", "a wheel", "a door", "a car", "a page"]),
        ("testMovie", "q3", "is anything moving", 1, ["no", "yes", "maybe", "never", "always"]),
        ("cityCC0", "q4", "what is busy", 3, ["a park", "a lake", "a room", "a street", "a field"]),
        ("carphone_pristine", "q5", "who talks", 0, ["a man", "a dog", "a cat", "a bird", "a fish"]),
    ]
    with (root / "nextqa" / "val.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "video",
                "frame_count",
                "width",
                "height",
                "question",
                "answer",
                "qid",
                "type",
                "a0",
                "a1",
                "a2",
                "a3",
                "a4",
            ]
        )
        for video, qid, question, answer, options in questions:
            writer.writerow([video, 100, 640, 360, question, answer, qid, "CW", *options])
        writer.writerow(["bikes", 100, 640, 360, "broken", 7, "q9", "CW", "a", "b", "c", "d", "e"])
        writer.writerow(["world", 100, 640, 360, "cut short", 1, "q10", "CW", "a"])
    grounding = {
        "bikes": {"duration": 10.0, "location": {"q1": [[1.0, 4.0], [6.0, 8.0]]}},
        "world": {"duration": 30.0, "location": {"q2": [[2.0, 12.0]]}},
        "testMovie": {"duration": 7.8, "location": {"q3": [[9.0, 12.0]]}},
        "cityCC0": {"duration": 7.6, "location": {"q4": [[0.0, 7.0]]}},
    }
    (root / "nextqa" / "gsub_val.json").write_text(json.dumps(grounding))


def write_llava(root: Path) -> None:
    folder = root / "llava" / "0_30_s_academic_v0_1"
    folder.mkdir(parents=True)
    items = [
        {
            "id": "m1",
            "video": "videos/bikes.mp4",
            "conversations": [
                {"from": "human", "value": "<image>\nWhat moves?\nA. Bikes\nB. Trees\nC. Clouds\nD. Walls"},
                {"from": "gpt", "value": "A."},
            ],
        },
        {
            "id": "m2",
            "video": "videos/world.mp4",
            "conversations": [
                {"from": "human", "value": "<image>\nWhat is shown?\nA. A cat\nB. The Earth"},
                {"from": "gpt", "value": "B. The Earth"},
            ],
        },
        {
            "id": "o1",
            "video": "videos/testMovie.mp4",
            "conversations": [
                {"from": "human", "value": "<image>\nDescribe the video briefly."},
                {"from": "gpt", "value": "A short test clip."},
            ],
        },
        {
            "id": "o2",
            "video": "videos/jwpIntro.mp4",
            "conversations": [
                {"from": "human", "value": "<image>\nWhat appears?"},
                {"from": "gpt", "value": "A logo."},
                {"from": "human", "value": "What colour?"},
                {"from": "gpt", "value": "Blue."},
            ],
        },
        {
            "id": "x",
            "video": "videos/nowhere.mp4",
            "conversations": [{"from": "human", "value": "<image>\nWhat?"}, {"from": "gpt", "value": "Nothing."}],
        },
        {"id": "y", "video": "videos/bikes.mp4"},
        {
            "id": "z",
            "video": "videos/world.mp4",
            "conversations": [{"from": "human", "value": "<image>\nWhat turns?"}, {"from": "gpt", "value": None}],
        },
    ]
    (folder / "0_30_s_academic_mc_v0_1_qa_processed.json").write_text(json.dumps(items))


@pytest.fixture(scope="module")
def sources(tmp_path_factory, clips_dir) -> Path:
    root = tmp_path_factory.mktemp("annotated")
    (root / "videos").mkdir()
    for name in CLIPS.values():
        os.symlink(clips_dir / name, root / "videos" / name)
    (root / "charades_sta_train.txt").write_text(CHARADES)
    (root / "activitynet").mkdir()
    (root / "activitynet" / "train.json").write_text(json.dumps(ACTIVITYNET))
    got = root / "got10k" / "train"
    write_sequence(got / "GOT-10k_Train_000001", square_boxes(24), 24)
    write_sequence(got / "GOT-10k_Train_000002", square_boxes(16), 16, object_class=None)
    write_sequence(got / "GOT-10k_Train_000003", [[300, 10, 60, 30]] * 12, 12)  # sticks out of the frame
    write_sequence(got / "GOT-10k_Train_000004", square_boxes(10), 12)  # 10 boxes for 12 frames
    write_nextqa(root)
    write_llava(root)
    return root


RECIPE = {
    "name": "annotated",
    "seed": 3,
    "frames": 24,
    "max_size": [256, 256],
    "shard_size": 6,
    "holdout_fraction": 0,
    "splits": {
        "train": [
            {
                "task": "temporal_grounding",
                "subtype": "charades_sta",
                "annotations": "charades_sta_train.txt",
                "count": 50,
            },
            {
                "task": "temporal_grounding",
                "subtype": "activitynet",
                "annotations": "activitynet/train.json",
                "count": 50,
            },
            {
                "task": "multi_segment_grounding",
                "subtype": "charades_sta",
                "annotations": ["charades_sta_train.txt"],
                "count": 50,
                "params": {"stage": 1},
            },
            {"task": "object_tracking", "subtype": "got10k", "annotations": "got10k/train", "count": 50},
            {
                "task": "grounding_qa",
                "subtype": "nextgqa",
                "annotations": ["nextqa/val.csv", "nextqa/gsub_val.json"],
                "count": 50,
            },
            {"task": "multiple_choice", "subtype": "nextgqa", "annotations": ["nextqa/val.csv"], "count": 50},
            {
                "task": "multiple_choice",
                "subtype": "llava_video",
                "annotations": "llava/0_30_s_academic_v0_1/0_30_s_academic_mc_v0_1_qa_processed.json",
                "count": 50,
            },
            {
                "task": "open_ended_qa",
                "subtype": "llava_video",
                "annotations": "llava/0_30_s_academic_v0_1/0_30_s_academic_mc_v0_1_qa_processed.json",
                "count": 50,
            },
        ]
    },
}


@pytest.fixture(scope="module")
def built(tmp_path_factory, sources) -> Path:
    path = tmp_path_factory.mktemp("recipe") / "annotated.yaml"
    path.write_text(yaml.safe_dump(RECIPE))
    return build(load_recipe(str(path)), str(sources), tmp_path_factory.mktemp("out"), workers=1, progress=False)


def records(built) -> list[dict]:
    import datasets

    return list(datasets.load_from_disk(str(built))["train"])


def by_subtype(built, task: str, subtype: str) -> list[dict]:
    return [r for r in records(built) if r["task"] == task and r["subtype"] == subtype]


def test_good_rows_build_and_validate(built):
    checked, problems = validate(built)
    assert problems == []
    counts = json.loads((built / "manifest.json").read_text())["counts"]["train"]
    assert counts == {
        "temporal_grounding/charades_sta/default": 6,  # 9 lines: 1 unreadable, 1 unknown video, 1 outside the video
        "temporal_grounding/activitynet/default": 3,  # v_nothing has no video, v_world no sentences
        "multi_segment_grounding/charades_sta/default": 4,  # the three globe rows are one query
        "object_tracking/got10k/default": 2,
        "grounding_qa/nextgqa/default": 3,  # q3 is outside its video; q5 has no grounding (not a grounding_qa row)
        "multiple_choice/nextgqa/default": 5,
        "multiple_choice/llava_video/default": 2,
        "open_ended_qa/llava_video/default": 3,  # o2 has two turns
    }
    assert checked == sum(counts.values())


def reasons(built) -> dict[str, str]:
    report = json.loads((built / "build_report.json").read_text())
    return {entry["source_id"]: entry["reason"] for entry in report["skipped"]}


def test_bad_rows_reach_the_build_report_with_their_reason(built):
    found = reasons(built)
    assert found["charades_sta_train.txt:8"] == "video 'missing' is not among the sources"
    assert found["charades_sta_train.txt:9"] == "expected 'VIDEOID start end##query'"
    assert "charades_sta_train.txt:7: interval 2-30 s is not inside the video (7.60 s)" in " ".join(found.values())
    assert found["activitynet/train.json:v_nothing[0]"] == "video 'v_nothing' is not among the sources"
    assert "0 sentences" in found["activitynet/train.json:v_world"]
    assert "groundtruth.txt: 10 boxes for 12 frames" in found["got10k/train/GOT-10k_Train_000004"]
    assert "is empty or outside the 320x240 frame" in " ".join(found.values())
    assert "answer 7 is not one of 5 non-empty options" in found["nextqa/val.csv:7"]
    assert (
        "is not among the sources" in found["llava/0_30_s_academic_v0_1/0_30_s_academic_mc_v0_1_qa_processed.json[4].0"]
    )
    # rows of the wrong type are reported rows; the build goes on (the counts above are unchanged)
    assert (
        found["activitynet/train.json:v_testMovie[0]"]
        == "unreadable sentence: sentences[0] must be a string, got a number"
    )
    assert found["nextqa/val.csv:8"] == "unreadable question: short row: no value for 'a1'"
    assert (
        found["llava/0_30_s_academic_v0_1/0_30_s_academic_mc_v0_1_qa_processed.json[6]"]
        == "unreadable item: turn 1 value must be a string, got null"
    )
    shortfalls = json.loads((built / "build_report.json").read_text())["annotation_shortfalls"]
    assert {"entry": "train[0] temporal_grounding/charades_sta", "asked": 50, "available": 7} in shortfalls
    assert not any(
        "open-ended" in reason or "multiple-choice" in reason for reason in found.values()
    )  # each task takes its own rows


def test_grounding_answers_are_on_the_videos_own_clock(built):
    for record in by_subtype(built, "temporal_grounding", "charades_sta"):
        meta = json.loads(record["meta"])
        times = np.asarray(meta["source_times"])
        # the whole video is sampled and slot i is shown at i / fps: the output clock is the source's
        assert (
            times[0] == pytest.approx(0.0, abs=0.05)
            and np.abs(times - np.arange(len(times)) / record["fps"]).max() < 0.05
        )
        start, end = (float(v) for v in record["answer"].split(" to "))
        assert (start, end) == (
            meta["annotation"]["start"],
            min(meta["annotation"]["end"], meta["num_frames"] / record["fps"]),
        )
        assert f'"{meta["annotation"]["query"]}"' in record["question"] and not meta["annotation"]["query"].endswith(
            "."
        )
    globe = [r for r in by_subtype(built, "multi_segment_grounding", "charades_sta") if "globe" in r["question"]]
    assert [r["answer"] for r in globe] == ["10.00-20.00 22.00-28.00"]  # overlapping intervals merged
    assert "REFER TO SPECIFIC TIMESTAMPS" in globe[0]["question"]


def test_got10k_boxes_hold_the_object_on_the_decoded_frames(built):
    checked = 0
    for record in by_subtype(built, "object_tracking", "got10k"):
        boxes = json.loads(record["answer"])
        decoded = decode_mp4(record["videos"][0])
        assert len(decoded) == len(boxes) == 8 and decoded.shape[1:3] == (192, 256)
        for frame, (x1, y1, x2, y2) in zip(decoded, boxes):
            ys, xs = np.nonzero(np.abs(frame.astype(np.int16) - SQUARE).max(axis=-1) < 50)
            assert (
                abs(xs.min() - x1) <= 2
                and abs(xs.max() + 1 - x2) <= 2
                and abs(ys.min() - y1) <= 2
                and abs(ys.max() + 1 - y2) <= 2
            )
        meta = json.loads(record["meta"])
        assert meta["source_size"] == list(SEQUENCE_SIZE) and meta["annotation"]["frames"][0] == "00000001.jpg"
        assert ('"toy square"' if record["source_id"].endswith("1") else '"object"') in record["question"]
        checked += 1
    assert checked == 2


def test_qa_answers_and_prompts(built):
    (bikes,) = [r for r in by_subtype(built, "grounding_qa", "nextgqa") if r["source_id"] == "videos/bikes.mp4"]
    assert json.loads(bikes["answer"]) == {"answer": "C", "segments": [[1.0, 4.0], [6.0, 8.0]]}
    assert "['A. cars', 'B. horses', 'C. bikes', 'D. boats', 'E. planes']" in bikes["question"]
    assert sorted(r["answer"] for r in by_subtype(built, "multiple_choice", "llava_video")) == ["A", "B"]
    assert sorted(r["answer"] for r in by_subtype(built, "open_ended_qa", "llava_video")) == [
        "A logo.",
        "A short test clip.",
        "Blue.",
    ]


def test_the_benchmark_holdout_applies_to_annotated_rows(sources, tmp_path):
    document = {**RECIPE, "name": "held", "holdout_fraction": 0.5}
    document["splits"] = {
        "train": [RECIPE["splits"]["train"][0], RECIPE["splits"]["train"][3]],
        "test": [RECIPE["splits"]["train"][0], RECIPE["splits"]["train"][3]],
    }
    path = tmp_path / "held.yaml"
    path.write_text(yaml.safe_dump(document))
    dataset = build(load_recipe(str(path)), str(sources), tmp_path / "out", workers=1, progress=False)
    manifest = json.loads((dataset / "manifest.json").read_text())
    held = set(manifest["holdout"]["benchmark_source_ids"])
    import datasets

    loaded = datasets.load_from_disk(str(dataset))
    assert {r["source_id"] for r in loaded["test"]} <= held and not {r["source_id"] for r in loaded["train"]} & held
    assert any(r["task"] == "object_tracking" for r in loaded["test"]) or any(
        r["task"] == "object_tracking" for r in loaded["train"]
    )


def test_recipe_and_file_mistakes_are_one_line(sources, tmp_path):
    entry = {"task": "temporal_grounding", "subtype": "rendered", "annotations": "x.txt", "count": 1}
    with pytest.raises(RecipeError, match="reads no annotations"):
        parse_recipe({"name": "x", "splits": {"train": [entry]}}, "x.yaml")
    with pytest.raises(RecipeError, match="set annotations to a file path"):
        parse_recipe(
            {"name": "x", "splits": {"train": [{"task": "temporal_grounding", "subtype": "charades_sta", "count": 1}]}},
            "x.yaml",
        )
    path = tmp_path / "missing.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "missing",
                "splits": {
                    "train": [
                        {
                            "task": "temporal_grounding",
                            "subtype": "charades_sta",
                            "annotations": "charades_sta_test.txt",
                            "count": 1,
                        }
                    ]
                },
            }
        )
    )
    assert_one_line_error(
        run_cli("build", path, "--sources", sources, "--out", tmp_path / "out", "--workers", "1", "--quiet"),
        "annotation file not found: charades_sta_test.txt",
    )
