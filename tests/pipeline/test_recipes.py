import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers.cli import run_cli
from videolake.pipeline.recipes import (
    RecipeError,
    builtin_names,
    load_recipe,
    parse_recipe,
    scale_recipe,
    scaled_counts,
)
from videolake.pipeline.shards import sha256_file


def totals(recipe):
    out = {}
    for split, entries in recipe.splits.items():
        for e in entries:
            out[(split, e.task, e.subtype)] = out.get((split, e.task, e.subtype), 0) + e.count
    return out


def test_builtin_recipes_have_the_paper_compositions():
    assert {"demo", "videossr-30k", "viubench"} <= set(builtin_names())
    ssr = totals(load_recipe("videossr-30k"))
    assert sum(ssr.values()) == 30000
    assert sum(v for (s, t, _), v in ssr.items() if t == "anomaly_grounding") == 12000
    assert {sub for (_, t, sub) in ssr if t == "anomaly_grounding"} == {
        "channel_swap",
        "mirror",
        "zoom_out",
        "rotate180",
    }
    assert ssr[("train", "temporal_jigsaw", "easy")] == 12000 and ssr[("train", "object_counting", "easy")] == 6000
    assert load_recipe("videossr-30k").disjoint_tasks
    viu = totals(load_recipe("viubench"))
    assert sum(viu.values()) == 2700 and len(viu) == 9 and set(viu.values()) == {300}
    assert load_recipe("viubench").max_size == (512, 512)


def test_tiers_are_parameter_sets_from_the_manifest():
    recipe = load_recipe("viubench")
    params = {(e.task, e.tier): e.params for e in recipe.splits["test"]}
    assert params[("temporal_jigsaw", "hard")] == {"segments": 8}
    assert params[("object_counting", "hard")] == {"max_frames": 4, "max_per_frame": 4}


BASE = {"name": "x", "splits": {"train": [{"task": "temporal_jigsaw", "tier": "easy", "count": 2}]}}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"sead": 1}, "unknown key 'sead'"),
        ({"splits": {"train": [{"task": "jigsaw", "count": 1}]}}, "unknown task 'jigsaw'"),
        ({"splits": {"train": [{"task": "temporal_jigsaw", "tier": "huge", "count": 1}]}}, "unknown tier 'huge'"),
        (
            {"splits": {"train": [{"task": "anomaly_grounding", "subtype": "wobble", "count": 1}]}},
            "unknown subtype 'wobble'",
        ),
        (
            {"splits": {"train": [{"task": "temporal_jigsaw", "tier": "easy", "count": 0}]}},
            "count: expected an integer >= 1",
        ),
        (
            {"splits": {"train": [{"task": "temporal_jigsaw", "tier": "easy", "count": 1, "params": {"segmnts": 3}}]}},
            "unknown temporal_jigsaw parameter",
        ),
        ({"holdout_fraction": 1.5}, "holdout_fraction"),
        ({"max_size": [448]}, "max_size"),
        (
            {
                "splits": {
                    "train": [
                        {"task": "anomaly_grounding", "subtype": "slow", "count": 1, "params": {"speed_factor": 1.5}}
                    ]
                }
            },
            r"speed_factor must be an integer in \[2, 8\], got 1.5",
        ),
        (
            {
                "tiers": {"temporal_jigsaw": {"mine": {"segments": 1}}},
                "splits": {"train": [{"task": "temporal_jigsaw", "tier": "mine", "count": 1}]},
            },
            r"segments must be an integer in \[2, 64\], got 1",
        ),
        (
            {
                "splits": {
                    "train": [{"task": "object_counting", "tier": "easy", "count": 1, "params": {"max_frames": -1}}]
                }
            },
            r"max_frames must be an integer in \[1, 64\], got -1",
        ),
        ({"frames": 100000}, r"frames: expected an integer in \[2, 1024\], got 100000"),
        ({"frames": 47}, r"frames must be even \(video models take frames in pairs\), got 47"),
        ({"x264": {"preset": "warp"}}, r"x264.preset must be one of ultrafast, superfast, veryfast"),
        ({"x264": {"crf": 60}}, r"x264.crf: expected an integer in \[0, 51\], got 60"),
        ({"x264": {"tune": "film"}}, r"x264: unknown key 'tune'"),
        ({"x264": "fast"}, r"x264 must be a mapping"),
        (
            {
                "splits": {
                    "train": [
                        {
                            "task": "anomaly_grounding",
                            "subtype": "mirror",
                            "count": 1,
                            "params": {"noise_sigma": [1, 2]},
                        }
                    ]
                }
            },
            r"anomaly_grounding/mirror does not read 'noise_sigma' \(it reads: segment_frames, edge_frames\)",
        ),
        (
            {
                "splits": {
                    "train": [
                        {
                            "task": "anomaly_grounding",
                            "subtype": "noise",
                            "count": 1,
                            "params": {"noise_sigma": [30, 10]},
                        }
                    ]
                }
            },
            r"noise_sigma must be a number in \[0.0, 255.0\] or a \[low, high\] pair of them, got \[30, 10\]",
        ),
        (
            {"splits": {"train": [{"task": "synrl", "subtype": "chip_cups", "count": 1, "params": {"turns": 2}}]}},
            r"synrl/chip_cups does not read 'turns'",
        ),
        (
            {"splits": {"train": [{"task": "synrl", "subtype": "rotation", "count": 1, "params": {"size": 65}}]}},
            r"size must be an even integer in \[64, 2048\]",
        ),
        (
            {"splits": {"train": [{"task": "synrl", "subtype": "rotation", "count": 1, "params": {"modes": []}}]}},
            r"modes must be a non-empty list of forward",
        ),
    ],
)
def test_bad_recipes_fail_with_one_clear_line(change, message):
    with pytest.raises(RecipeError, match=message) as info:
        parse_recipe({**BASE, **change}, "r.yaml")
    assert "\n" not in str(info.value) and str(info.value).startswith("r.yaml")


