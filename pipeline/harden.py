"""``videolake harden DIR --to TIER|next --out OUT``: the same dataset one or more steps up each
task's difficulty ladder (``manifests/tiers.yaml`` lists every task's tiers easiest first).

The new dataset is built from the parent's recipe with each entry's tier replaced (entries take the
new tier's settings), the same seed, the same counts and the same sources, so every sample keeps
its source and split and the benchmark holdout is the parent's. Its manifest names the parent.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from videolake import VideolakeError
from videolake.pipeline.recipes import Recipe, builtin_tiers, parse_recipe
from videolake.pipeline.shards import atomic_write_json
from videolake.pipeline.validate import load_manifest

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


def hardened_recipe(manifest: dict, target: str, only: tuple[str, ...] = (), selected: bool = False) -> tuple[Recipe, dict[str, str]]:
    """The parent's recipe with entries moved up; and the moves as {"task/subtype/old": new}."""
    document = dict(manifest["recipe"])
    tiers = {**builtin_tiers(), **(document.get("tiers") or {})}
    moves: dict[str, str] = {}
    splits = {}
    for split, entries in document["splits"].items():
        splits[split] = []
        for entry in entries:
            selected = not only or entry["task"] in only or f"{entry['task']}/{entry['subtype']}" in only
            new_tier = harder_tier(entry["task"], entry["tier"], target, tiers) if selected else None
            annotations = {"annotations": entry["annotations"]} if "annotations" in entry else {}
            if new_tier is None:
                splits[split].append({**{k: entry[k] for k in ("task", "subtype", "tier", "count", "params")}, **annotations})
                continue
            moves[f"{entry['task']}/{entry['subtype']}/{entry['tier']}"] = new_tier
            subtype = {"subtype": entry["subtype"]} if entry["subtype"] != entry["tier"] else {}  # a free subtype is the tier's name
            splits[split].append({"task": entry["task"], **subtype, "tier": new_tier, "count": entry["count"], **annotations})
    if not moves:
        raise VideolakeError(f"no entry of {manifest['dataset']} has a tier above it for --to {target}" + (f" (--only {', '.join(only)})" if only else ""))
    suffix = (target if target != NEXT else "harder") + ("-selected" if selected else "")
    document.update(name=f"{manifest['dataset']}-{suffix}", splits=splits)
    return parse_recipe(document, f"{manifest['dataset']} hardened"), moves


def selection(parent: dict, ids: list[str]) -> dict[str, set[int]]:
    """Parent sample ids (``<dataset>-<split>-<n>``, e.g. curate's too_easy.json) as numbers per split."""
    chosen: dict[str, set[int]] = {}
    for sample_id in ids:
        name, _, rest = str(sample_id).rpartition("-")
        dataset, _, split = name.rpartition("-")
        if dataset != parent["dataset"] or split not in parent["recipe"]["splits"] or not rest.isdigit():
            raise VideolakeError(f"{sample_id!r} is not a sample id of {parent['dataset']}")
        chosen.setdefault(split, set()).add(int(rest))
    return chosen


def harden(dataset_dir: Path, target: str, out: Path, sources: str | None = None, only: tuple[str, ...] = (), workers: int | None = None, progress: bool = True, ids: list[str] | None = None) -> Path:
    """``ids``: regenerate only these parent samples (same numbers, same sources) at the harder tier."""
    from videolake.pipeline.graph import build

    dataset_dir = Path(dataset_dir)
    parent = load_manifest(dataset_dir)
    recipe, moves = hardened_recipe(parent, target, only, selected=ids is not None)
    select = selection(parent, ids) if ids is not None else None
    built = build(recipe, sources, Path(out), seed=parent["seed"], workers=workers, progress=progress, select=select)
    manifest = load_manifest(built)
    if manifest["holdout"]["benchmark_source_ids"] != parent["holdout"]["benchmark_source_ids"]:
        raise VideolakeError(f"{built}: the sources differ from {dataset_dir.name}'s, so its benchmark holdout would not be kept: pass the same --sources")
    parent_sha = hashlib.sha256((dataset_dir / "manifest.json").read_bytes()).hexdigest()
    harden_info = {"to": target, "moves": moves, **({"ids": sorted(ids)} if ids is not None else {})}
    atomic_write_json(built / "manifest.json", {**manifest, "derived_from": {"dataset": parent["dataset"], "manifest_sha256": parent_sha, "harden": harden_info}})
    return built
