"""``videolake harden DIR --to TIER|next --out OUT``: the same dataset one or more steps up each
task's difficulty ladder (``manifests/tiers.yaml`` lists every task's tiers easiest first).

The new dataset is built from the parent's recipe with each entry's tier replaced (entries take the
new tier's settings and keep the ones the user set that the new tier does not), the same seed, the
same counts and the same sources, so every sample keeps its source and split and the benchmark
holdout is the parent's (checked before anything is written). It regenerates the parent's samples
and no others: a curated parent's dropped samples stay dropped. Its manifest names the parent.
Output: ``OUT/<parent>-harder`` (``--to next``), ``OUT/<parent>-<tier>``, with ``-selected`` after
either when only ``--ids`` are regenerated.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from videolake import VideolakeError
from videolake.generators import TASKS
from videolake.pipeline.dataset import (
    Dataset,
    Manifest,
    composition_key,
    open_dataset,
    parse_sample_id,
    read_json,
    refuse_output_inside,
    sample_id,
)
from videolake.pipeline.plan import Plan, sources_digest
from videolake.pipeline.recipes import Entry, Recipe, builtin_tiers, parse_recipe

NEXT = "next"


def ladder(task: str, tiers: dict) -> list[str]:
    return list(tiers.get(task, {}))


def harder_tier(task: str, current: str, target: str, tiers: dict) -> str | None:
    """The tier an entry moves to: ``next`` is one step up its task's ladder; a named tier applies to
    the tasks that have it and sit below it. None: the entry stays as it is."""
    steps = ladder(task, tiers)
    if current not in steps:
        return None
    here = steps.index(current)
    if target == NEXT:
        return steps[here + 1] if here + 1 < len(steps) else None
    return target if target in steps and steps.index(target) > here else None


def unrecorded_tiers(document: dict) -> dict:
    """A recipe's own tiers are not in the manifest (only each entry's resolved params are): an
    entry at such a tier is kept as recorded, so the tier is declared empty to parse it again."""
    known, stubs = builtin_tiers(), {}
    splits = document.get("splits")
    for entries in splits.values() if isinstance(splits, dict) else ():
        for entry in entries if isinstance(entries, list) else ():
            task, tier = (entry.get("task"), entry.get("tier")) if isinstance(entry, dict) else (None, None)
            if isinstance(task, str) and task in TASKS and isinstance(tier, str) and tier not in known.get(task, {}):
                stubs.setdefault(task, {})[tier] = {}
    return stubs


def user_params(entry: Entry, tiers: dict) -> dict:
    """The params an entry's recipe set itself: its recorded params less the values its tier gave."""
    given = tiers[entry.task].get(entry.tier) or {}
    return {key: value for key, value in entry.params.items() if not (key in given and given[key] == value)}


def moved_entry(entry: Entry, new_tier: str, tiers: dict) -> dict:
    """The entry at ``new_tier``: the new tier's settings, and every setting of the user's it does not set."""
    settings = tiers[entry.task].get(new_tier) or {}
    params = {key: value for key, value in user_params(entry, tiers).items() if key not in settings}
    subtype = (
        {"subtype": entry.subtype} if TASKS[entry.task].subtypes is not None else {}
    )  # a free subtype is the tier's name
    annotations = {"annotations": list(entry.annotations)} if entry.annotations else {}
    return {"task": entry.task, **subtype, "tier": new_tier, "count": entry.count, "params": params, **annotations}


def parent_recipe(document: dict, where: str) -> tuple[Recipe, dict]:
    """The parent's recipe, checked as a recipe file is, and the tiers its entries were built with."""
    stubs = unrecorded_tiers(document)
    recipe = parse_recipe({**document, "tiers": stubs}, f"{where}: recipe")
    tiers = builtin_tiers()
    for task, named in stubs.items():
        tiers[task] = {**tiers.get(task, {}), **named}
    return recipe, tiers


def hardened_recipe(
    parent_name: str,
    document: dict,
    target: str,
    *,
    only: tuple[str, ...] = (),
    by_ids: bool = False,
    where: str = "the parent's manifest",
) -> tuple[Recipe, dict[str, str]]:
    """The parent's recipe (``document``, as its manifest records it) with entries moved up; and
    the moves as {"task/subtype/old": new}."""
    parent, tiers = parent_recipe(document, where)
    moves: dict[str, str] = {}
    splits = {}
    for split, entries in parent.splits.items():
        splits[split] = []
        for entry in entries:
            chosen = not only or entry.task in only or f"{entry.task}/{entry.subtype}" in only
            new_tier = harder_tier(entry.task, entry.tier, target, tiers) if chosen else None
            if new_tier is None:
                splits[split].append(entry.document)
                continue
            moves[composition_key(entry.task, entry.subtype, entry.tier)] = new_tier
            splits[split].append(moved_entry(entry, new_tier, tiers))
    if not moves:
        raise VideolakeError(
            f"no entry of {parent_name} has a tier above it for --to {target}"
            + (f" (--only {', '.join(only)})" if only else "")
        )
    suffix = (target if target != NEXT else "harder") + ("-selected" if by_ids else "")
    hardened = {
        **document,
        "name": f"{parent_name}-{suffix}",
        "splits": splits,
        "tiers": unrecorded_tiers(document),
    }
    return parse_recipe(hardened, f"{parent_name} hardened"), moves


