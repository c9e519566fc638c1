"""The plan (pipeline/plan.py): the samples a recipe, seed and sources give, shard by shard, before any decoding."""

import pytest

from videolake.pipeline.annotations import AnnotatedSample
from videolake.pipeline.ingest import SourceRef
from videolake.pipeline.plan import holdout_sources, make_plan
from videolake.pipeline.recipes import RecipeError, builtin_names, load_recipe, parse_recipe, scale_recipe


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


def annotated_rows(recipe, sources) -> dict:
    """Rows for every annotated entry, three on each source, so that every split finds some."""
    return {
        (split, index): [AnnotatedSample(source, {"row": row}) for source in sources for row in range(3)]
        for split, index, _ in recipe.annotated_entries()
    }


@pytest.mark.parametrize("name", builtin_names())
def test_max_samples_20_of_every_shipped_recipe_plans_every_entry_within_the_limit(name):
    recipe, sources = load_recipe(name), pool(40)
    entries = sum(len(split_entries) for split_entries in recipe.splits.values())
    if entries > 20:  # demo: 28 entries, so 20 samples cannot keep every one
        with pytest.raises(
            RecipeError, match=f"{name} has {entries} entries: --max-samples must be at least {entries}"
        ):
            scale_recipe(recipe, 20)
    limit = max(20, entries)
    scaled = scale_recipe(recipe, limit)
    plan = make_plan(scaled, sources, annotated=annotated_rows(scaled, sources))
    made = [spec for shard in plan.shards for spec in shard.samples]
    assert len(made) == sum(layout.total for layout in plan.layouts) <= limit
    assert [layout.split for layout in plan.layouts] == list(recipe.splits)
    for layout, (split, full_entries) in zip(plan.layouts, recipe.splits.items()):
        assert [(e.task, e.subtype, e.tier) for e in layout.entries] == [
            (e.task, e.subtype, e.tier) for e in full_entries
        ]
        assert all(entry.count >= 1 for entry in layout.entries), split
        numbers = {int(spec.id.rsplit("-", 1)[1]) for spec in made if spec.split == split}
        assert all(start in numbers for start in layout.starts), split  # every entry's first sample is made
    full = make_plan(recipe, sources, annotated=annotated_rows(recipe, sources))
    assert plan.holdout == full.holdout  # the benchmark keeps the full recipe's sources
    again = make_plan(scale_recipe(load_recipe(name), limit), sources, annotated=annotated_rows(scaled, sources))
    assert again.shards == plan.shards
