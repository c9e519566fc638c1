"""Difficulty ladders move a measurable statistic the right way at every step, and `harden`
rebuilds a dataset one step up with the same sources, splits and holdout."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import yaml

from tests.conftest import make_clip
from videolake.generators import TASKS, CannotGenerate
from videolake.pipeline.graph import build
from videolake.pipeline.harden import harden, hardened_recipe, harder_tier
from videolake.pipeline.recipes import builtin_tiers, load_recipe, parse_recipe
from videolake.pipeline.validate import validate


def mean_statistic(task: str, tier: str, statistic, samples: int = 24, subtype: str | None = None) -> float:
    params = builtin_tiers()[task][tier] or {}
    values = []
    for seed in range(samples):
        clip = make_clip() if TASKS[task].needs_source(subtype) else None
        extra = {"size": 64} if task == "synrl" else {}
        kept = {k: v for k, v in {**params, **extra}.items() if k in TASKS[task].reads(subtype or tier)}
        try:
            sample = TASKS[task].generate(clip, subtype or tier, kept, np.random.default_rng(seed))
        except CannotGenerate:
            continue
        values.append(statistic(sample.meta))
    assert len(values) >= samples // 2, (task, tier)
    return float(np.mean(values))


LADDERS = [
    ("anomaly_grounding", "channel_swap", lambda meta: -meta["num_segment_frames"]),  # shorter segments
    ("object_counting", None, lambda meta: len(meta["shapes"])),  # more shapes
    ("temporal_jigsaw", None, lambda meta: meta["segments"]),  # more clips
    ("synrl", "card_pile", lambda meta: len(meta["operations"])),  # more operations
    ("temporal_grounding", "rendered", lambda meta: len(meta["actions"]) / event_frames(meta)),  # more actions around a shorter event
    ("grounding_qa", "rendered", lambda meta: len(meta["actions"]) / glue_frames(meta)),
    ("multi_segment_grounding", "channel_swap", lambda meta: len(meta["segments"]) / np.mean([n for _, n in meta["segments"]])),  # more, shorter segments
    ("object_tracking", "overlay", lambda meta: path_length(meta) / meta["overlay"]["size"]),  # smaller shapes moving farther
]


def event_frames(meta: dict) -> float:
    from videolake.generators.synthetic import scenes

    ((start, end),) = scenes.action_spans(scenes.by_id(meta, meta["query"]["object"]), meta["query"]["action"])
    return end - start


def glue_frames(meta: dict) -> float:
    from videolake.generators import grounding_qa

    return float(np.mean([e - s for s, e in grounding_qa.solve(meta)[1]]))


def path_length(meta: dict) -> float:
    points = np.asarray(meta["overlay"]["path"])[:, :2]
    return float(np.linalg.norm(np.diff(points, axis=0), axis=1).sum())


@pytest.mark.parametrize("task, subtype, statistic", LADDERS)
def test_every_ladder_has_three_steps_above_the_default_and_each_is_harder(task, subtype, statistic):
    steps = list(builtin_tiers()[task])
    assert len(steps) >= 4, steps
    means = [mean_statistic(task, tier, statistic, subtype=subtype) for tier in steps]
    assert all(a < b for a, b in zip(means, means[1:], strict=False)), dict(zip(steps, means, strict=True))


def test_next_and_named_targets():
    tiers = builtin_tiers()
    assert harder_tier("temporal_jigsaw", "easy", "next", tiers) == "hard"
    assert harder_tier("temporal_jigsaw", "master", "next", tiers) is None
    assert harder_tier("object_counting", "easy", "swarm", tiers) == "swarm"
    assert harder_tier("object_counting", "swarm", "hard", tiers) is None  # never easier
    assert harder_tier("temporal_jigsaw", "easy", "swarm", tiers) is None  # not its ladder


def test_a_hardened_recipe_keeps_annotation_files_and_encoder_settings():
    entries = [
        {"task": "temporal_grounding", "subtype": "charades_sta", "annotations": "charades_sta_train.txt", "count": 5},
        {"task": "temporal_grounding", "subtype": "rendered", "count": 5},
    ]
    parent = parse_recipe({"name": "p", "x264": {"preset": "superfast", "crf": 26}, "splits": {"train": entries}}, "p.yaml")
    recipe, moves = hardened_recipe({"dataset": "p", "recipe": parent.document}, "next")
    assert moves == {"temporal_grounding/charades_sta/default": "busy", "temporal_grounding/rendered/default": "busy"}
    assert [e.annotations for e in recipe.splits["train"]] == [("charades_sta_train.txt",), ()]
    assert recipe.x264 == parent.x264 == {"preset": "superfast", "crf": 26}


def test_harden_keeps_sources_splits_and_holdout(tmp_path, clips_dir):
    sources = tmp_path / "sources"
    sources.mkdir()
    for name in ("bikes.mp4", "b.mp4", "testMovie.mp4", "jwpIntro.mp4"):
        os.symlink(clips_dir / name, sources / name)
    recipe = {
        "name": "ladder",
        "max_size": [96, 96],
        "holdout_fraction": 0.25,
        "splits": {
            "train": [{"task": "temporal_jigsaw", "tier": "easy", "count": 3}, {"task": "synrl", "subtype": "card_pile", "count": 1, "params": {"size": 64}}],
            "test": [{"task": "temporal_jigsaw", "tier": "easy", "count": 1}],
        },
    }
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    parent = build(load_recipe(str(tmp_path / "r.yaml")), str(sources), tmp_path / "out", workers=1, progress=False)
    child = harden(parent, "next", tmp_path / "out", str(sources), only=("temporal_jigsaw",), workers=1, progress=False)
    assert validate(child)[1] == []
    import datasets

    before, after = datasets.load_from_disk(str(parent)), datasets.load_from_disk(str(child))
    for split in before:
        assert [r["source_id"] for r in before[split]] == [r["source_id"] for r in after[split]]  # same sources, same splits
        assert {r["tier"] for r in after[split] if r["task"] == "temporal_jigsaw"} == {"hard"}
        assert all(json.loads(r["meta"])["segments"] == 8 for r in after[split] if r["task"] == "temporal_jigsaw")
    assert [r["tier"] for r in after["train"] if r["task"] == "synrl"] == ["default"]  # --only left it
    parent_manifest, child_manifest = (json.loads((d / "manifest.json").read_text()) for d in (parent, child))
    assert child_manifest["holdout"] == {**parent_manifest["holdout"]}
    assert child_manifest["derived_from"]["dataset"] == "ladder" and child_manifest["derived_from"]["harden"]["moves"] == {"temporal_jigsaw/easy/easy": "hard"}


def test_harden_regenerates_only_the_given_ids(tmp_path):
    recipe = {"name": "pool", "splits": {"train": [{"task": "synrl", "subtype": "card_pile", "count": 4, "params": {"size": 64}}]}}
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    parent = build(load_recipe(str(tmp_path / "r.yaml")), None, tmp_path / "out", workers=1, progress=False)
    import datasets

    ids = datasets.load_from_disk(str(parent))["train"]["id"]
    too_easy = [ids[1], ids[3]]  # as curate writes them
    (tmp_path / "too_easy.json").write_text(json.dumps(too_easy))
    from tests.cli import run_cli

    result = run_cli("harden", parent, "--to", "next", "--ids", tmp_path / "too_easy.json", "--out", tmp_path / "out", "--workers", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    child = tmp_path / "out" / "pool-harder-selected"
    rows = datasets.load_from_disk(str(child))["train"]
    assert [r["id"].rsplit("-", 1)[1] for r in rows] == [i.rsplit("-", 1)[1] for i in too_easy]  # the same samples, by number
    assert {r["tier"] for r in rows} == {"hard"} and validate(child)[1] == []
    assert json.loads((child / "manifest.json").read_text())["derived_from"]["harden"]["ids"] == sorted(too_easy)
    result = run_cli("harden", parent, "--to", "next", "--ids", tmp_path / "r.yaml", "--out", tmp_path / "o2")
    assert result.returncode == 1 and "not valid JSON" in result.stderr
