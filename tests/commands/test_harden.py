"""Difficulty ladders move a measurable statistic the right way at every step, and `harden`
rebuilds a dataset one step up with the same sources, splits and holdout."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.cli import assert_one_line_error, run_cli, tree_hashes
from tests.helpers.clips import make_clip
from videolake import VideolakeError
from videolake.commands.harden import harden, hardened_recipe, harder_tier, selection
from videolake.commands.validate import validate
from videolake.generators import TASKS, CannotGenerate
from videolake.pipeline.graph import build
from videolake.pipeline.recipes import builtin_tiers, load_recipe, parse_recipe


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
    (
        "temporal_grounding",
        "rendered",
        lambda meta: len(meta["actions"]) / event_frames(meta),
    ),  # more actions around a shorter event
    ("grounding_qa", "rendered", lambda meta: len(meta["actions"]) / glue_frames(meta)),
    (
        "multi_segment_grounding",
        "channel_swap",
        lambda meta: len(meta["segments"]) / np.mean([n for _, n in meta["segments"]]),
    ),  # more, shorter segments
    (
        "object_tracking",
        "overlay",
        lambda meta: path_length(meta) / meta["overlay"]["size"],
    ),  # smaller shapes moving farther
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


@pytest.mark.slow  # minutes on 2 cores: `make check` skips it
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
    parent = parse_recipe(
        {"name": "p", "x264": {"preset": "superfast", "crf": 26}, "splits": {"train": entries}}, "p.yaml"
    )
    recipe, moves = hardened_recipe("p", parent.document, "next")
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
            "train": [
                {"task": "temporal_jigsaw", "tier": "easy", "count": 3},
                {"task": "synrl", "subtype": "card_pile", "count": 1, "params": {"size": 64}},
            ],
            "test": [{"task": "temporal_jigsaw", "tier": "easy", "count": 1}],
        },
    }
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(recipe))
    parent = build(load_recipe(str(tmp_path / "r.yaml")), str(sources), tmp_path / "out", workers=1, progress=False)
    child = harden(
        parent, "next", tmp_path / "out", sources=str(sources), only=("temporal_jigsaw",), workers=1, progress=False
    )
    assert validate(child)[1] == []
    import datasets

    before, after = datasets.load_from_disk(str(parent)), datasets.load_from_disk(str(child))
    for split in before:
        assert [r["source_id"] for r in before[split]] == [
            r["source_id"] for r in after[split]
        ]  # same sources, same splits
        assert {r["tier"] for r in after[split] if r["task"] == "temporal_jigsaw"} == {"hard"}
        assert all(json.loads(r["meta"])["segments"] == 8 for r in after[split] if r["task"] == "temporal_jigsaw")
    assert [r["tier"] for r in after["train"] if r["task"] == "synrl"] == ["default"]  # --only left it
    parent_manifest, child_manifest = (json.loads((d / "manifest.json").read_text()) for d in (parent, child))
    assert child_manifest["holdout"] == {**parent_manifest["holdout"]}
    assert child_manifest["derived_from"]["dataset"] == "ladder" and child_manifest["derived_from"]["harden"][
        "moves"
    ] == {"temporal_jigsaw/easy/easy": "hard"}

    (tmp_path / "ids.json").write_text(
        json.dumps(before["train"]["id"][:2])
    )  # train samples only: the holdout is the parent's all the same
    selected = harden(
        parent,
        "next",
        tmp_path / "out",
        sources=str(sources),
        only=("temporal_jigsaw",),
        workers=1,
        progress=False,
        ids_file=tmp_path / "ids.json",
    )
    rows = datasets.load_from_disk(str(selected))
    assert (
        list(rows) == ["train"]
        and [r["source_id"] for r in rows["train"]] == before["train"]["source_id"][:2]
        and validate(selected)[1] == []
    )

    fewer = tmp_path / "fewer"
    fewer.mkdir()
    for name in ("bikes.mp4", "b.mp4", "testMovie.mp4"):
        os.symlink(clips_dir / name, fewer / name)
    with pytest.raises(VideolakeError, match="the sources differ from ladder's"):
        harden(parent, "next", tmp_path / "other", sources=str(fewer), workers=1, progress=False)
    assert not (tmp_path / "other" / "ladder-harder").exists()  # refused before anything was written
    assert_one_line_error(
        run_cli("harden", parent, "--to", "next", "--sources", sources, "--out", sources),
        "is inside the input",
        str(sources),
    )


def test_hardened_entries_keep_every_param_the_new_tier_does_not_set():
    entries = [
        {
            "task": "multi_segment_grounding",
            "subtype": "rendered",
            "count": 2,
            "params": {"stage": 1},
        },  # MUSEG stage 1 stays stage 1
        {
            "task": "temporal_jigsaw",
            "tier": "easy",
            "count": 1,
            "params": {"segments": 7},
        },  # the new tier sets segments: its value wins
        {"task": "synrl", "subtype": "speed_perception", "tier": "hard", "count": 1, "params": {"size": 64}},
    ]
    parent = parse_recipe({"name": "p", "splits": {"train": entries}}, "p.yaml")
    recipe, moves = hardened_recipe("p", parent.document, "next")
    museg, jigsaw, synrl = recipe.splits["train"]
    assert (museg.tier, museg.params["stage"], museg.params["min_segments"]) == ("dense", 1, 3)
    assert (jigsaw.tier, jigsaw.params) == ("hard", {"segments": 8})
    # hard's own speed_gap does not follow the entry to round2, which leaves it at its default; the recipe's size does
    assert (synrl.tier, synrl.params) == ("round2", {"size": 64, "duration": [6.0, 8.0]})
    assert moves == {
        "multi_segment_grounding/rendered/default": "dense",
        "temporal_jigsaw/easy/easy": "hard",
        "synrl/speed_perception/hard": "round2",
    }


HOSTILE_RECIPES = [  # open_dataset has checked that the recipe is a mapping
    {"name": "p"},
    {"name": "p", "splits": [1]},
    {"name": "p", "splits": {"train": [5]}},
    {"name": "p", "splits": {"train": [{"task": ["synrl"], "tier": {}, "count": 1}]}},
    {"name": "p", "splits": {"train": [{"task": "synrl", "subtype": "card_pile", "count": -1}]}},
    {"name": "p", "splits": {"train": [{"task": "synrl", "subtype": "card_pile", "count": 1, "params": "x"}]}},
    {
        "name": "p",
        "splits": {
            "train": [{"task": "synrl", "subtype": "card_pile", "count": 1, "params": {"operations": [10**30, 2]}}]
        },
    },
    {"name": 7, "splits": {"train": [{"task": "synrl", "subtype": "card_pile", "count": 1}]}},
]


@pytest.mark.parametrize("document", HOSTILE_RECIPES, ids=range(len(HOSTILE_RECIPES)))
def test_a_manifest_recipe_of_the_wrong_shape_is_one_error(document):
    with pytest.raises(VideolakeError) as caught:
        hardened_recipe("p", document, "next", where="p/manifest.json")
    assert "\n" not in str(caught.value)


def test_an_entry_at_a_tier_the_recipe_defined_itself_is_kept_as_built():
    tiers = {"synrl": {"mine": {"items": [3, 3]}}}
    entries = [
        {"task": "synrl", "subtype": "card_pile", "tier": "mine", "count": 1},
        {"task": "synrl", "subtype": "card_pile", "count": 1},
    ]
    parent = parse_recipe({"name": "p", "tiers": tiers, "splits": {"train": entries}}, "p.yaml")
    recipe, moves = hardened_recipe("p", parent.document, "next")  # the manifest has the entries' params, not tiers
    assert moves == {"synrl/card_pile/default": "hard"}
    assert (recipe.splits["train"][0].tier, recipe.splits["train"][0].params) == ("mine", {"items": [3, 3]})


def test_hardened_datasets_are_named_as_documented():
    parent = parse_recipe(
        {"name": "p", "splits": {"train": [{"task": "synrl", "subtype": "card_pile", "count": 1}]}}, "p.yaml"
    )
    document = parent.document
    assert hardened_recipe("p-curated", document, "next")[0].name == "p-curated-harder"
    assert hardened_recipe("p-curated", document, "round2")[0].name == "p-curated-round2"
    assert hardened_recipe("p-curated", document, "next", by_ids=True)[0].name == "p-curated-harder-selected"
    assert hardened_recipe("p-curated", document, "round3", by_ids=True)[0].name == "p-curated-round3-selected"


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    """A synthetic parent: four card-pile SynRL samples and a stage-1 MUSEG one, all at default tiers."""
    folder = tmp_path_factory.mktemp("pool")
    recipe = {
        "name": "pool",
        "max_size": [64, 64],
        "splits": {
            "train": [
                {"task": "synrl", "subtype": "card_pile", "count": 4, "params": {"size": 64}},
                {
                    "task": "multi_segment_grounding",
                    "subtype": "rendered",
                    "count": 1,
                    "params": {"stage": 1, "size": 64},
                },
            ]
        },
    }
    (folder / "r.yaml").write_text(yaml.safe_dump(recipe))
    return build(load_recipe(str(folder / "r.yaml")), None, folder / "out", workers=1, progress=False)


def test_harden_next_keeps_params_and_numbers_and_names_the_parent(pool, tmp_path):
    import datasets

    before = tree_hashes(pool)
    result = run_cli("harden", pool, "--to", "next", "--out", tmp_path, "--workers", "1", "--quiet")
    assert result.returncode == 0, result.stderr
    child = tmp_path / "pool-harder"
    assert result.stdout.strip() == f"hardened: {child}" and validate(child)[1] == []
    rows = datasets.load_from_disk(str(child))["train"]
    assert [r["id"] for r in rows] == [f"pool-harder-train-{n:07d}" for n in range(5)]
    assert [r["tier"] for r in rows] == ["hard"] * 4 + ["dense"]
    assert json.loads(rows[4]["meta"])["museg_stage"] == 1  # the recipe's stage, not the generator's default 2
    assert tree_hashes(pool) == before


def test_harden_regenerates_only_the_given_ids(pool, tmp_path):
    import datasets

    ids = datasets.load_from_disk(str(pool))["train"]["id"]
    too_easy = [ids[3], ids[1], ids[3]]  # as curate writes them, in any order, repeated
    (tmp_path / "too_easy.json").write_text(json.dumps(too_easy))
    result = run_cli(
        "harden",
        pool,
        "--to",
        "next",
        "--ids",
        tmp_path / "too_easy.json",
        "--out",
        tmp_path / "out",
        "--workers",
        "1",
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    child = tmp_path / "out" / "pool-harder-selected"
    rows = datasets.load_from_disk(str(child))["train"]
    assert [r["id"] for r in rows] == [
        "pool-harder-selected-train-0000001",
        "pool-harder-selected-train-0000003",
    ]  # the same samples, by number
    assert {r["tier"] for r in rows} == {"hard"} and validate(child)[1] == []
    assert json.loads((child / "manifest.json").read_text())["derived_from"]["harden"]["ids"] == [ids[1], ids[3]]


def hostile_ids_files(folder: Path) -> dict[str, Path]:
    """Each kind of ids file harden must refuse in one line, written under ``folder``."""
    documents = {
        "an object": {},
        "a string": "pool-train-0000001",
        "a number": 5,
        "null": None,
        "an empty list": [],
        "a number in the list": [5],
        "null in the list": [None],
        "a list in the list": [["pool-train-0000001"]],
        "another dataset's id": ["other-train-0000001"],
        "an unknown split": ["pool-test-0000001"],
        "a number past the split": ["pool-train-0000005"],
        "a negative number": ["pool-train--000001"],
        "an unpadded number": ["pool-train-1"],
        "other digits": ["pool-train-000000\u0663"],
        "a huge number": ["pool-train-" + "9" * 5000],
    }
    files = {name: folder / f"{index}.json" for index, name in enumerate(documents)}
    for name, document in documents.items():
        files[name].write_text(json.dumps(document))
    raw = {
        "not JSON": b"pool-train-0000001\n",
        "not UTF-8": b'["\xff"]',
        "nested 100000 deep": b"[" * 100_000 + b"]" * 100_000,
    }
    for name, data in raw.items():
        files[name] = folder / f"{len(files)}.json"
        files[name].write_bytes(data)
    files["larger than 64 MiB"] = folder / "huge.json"
    with open(files["larger than 64 MiB"], "wb") as handle:
        handle.truncate((64 << 20) + 2)  # sparse: no disk, but read_json must stop at its limit
    return files


HOSTILE_IDS = [
    "an object",
    "a string",
    "a number",
    "null",
    "an empty list",
    "a number in the list",
    "null in the list",
    "a list in the list",
    "another dataset's id",
]
HOSTILE_IDS += [
    "an unknown split",
    "a number past the split",
    "a negative number",
    "an unpadded number",
    "other digits",
    "a huge number",
    "not JSON",
    "not UTF-8",
    "nested 100000 deep",
    "larger than 64 MiB",
]


def test_every_hostile_ids_file_is_one_error_and_writes_nothing(pool, tmp_path):
    files = hostile_ids_files(tmp_path)
    assert sorted(files) == sorted(HOSTILE_IDS)
    before = tree_hashes(pool)
    for name in HOSTILE_IDS:
        with pytest.raises(VideolakeError) as caught:
            harden(pool, "next", tmp_path / "out", ids_file=files[name], workers=1, progress=False)
        assert (
            str(files[name]) in str(caught.value) and "\n" not in str(caught.value) and len(str(caught.value)) < 400
        ), (name, str(caught.value))
    assert tree_hashes(pool) == before and not (tmp_path / "out").exists()
    for name in ("an object", "nested 100000 deep", "a huge number"):  # as a user sees it
        assert_one_line_error(
            run_cli("harden", pool, "--to", "next", "--ids", files[name], "--out", tmp_path / "out"), str(files[name])
        )


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["pool-train-0000000", "pool-train-0000004", "pool-train-0000005", "pool-train-4"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=12,
)


@given(ids=JSON_VALUES)
@settings(max_examples=300, deadline=None)
def test_any_json_as_ids_is_a_selection_of_real_samples_or_one_error(ids):
    try:
        chosen = selection(ids, {"train": 5}, parent_name="pool-curated", recipe_name="pool", where="ids.json")
    except VideolakeError as err:
        assert str(err).startswith("ids.json") and "\n" not in str(err)
        return
    assert isinstance(ids, list) and set(chosen) == {"train"}
    assert sorted(f"pool-train-{n:07d}" for n in chosen["train"]) == sorted(set(ids))


def test_an_output_in_or_around_the_parent_is_refused_and_the_parent_left_as_it_was(pool, tmp_path):
    before = tree_hashes(pool)
    assert_one_line_error(run_cli("harden", pool, "--to", "next", "--out", pool), "is inside the input", str(pool))
    assert_one_line_error(run_cli("harden", pool, "--to", "next", "--out", pool / "train"), "is inside the input")
    nest = tmp_path / "pool-harder"  # OUT/pool-harder would hold the parent
    shutil.copytree(pool, nest / "pool")
    nested_before = tree_hashes(nest)
    assert_one_line_error(run_cli("harden", nest / "pool", "--to", "next", "--out", tmp_path), "holds the input")
    assert tree_hashes(pool) == before and tree_hashes(nest) == nested_before
