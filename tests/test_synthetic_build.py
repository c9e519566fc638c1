"""End to end: synthetic videos and real-clip tasks built into the same shards, then re-derived."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import yaml

from videolake import VideolakeError
from videolake.commands.validate import validate
from videolake.generators import synthetic
from videolake.pipeline.encode import decode_mp4
from videolake.pipeline.graph import build
from videolake.pipeline.plan import make_plan
from videolake.pipeline.recipes import load_recipe
from videolake.pipeline.records import written_lengths
from videolake.pipeline.shards import read_shard, sha256_file

pytestmark = pytest.mark.slow  # a build of several tasks or a model trained: `make check` skips it

SIZE = 128


@pytest.fixture(scope="module")
def recipe_file(tmp_path_factory) -> Path:
    entries = [{"task": "synrl", "subtype": name, "count": 1, "params": {"size": SIZE}} for name in synthetic.SCENARIOS]
    entries.append({"task": "object_counting", "tier": "easy", "count": 2})
    recipe = {
        "name": "mixed",
        "seed": 3,
        "max_size": [128, 128],
        "shard_size": 7,
        "holdout_fraction": 0,
        "splits": {"train": entries},
    }
    path = tmp_path_factory.mktemp("recipe") / "mixed.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory, recipe_file, clips_dir) -> Path:
    return build(
        load_recipe(str(recipe_file)), str(clips_dir), tmp_path_factory.mktemp("out"), workers=1, progress=False
    )


def synthetic_records(dataset_dir: Path) -> list[dict]:
    rows = []
    for path in sorted((dataset_dir / "train").glob("*.arrow")):
        rows += [r for r in read_shard(path).to_pylist() if r["task"] == "synrl"]
    return rows


def test_mixed_build_validates_and_loads(built):
    import datasets

    checked, problems = validate(built)
    assert problems == [] and checked == len(synthetic.SCENARIOS) + 2
    loaded = datasets.load_from_disk(str(built))["train"]
    assert sorted(set(loaded["task"])) == ["object_counting", "synrl"]
    records = synthetic_records(built)
    assert sorted(r["subtype"] for r in records) == sorted(synthetic.SCENARIOS)
    for record in records:
        meta = json.loads(record["meta"])
        assert record["source_id"] == "" and record["fps"] == 30.0
        assert record["reasoning"].endswith(
            record["answer"]
            if meta["query"]["options"] is None
            else f"Answer: {record['answer']}. {meta['query']['options']['ABCDEFGH'.index(record['answer'])]}"
        )
        assert synthetic.derive_answer(meta) == record["answer"]
        frames = decode_mp4(record["videos"][0])
        assert frames.shape == (written_lengths("synrl", meta)[0], SIZE, SIZE, 3)


def test_synthetic_shards_identical_with_two_workers(built, recipe_file, clips_dir, tmp_path):
    again = build(load_recipe(str(recipe_file)), str(clips_dir), tmp_path, workers=2, progress=False)
    checksums = lambda d: {p.name: sha256_file(p) for p in sorted((d / "train").glob("*.arrow"))}
    assert checksums(again) == checksums(built)


def test_a_synthetic_only_recipe_needs_no_sources(tmp_path):
    recipe = {
        "name": "syn",
        "splits": {
            "train": [
                {"task": "synrl", "subtype": "rotation", "count": 2, "params": {"size": 64, "duration": [1.0, 1.0]}}
            ]
        },
    }
    path = tmp_path / "syn.yaml"
    path.write_text(yaml.safe_dump(recipe))
    out = build(load_recipe(str(path)), None, tmp_path / "out", workers=1, progress=False)
    assert validate(out) == (2, [])
    sourced = tmp_path / "counting.yaml"
    sourced.write_text(
        yaml.safe_dump({"name": "c", "splits": {"train": [{"task": "object_counting", "tier": "easy", "count": 1}]}})
    )
    with pytest.raises(VideolakeError, match="needs video sources"):
        build(load_recipe(str(sourced)), None, tmp_path / "out", workers=1, progress=False)


def test_a_recipe_picks_the_x264_preset_and_crf_and_the_videos_are_made_with_them(tmp_path):
    rotation = {"task": "synrl", "subtype": "rotation", "count": 1, "params": {"size": 64, "duration": [1.0, 1.0]}}
    videos = {}
    for name, x264 in (("default", None), ("quick", {"preset": "ultrafast", "crf": 30})):
        recipe = {"name": name, "splits": {"train": [rotation]}, **({"x264": x264} if x264 else {})}
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(recipe))
        out = build(load_recipe(str(tmp_path / f"{name}.yaml")), None, tmp_path / "out", workers=1, progress=False)
        assert validate(out) == (1, [])
        manifest = json.loads((out / "manifest.json").read_text())
        (shard,) = sorted((out / "train").glob("*.arrow"))
        videos[name] = (manifest, read_shard(shard).to_pylist()[0]["videos"][0])
    (default_manifest, default_video), (quick_manifest, quick_video) = videos["default"], videos["quick"]
    assert "x264" not in default_manifest["recipe"] and default_manifest["encoder"]["options"]["preset"] == "veryfast"
    assert quick_manifest["recipe"]["x264"] == {"preset": "ultrafast", "crf": 30}
    assert {k: quick_manifest["encoder"]["options"][k] for k in ("preset", "crf")} == {
        "preset": "ultrafast",
        "crf": "30",
    }
    # x264 writes its settings into the stream: ultrafast turns CABAC off
    assert b"cabac=1" in default_video and b"crf=23.0" in default_video
    assert b"cabac=0" in quick_video and b"crf=30.0" in quick_video
    assert np.abs(decode_mp4(quick_video).astype(int) - decode_mp4(default_video).astype(int)).mean() < 6  # same frames


@pytest.mark.parametrize("name, total", [("synrl-rl", 7000), ("synrl-sft", 6700), ("synrl-round2", 3000)])
def test_builtin_synrl_recipes_plan_without_sources(name, total):
    recipe = load_recipe(name)
    assert not recipe.needs_sources
    specs = [spec for shard in make_plan(recipe, []).shards for spec in shard.samples]
    assert len(specs) == total
    assert {spec.subtype for spec in specs} == set(synthetic.SCENARIOS)
    counts = [sum(s.subtype == t for s in specs) for t in synthetic.SCENARIOS]
    assert max(counts) - min(counts) <= 1
    if name == "synrl-round2":
        # the tier's settings reach every scenario that reads them, and only those
        assert all(
            spec.params.get("duration") == ([6.0, 8.0] if "duration" in synthetic.reads(spec.subtype) else None)
            for spec in specs
        )
        assert all(
            spec.params.get("operations") == ([8, 12] if "operations" in synthetic.reads(spec.subtype) else None)
            for spec in specs
        )


def test_rl_and_sft_recipes_draw_different_videos():
    rl, sft = (make_plan(load_recipe(n), []) for n in ("synrl-rl", "synrl-sft"))
    seeds = lambda plan: {spec.seed for shard in plan.shards for spec in shard.samples}
    assert not seeds(rl) & seeds(sft)


def test_inspect_draws_key_frames_and_the_event_timeline(built, tmp_path):
    from PIL import Image

    from videolake.commands.inspect import synthetic_strip

    record = next(r for r in synthetic_records(built) if r["subtype"] == "grid_shell")
    path = synthetic_strip(record, tmp_path / "strip.png")
    width, height = Image.open(path).size
    assert width > 600 and height > 300


@pytest.mark.parametrize("name", ["synrl-rl", "synrl-sft", "synrl-round2"])
def test_each_builtin_synrl_recipe_builds_and_validates_in_miniature(name, tmp_path):
    """The recipe's own entries (tiers included) at one sample each and 64 pixels."""
    recipe = yaml.safe_load(resources.files("videolake.manifests").joinpath(f"{name}.yaml").read_text())
    for entry in recipe["splits"]["train"]:
        entry["count"], entry["params"] = 1, {"size": 64}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(recipe))
    out = build(load_recipe(str(path)), None, tmp_path / "out", workers=1, progress=False)
    assert validate(out) == (len(synthetic.SCENARIOS), [])


def test_every_tier_generates_every_scenario():
    from videolake.pipeline.recipes import builtin_tiers

    for tier, params in builtin_tiers()["synrl"].items():
        for name in synthetic.SCENARIOS:
            for seed in range(5):
                sample = synthetic.generate(None, name, params or {}, np.random.default_rng(seed))
                assert synthetic.derive_answer(sample.meta) == sample.answer, (tier, name, seed)