def test_a_recipe_can_define_a_harder_tier_without_code():
    recipe = parse_recipe(
        {
            **BASE,
            "tiers": {"temporal_jigsaw": {"ten": {"segments": 10}}},
            "splits": {"train": [{"task": "temporal_jigsaw", "tier": "ten", "count": 1}]},
        },
        "r",
    )
    assert recipe.splits["train"][0].params == {"segments": 10}


@pytest.mark.parametrize(
    "counts, limit, shares",
    [
        ([3000, 3000, 3000, 3000, 12000, 6000], 20, [2, 2, 2, 2, 8, 4]),  # videossr-30k: exact quotas
        ([389] * 16 + [388] * 2, 20, [2, 2] + [1] * 16),  # equal remainders: the earlier entries first
        ([98, 1, 1], 10, [8, 1, 1]),  # the minimum of one costs the largest entry
        ([5, 7], 12, [5, 7]),  # within the limit: as it is
    ],
)
def test_scaled_counts_are_the_largest_remainder_shares_with_one_at_least(counts, limit, shares):
    assert scaled_counts(counts, limit) == shares


@given(counts=st.lists(st.integers(1, 10_000), min_size=1, max_size=30), data=st.data())
def test_scaled_counts_sum_to_the_limit_in_order_of_the_counts(counts, data):
    limit = data.draw(st.integers(len(counts), sum(counts)))
    shares = scaled_counts(counts, limit)
    assert sum(shares) == limit and all(1 <= share <= count for share, count in zip(shares, counts))
    assert all(shares[i] >= shares[j] for i in range(len(counts)) for j in range(len(counts)) if counts[i] > counts[j])


MIX = {
    "name": "mix",
    "holdout_fraction": 0.25,
    "splits": {
        "train": [
            {"task": "temporal_jigsaw", "tier": "easy", "count": 600},
            {"task": "synrl", "subtype": "rotation", "count": 300},
        ],
        "test": [{"task": "temporal_jigsaw", "tier": "easy", "count": 100}],
    },
}


