import pytest

from videolake.pipeline.ingest import SourceRef
from videolake.pipeline.plan import holdout_sources, make_plan
from videolake.pipeline.recipes import (
    RecipeError,
    builtin_names,
    load_recipe,
    parse_recipe,
)


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


def pool(n):
    return [SourceRef(f"clip{i:03d}.mp4", f"/x/clip{i:03d}.mp4") for i in range(n)]


def test_holdout_is_a_prefix_so_smaller_fractions_nest():
    sources = pool(200)
    small, large = holdout_sources(sources, 0.1), holdout_sources(sources, 0.2)
    assert len(small) == 20 and set(small) <= set(large)


def test_plan_keeps_benchmark_sources_out_of_train_and_is_deterministic():
    recipe = parse_recipe(
        {
            "name": "mix",
            "holdout_fraction": 0.25,
            "shard_size": 3,
            "splits": {
                "train": [
                    {"task": "temporal_jigsaw", "tier": "easy", "count": 20},
                    {"task": "anomaly_grounding", "subtype": "swap", "count": 5},
                ],
                "test": [{"task": "object_counting", "tier": "easy", "count": 6}],
            },
        },
        "mix",
    )
    plan = make_plan(recipe, pool(12))
    train = {s.source.source_id for sh in plan.shards if sh.split == "train" for s in sh.samples}
    donors = {s.donor.source_id for sh in plan.shards if sh.split == "train" for s in sh.samples if s.donor}
    test = {s.source.source_id for sh in plan.shards if sh.split == "test" for s in sh.samples}
    assert test == {s.source_id for s in plan.holdout} and len(test) == 3
    assert not (train | donors) & test
    assert [len(sh.samples) for sh in plan.shards if sh.split == "train"] == [3] * 8 + [1]
    again = make_plan(recipe, list(reversed(pool(12))))
    assert again.shards == plan.shards
    assert make_plan(recipe, pool(12), seed=1).shards != plan.shards


def test_disjoint_tasks_use_disjoint_sources():
    recipe = parse_recipe(
        {
            "name": "d",
            "disjoint_tasks": True,
            "holdout_fraction": 0.0,
            "splits": {
                "train": [
                    {"task": "temporal_jigsaw", "tier": "easy", "count": 30},
                    {"task": "object_counting", "tier": "easy", "count": 10},
                ]
            },
        },
        "d",
    )
    plan = make_plan(recipe, pool(40))
    by_task = {}
    for sh in plan.shards:
        for s in sh.samples:
            by_task.setdefault(s.task, set()).add(s.source.source_id)
    assert not by_task["temporal_jigsaw"] & by_task["object_counting"]
    assert len(by_task["temporal_jigsaw"]) == 30 and len(by_task["object_counting"]) == 10


def test_every_source_is_used_before_any_repeats():
    recipe = parse_recipe(
        {
            "name": "r",
            "holdout_fraction": 0.0,
            "splits": {
                "train": [
                    {"task": "temporal_jigsaw", "tier": "easy", "count": 2},
                    {"task": "object_counting", "tier": "easy", "count": 2},
                ]
            },
        },
        "r",
    )
    plan = make_plan(recipe, pool(4))
    assert len({s.source.source_id for sh in plan.shards for s in sh.samples}) == 4


def test_disjoint_slices_cover_small_pools_without_empty_slices():
    entries = [
        {"task": t, "tier": tier, "count": c}
        for t, tier, c in [
            ("temporal_jigsaw", "easy", 1000),
            ("object_counting", "easy", 1),
            ("anomaly_grounding", "default", 1),
        ]
    ]
    entries[2]["subtype"] = "mirror"
    recipe = parse_recipe(
        {"name": "r", "holdout_fraction": 0.0, "disjoint_tasks": True, "splits": {"train": entries}}, "r"
    )
    plan = make_plan(recipe, pool(3))
    by_task = {}
    for sh in plan.shards:
        for s in sh.samples:
            by_task.setdefault(s.task, set()).add(s.source.source_id)
    assert [len(v) for v in by_task.values()] == [1, 1, 1] and len(set().union(*by_task.values())) == 3


