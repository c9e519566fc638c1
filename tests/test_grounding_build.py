"""End to end: the VideoChat-R1 and MUSEG tasks built from real clips and rendered scenes, validated,
and every answer checked against the decoded pixels."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.helpers.cli import run_cli
from videolake.commands.validate import validate
from videolake.generators.perturbations import PERTURBATIONS
from videolake.generators.synthetic import scenes
from videolake.generators.synthetic.render import INDEX
from videolake.pipeline.encode import decode_mp4
from videolake.pipeline.graph import build
from videolake.pipeline.recipes import load_recipe
from videolake.pipeline.sampling import sample_clip

pytestmark = pytest.mark.slow  # a build of several tasks or a model trained: `make check` skips it

CLIPS = ["bikes.mp4", "carphone_pristine.mp4", "testMovie.mp4", "jwpIntro.mp4", "cityCC0.mpg"]
SIZE = [256, 256]
RENDERED = {"size": 160}
RECIPE = {
    "name": "grounding",
    "seed": 5,
    "shard_size": 5,
    "max_size": SIZE,
    "holdout_fraction": 0.2,
    "splits": {
        "train": [
            {"task": "temporal_grounding", "subtype": "rendered", "count": 3, "params": RENDERED},
            {"task": "multi_segment_grounding", "subtype": "rendered", "count": 2, "params": {**RENDERED, "stage": 1}},
            {"task": "multi_segment_grounding", "subtype": "channel_swap", "count": 2},
            {
                "task": "multi_segment_grounding",
                "subtype": "mirror",
                "tier": "dense",
                "count": 1,
                "params": {"stage": 1},
            },
            {"task": "object_tracking", "subtype": "rendered", "count": 2, "params": RENDERED},
            {"task": "object_tracking", "subtype": "overlay", "count": 3},
            {"task": "grounding_qa", "subtype": "rendered", "count": 3, "params": RENDERED},
        ],
        "test": [
            {"task": "multi_segment_grounding", "subtype": "rotate180", "count": 1},
            {"task": "object_tracking", "subtype": "overlay", "count": 1},
        ],
    },
}


@pytest.fixture(scope="module")
def sources(tmp_path_factory, clips_dir) -> Path:
    root = tmp_path_factory.mktemp("sources")
    for name in CLIPS:
        os.symlink(clips_dir / name, root / name)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory, sources) -> Path:
    path = tmp_path_factory.mktemp("recipe") / "grounding.yaml"
    path.write_text(yaml.safe_dump(RECIPE))
    return build(load_recipe(str(path)), str(sources), tmp_path_factory.mktemp("out"), workers=1, progress=False)


def records(built, task=None):
    import datasets

    dataset = datasets.load_from_disk(str(built))
    for split in dataset:
        yield from (r for r in dataset[split] if task is None or r["task"] == task)


def mean_abs(a, b) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_builds_validates_and_keeps_the_holdout(built):
    checked, problems = validate(built)
    assert problems == [] and checked == 18
    manifest = json.loads((built / "manifest.json").read_text())
    assert not set(manifest["holdout"]["benchmark_source_ids"]) & set(manifest["holdout"]["train_source_ids"])
    tests = list(records(built))
    assert {r["source_id"] for r in tests if r["split"] == "test"} <= set(manifest["holdout"]["benchmark_source_ids"])
    assert all(r["source_id"] == "" for r in tests if r["subtype"] == "rendered")


def test_perturbed_segments_show_in_the_decoded_frames(built, sources):
    checked = 0
    for record in records(built, "multi_segment_grounding"):
        meta = json.loads(record["meta"])
        if record["subtype"] == "rendered":
            continue
        clip = sample_clip(str(sources / record["source_id"]), meta["num_frames"], 1, SIZE)
        decoded = decode_mp4(record["videos"][0])
        perturbation = PERTURBATIONS[meta["perturbation"]]
        params = {f: p for (s, n), p in zip(meta["segments"], meta["params"]) for f in range(s, s + n)}
        for i in range(meta["num_frames"]):
            original = clip.frames[i]
            perturbed = perturbation.apply(original[None], params.get(i, meta["params"][0]))[0]
            # Each decoded frame is nearer the perturbed picture exactly on the answer's segments.
            nearer_perturbed = mean_abs(decoded[i], perturbed) < mean_abs(decoded[i], original)
            assert nearer_perturbed == (i in params), (record["id"], i)
        assert len(record["answer"].split()) == len(meta["segments"]) >= 2
        checked += 1
    assert checked == 4


def test_rendered_events_happen_inside_their_intervals(built):
    """The decoded video is the scene drawn from meta (up to coding noise), and on the drawn frames
    the named object changes only inside the answer's intervals (or while doing something else)."""
    checked = 0
    for record in records(built):
        if record["subtype"] != "rendered" or record["task"] not in ("temporal_grounding", "multi_segment_grounding"):
            continue
        meta = json.loads(record["meta"])
        drawn = scenes.render(meta)
        decoded = decode_mp4(record["videos"][0])
        assert max(mean_abs(decoded[f], drawn.rgb([f])[0]) for f in range(0, drawn.num_frames, 7)) < 3, record["id"]
        obj = scenes.by_id(meta, meta["query"]["object"])
        masks = [drawn.indices(f) == INDEX[obj["colour"]] for f in range(drawn.num_frames)]
        moved = {f for f in range(1, len(masks)) if not np.array_equal(masks[f], masks[f - 1])}
        answer = record["answer"].replace(" to ", "-").split()
        spans = [tuple(round(float(v) * 30) for v in token.split("-")) for token in answer]
        others = [
            (a["start_frame"], a["end_frame"])
            for a in meta["actions"]
            if a["object"] == obj["id"] and a["action"] != meta["query"]["action"]
        ]
        assert all(any(s < f <= e for s, e in spans + others) for f in moved), record["id"]
        assert all(moved & set(range(s + 1, e + 1)) for s, e in spans), record["id"]
        checked += 1
    assert checked == 5