def test_a_scaled_recipe_keeps_every_entry_and_records_the_full_counts():
    recipe = parse_recipe(MIX, "mix.yaml")
    scaled = scale_recipe(recipe, 10)
    assert {split: [e.count for e in entries] for split, entries in scaled.splits.items()} == {
        "train": [6, 3],
        "test": [1],
    }
    assert scaled.document["scale"] == {"max_samples": 10, "counts": {"train": [600, 300], "test": [100]}}
    assert {k: v for k, v in scaled.document.items() if k not in ("splits", "scale")} == {
        k: v for k, v in recipe.document.items() if k != "splits"
    }
    # harden parses a manifest's recipe again: the scale survives it, checked against the counts
    assert parse_recipe(scaled.document, "manifest.json: recipe").document == scaled.document
    assert scale_recipe(scaled, 5).document == scale_recipe(recipe, 5).document  # scaled from the full counts
    assert scale_recipe(scaled, 20) is scaled and scale_recipe(recipe, 1000) is recipe  # within the limit already
    with pytest.raises(RecipeError, match="mix has 3 entries: --max-samples must be at least 3"):
        scale_recipe(recipe, 2)


@pytest.mark.parametrize(
    "scale, message",
    [
        ({"max_samples": 10, "counts": {"train": [600, 300], "test": [400]}}, "not scale.counts scaled to 10"),
        ({"max_samples": 10, "counts": {"train": [600, 300]}}, "scale.counts must list the full count of every entry"),
        ({"max_samples": 10, "counts": {"train": [6, 3], "test": [1]}}, "not scale.counts scaled to 10"),
        ({"max_samples": 10}, "scale.counts must list"),
        ({"max_samples": 0, "counts": {}}, r"scale.max_samples: expected an integer >= 1"),
        ({"limit": 10}, "scale: unknown key 'limit'"),
    ],
)
def test_a_scale_that_does_not_give_the_counts_is_refused(scale, message):
    document = scale_recipe(parse_recipe(MIX, "mix.yaml"), 10).document
    with pytest.raises(RecipeError, match=message):
        parse_recipe({**document, "scale": scale}, "mix.yaml")


def test_build_max_samples_scales_a_recipe_end_to_end(tmp_path):
    recipe = tmp_path / "rendered.yaml"
    recipe.write_text(
        "name: rendered\nshard_size: 2\nsplits:\n  train:\n"
        "    - {task: synrl, subtype: rotation, count: 30, params: {size: 64, duration: [2.0, 2.5]}}\n"
        "    - {task: synrl, subtype: collision_count, count: 10, params: {size: 64, duration: [2.0, 2.5]}}\n"
    )
    first = run_cli("build", recipe, "--out", tmp_path / "a", "--max-samples", 4, "--workers", 1, "--quiet")
    assert first.returncode == 0, first.stderr
    dataset = tmp_path / "a" / "rendered"
    manifest = json.loads((dataset / "manifest.json").read_text())
    assert [e["count"] for e in manifest["recipe"]["splits"]["train"]] == [3, 1]
    assert manifest["recipe"]["scale"] == {"max_samples": 4, "counts": {"train": [30, 10]}}
    checked = run_cli("validate", dataset)
    assert checked.returncode == 0 and checked.stdout.startswith("ok: 4 records"), checked.stdout + checked.stderr
    # --limit counts sources, which a rendered recipe has none of: it says so, and changes nothing
    again = run_cli("build", recipe, "--out", tmp_path / "b", "--max-samples", 4, "--limit", 2, "--quiet")
    assert again.returncode == 0, again.stderr
    assert "note: --limit takes the first 2 sources, and rendered renders every video: all 4 samples" in again.stderr
    shards = lambda root: {p.name: sha256_file(p) for p in sorted((root / "rendered" / "train").glob("*.arrow"))}
    assert len(shards(tmp_path / "a")) == 2 and shards(tmp_path / "b") == shards(tmp_path / "a")
    # a limit above the recipe's size builds it whole, and says so
    small = tmp_path / "small.yaml"
    small.write_text(recipe.read_text().replace("name: rendered", "name: small").replace("count: 30", "count: 1"))
    whole = run_cli("build", small, "--out", tmp_path / "c", "--max-samples", 10**20, "--quiet")
    assert whole.returncode == 0, whole.stderr
    assert "note: small has 11 samples, within --max-samples 100000000000000000000: built whole" in whole.stderr