def planned_number(value, recipe_name: str, totals: dict[str, int]) -> tuple[str, int] | None:
    """(split, number) of a sample id the parent's recipe plans (``totals``: samples per split), else None."""
    found = parse_sample_id(value, recipe_name)
    return found if found is not None and found[0] in totals and found[1] < totals[found[0]] else None


def selection(ids, totals: dict[str, int], *, parent_name: str, recipe_name: str, where: str) -> dict[str, set[int]]:
    """Parent sample ids (e.g. curate's too_easy.json) as numbers per split."""
    if not isinstance(ids, list):
        raise VideolakeError(
            f"{where}: expected a JSON list of sample ids of {parent_name}, got a JSON {type(ids).__name__}"
        )
    if not ids:
        raise VideolakeError(f"{where}: the list is empty: give the sample ids to regenerate")
    chosen: dict[str, set[int]] = {}
    for position, value in enumerate(ids):
        found = planned_number(value, recipe_name, totals)
        if found is None:
            shown = repr(value)
            raise VideolakeError(
                f"{where}[{position}]: {shown[:80]}{'...' if len(shown) > 80 else ''} is not a sample id of "
                f"{parent_name} (its ids look like {sample_id(recipe_name, next(iter(totals)), 0)})"
            )
        chosen.setdefault(found[0], set()).add(found[1])
    return chosen


def parent_samples(dataset: Dataset, totals: dict[str, int]) -> dict[str, set[int]] | None:
    """The numbers of the samples the parent holds, per split; None when it holds every one its
    recipe plans (a build), so that the hardened build is planned whole, exactly as a build is."""
    prefix = dataset.manifest.recipe["name"]
    held: dict[str, set[int]] = {}
    for split, record in dataset.records(columns=["id"]):
        found = planned_number(record["id"], prefix, totals)
        if found is None or found[0] != split:
            raise VideolakeError(
                f"{dataset.dir}: record {str(record['id'])[:80]!r} in split {split} is not a sample id of its recipe {prefix}"
            )
        held.setdefault(split, set()).add(found[1])
    if not held:
        raise VideolakeError(f"{dataset.dir} holds no samples: nothing to harden")
    complete = all(
        len(held.get(split, ())) == total for split, total in totals.items()
    )  # every number is below its split's total
    return None if complete else held


def check_same_sources(plan: Plan, parent: Manifest, whole: bool) -> None:
    """The hardened samples read the parent's pool, and the benchmark holdout stays the parent's:
    the same sources for a whole rebuild, a part of them for a selection."""
    benchmark, train = plan.source_ids(benchmark=True), plan.source_ids(benchmark=False)
    parent_benchmark, parent_train = set(parent.holdout.benchmark_source_ids), set(parent.holdout.train_source_ids)
    kept = (
        (benchmark == parent_benchmark and train == parent_train)
        if whole
        else (benchmark <= parent_benchmark and train <= parent_train)
    )
    if sources_digest(plan.sources) != parent.sources.digest or not kept:
        raise VideolakeError(
            f"the sources differ from {parent.dataset}'s, so its samples and benchmark holdout would not be kept: pass the same --sources"
        )


def harden(
    dataset_dir: Path,
    target: str,
    out: Path,
    *,
    sources: str | None = None,
    only: tuple[str, ...] = (),
    workers: int | None = None,
    progress: bool = True,
    ids_file: Path | None = None,
) -> Path:
    """``ids_file``: regenerate only these parent samples (same numbers, same sources) at the harder tier."""
    from videolake.pipeline.graph import build

    dataset = open_dataset(dataset_dir)
    parent = dataset.manifest
    recipe, moves = hardened_recipe(
        dataset.name, parent.recipe, target, only=only, by_ids=ids_file is not None, where=str(dataset.manifest_path)
    )
    local_sources = [Path(sources)] if sources is not None and "://" not in sources else []
    refuse_output_inside(
        Path(out) / recipe.name, dataset.dir, *local_sources, *([Path(ids_file)] if ids_file is not None else [])
    )
    totals = {split: sum(entry.count for entry in entries) for split, entries in recipe.splits.items()}
    ids = read_json(ids_file) if ids_file is not None else None
    if ids_file is not None:
        where = str(ids_file)
        select = selection(ids, totals, parent_name=dataset.name, recipe_name=parent.recipe["name"], where=where)
    else:
        select = parent_samples(dataset, totals)
    harden_info = {"to": target, "moves": moves, **({"ids": sorted(set(ids))} if ids is not None else {})}
    return build(
        recipe,
        sources,
        Path(out),
        seed=parent.seed,
        workers=workers,
        progress=progress,
        select=select,
        check_plan=partial(check_same_sources, parent=parent, whole=select is None),
        derived_from=dataset.lineage(harden=harden_info),
    )