def test_tracked_objects_are_inside_their_boxes_on_the_decoded_frames(built, sources):
    checked = 0
    for record in records(built, "object_tracking"):
        meta, boxes = json.loads(record["meta"]), json.loads(record["answer"])
        decoded = decode_mp4(record["videos"][0])
        assert len(decoded) == len(boxes) == 8
        if record["subtype"] == "overlay":
            clip = sample_clip(str(sources / record["source_id"]), 48, 1, SIZE)
            source = clip.frames[meta["asked_slots"]]
            drawn = [np.abs(decoded[i].astype(np.int16) - source[i]).max(axis=-1) > 60 for i in range(8)]
        else:
            video = scenes.render(meta["world"], meta["asked_frames"])  # the decoded frames are this drawing
            assert max(mean_abs(decoded[i], video.rgb([i])[0]) for i in range(8)) < 3, record["id"]
            drawn = [video.indices(i) == INDEX[scenes.by_id(meta["world"], meta["target"])["colour"]] for i in range(8)]
        for mask, (x1, y1, x2, y2) in zip(drawn, boxes):
            ys, xs = np.nonzero(mask)
            assert len(xs) > 10, record["id"]
            assert xs.min() >= x1 - 2 and xs.max() <= x2 + 2 and ys.min() >= y1 - 2 and ys.max() <= y2 + 2, record["id"]
            assert xs.min() <= x1 + 3 and ys.min() <= y1 + 3, record["id"]  # and the box is tight
        checked += 1
    assert checked == 6


def test_inspect_and_the_random_baseline_cover_the_new_tasks(built, tmp_path):
    from videolake.commands.inspect import inspect

    sheets = inspect(built, tmp_path / "sheets", samples=18)
    assert len(sheets) == 19 and all(p.stat().st_size > 1000 for p in sheets)
    result = run_cli("score", "--dataset", built, "--baseline", "random", "--out", tmp_path / "random")
    assert result.returncode == 0, result.stderr
    scores = json.loads((tmp_path / "random.scores.json").read_text())
    rows = {(r["task"], r["subtype"]): r["score"] for r in scores["subtypes"]}
    assert {task for task, _ in rows} == {
        "temporal_grounding",
        "multi_segment_grounding",
        "object_tracking",
        "grounding_qa",
    }
    assert all(0 <= value < 60 for value in rows.values())  # chance levels, never the format term