def test_build_refuses_a_train_split_on_another_datasets_benchmark_sources(tmp_path):
    import json

    from videolake import VideolakeError
    from videolake.pipeline.graph import check_holdout
    from videolake.pipeline.plan import sources_digest

    sources = pool(20)
    bench = parse_recipe(
        {
            "name": "bench",
            "holdout_fraction": 0.2,
            "splits": {"test": [{"task": "temporal_jigsaw", "tier": "easy", "count": 4}]},
        },
        "b",
    )
    bench_plan = make_plan(bench, sources)
    held = sorted(s.source_id for s in bench_plan.holdout)
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "manifest.json").write_text(
        json.dumps(
            {
                "sources": {"digest": sources_digest(bench_plan.sources)},
                "holdout": {"benchmark_source_ids": held, "train_source_ids": []},
            }
        )
    )
    same = parse_recipe(
        {
            "name": "train",
            "holdout_fraction": 0.2,
            "splits": {"train": [{"task": "temporal_jigsaw", "tier": "easy", "count": 40}]},
        },
        "t",
    )
    check_holdout(make_plan(same, sources), tmp_path)  # same fraction: disjoint by construction
    leaky = parse_recipe(
        {
            "name": "train",
            "holdout_fraction": 0.0,
            "splits": {"train": [{"task": "temporal_jigsaw", "tier": "easy", "count": 40}]},
        },
        "t",
    )
    with pytest.raises(VideolakeError, match="both benchmark and training data with bench"):
        check_holdout(make_plan(leaky, sources), tmp_path)


def test_a_ten_million_sample_plan_is_made_shard_by_shard_in_bounded_memory():
    import time
    import tracemalloc

    document = {
        "name": "huge",
        "splits": {
            "train": [
                {"task": "anomaly_grounding", "subtype": "swap", "count": 4_000_000},
                {"task": "temporal_jigsaw", "tier": "easy", "count": 3_000_000},
                {"task": "synrl", "subtype": "rotation", "count": 3_000_000},
            ]
        },
    }
    recipe = parse_recipe(document, "huge.yaml")
    tracemalloc.start()
    started = time.perf_counter()
    plan = make_plan(recipe, pool(5000))
    shards = plan.shards
    first, last = shards[0], shards[len(shards) - 1]
    used = plan.source_ids(benchmark=False)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(shards) == 10_000_000 // 256 + 1 and len(first.samples) == 256 and len(last.samples) == 10_000_000 % 256
    assert peak < 64 * 2**20, f"planning held {peak / 2**20:.0f} MiB"
    assert seconds < 30  # seconds in practice; generous for a loaded machine
    assert len(used) == 4500  # every non-held-out source, donors included
    # samples of one source sit together, ids are unique and the plan is a pure function
    ids = [s.id for sh in (shards[0], shards[1], shards[20_000]) for s in sh.samples]
    assert len(set(ids)) == len(ids)
    assert make_plan(recipe, list(reversed(pool(5000)))).shards[20_000] == shards[20_000]


def test_a_sample_computed_from_its_number_is_the_one_the_plan_makes():
    document = {
        "name": "mix",
        "shard_size": 5,
        "disjoint_tasks": True,
        "splits": {
            "train": [
                {"task": "anomaly_grounding", "subtype": "swap", "count": 7},
                {"task": "synrl", "subtype": "rotation", "count": 3},
                {"task": "temporal_jigsaw", "tier": "easy", "count": 9},
            ]
        },
    }
    plan = make_plan(parse_recipe(document, "mix.yaml"), pool(6))
    (layout,) = plan.layouts
    made = {spec.id: spec for shard in plan.shards for spec in shard.samples}
    assert len(made) == 19
    for number in range(19):
        spec = layout.by_number(number)
        assert made[spec.id] == spec
    chosen = make_plan(parse_recipe(document, "mix.yaml"), pool(6), select={"train": {2, 8, 15}})
    picked = [spec for shard in chosen.shards for spec in shard.samples]
    assert sorted(s.id for s in picked) == sorted(layout.by_number(n).id for n in (2, 8, 15))
    assert all(made[s.id] == s for s in picked) and chosen.selection and plan.selection is None
