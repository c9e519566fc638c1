"""Turn (recipe, seed, sources) into the exact list of samples and shards, before any decoding.

Everything here is a pure function of its inputs, so the same recipe + seed + sources always
plans the same samples into the same shards, whatever runs them.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass

from videolake import VideolakeError
from videolake.generators import TASKS
from videolake.pipeline.ingest import SourceRef
from videolake.pipeline.recipes import BENCHMARK_SPLITS, Recipe


@dataclass(frozen=True)
class SampleSpec:
    id: str
    task: str
    subtype: str
    tier: str
    split: str
    source: SourceRef | None  # None: the task renders its video
    donor: SourceRef | None
    seed: int
    params: dict


@dataclass(frozen=True)
class Shard:
    split: str
    index: int
    count: int
    samples: tuple[SampleSpec, ...]

    @property
    def filename(self) -> str:
        return f"data-{self.index:05d}-of-{self.count:05d}.arrow"

    @property
    def key(self) -> str:
        return f"{self.split}/{self.filename}"


@dataclass(frozen=True)
class Plan:
    recipe: Recipe
    seed: int
    sources: tuple[SourceRef, ...]
    holdout: tuple[SourceRef, ...]  # sources reserved for benchmark splits
    shards: tuple[Shard, ...]

    def source_ids(self, benchmark: bool) -> set[str]:
        """Sources the benchmark splits use (``benchmark=True``) or every other split uses."""
        return {spec.source.source_id for shard in self.shards if (shard.split in BENCHMARK_SPLITS) == benchmark for spec in shard.samples if spec.source}

    def fingerprint(self, encoder: dict, polish: dict | None = None) -> str:
        """Identifies the build: a resumed build must match it exactly."""
        document = {
            "recipe": self.recipe.document,
            "seed": self.seed,
            "sources": sources_digest(self.sources),
            "encoder": encoder,
        }
        if polish:
            document["polish"] = polish
        return sha256_text(json.dumps(document, sort_keys=True))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sources_digest(sources) -> str:
    return sha256_text("\n".join(s.source_id for s in sources))


def _rank(key: str) -> str:
    return sha256_text(key)


def holdout_sources(sources: list[SourceRef], fraction: float) -> list[SourceRef]:
    """The benchmark's share of a pool: the ceil(fraction * n) sources whose id hashes lowest.

    It depends on the pool alone (not on the recipe or seed), and a smaller fraction picks a
    subset of a larger one, so a test split built at fraction f never shares a source with a
    train split built at any fraction >= f from the same pool.
    """
    if fraction <= 0:
        return []
    ranked = sorted(sources, key=lambda s: _rank(s.source_id))
    return ranked[: math.ceil(fraction * len(ranked))]


def sample_seed(seed: int, sample_id: str) -> int:
    return int(sha256_text(f"{seed}:{sample_id}")[:16], 16)


def make_plan(recipe: Recipe, sources: list[SourceRef], seed: int | None = None, limit: int | None = None) -> Plan:
    seed = recipe.seed if seed is None else seed
    sources = sorted(sources)[:limit] if limit else sorted(sources)
    if not sources and recipe.needs_sources:
        raise VideolakeError("no video sources found")
    holdout = holdout_sources(sources, recipe.holdout_fraction)
    held = {s.source_id for s in holdout}
    shards: list[Shard] = []
    for split, entries in recipe.splits.items():
        if split in BENCHMARK_SPLITS:
            pool = holdout
        else:
            pool = [s for s in sources if s.source_id not in held]
        if not pool and any(TASKS[e.task].needs_source for e in entries):
            raise VideolakeError(f"split {split!r} has no sources: {len(sources)} found, {len(holdout)} held out for benchmark splits")
        pool = sorted(pool, key=lambda s: _rank(f"{seed}:{split}:{s.source_id}"))
        specs = _split_samples(recipe, split, entries, pool, seed)
        # Samples of one source sit together so a shard decodes each source once.
        order = {s.source_id: i for i, s in enumerate(sources)}
        specs.sort(key=lambda spec: (order[spec.source.source_id] if spec.source else -1, spec.id))
        count = math.ceil(len(specs) / recipe.shard_size)
        for index in range(count):
            chunk = tuple(specs[index * recipe.shard_size : (index + 1) * recipe.shard_size])
            shards.append(Shard(split, index, count, chunk))
    return Plan(recipe, seed, tuple(sources), tuple(holdout), tuple(shards))


def _split_samples(recipe: Recipe, split: str, entries, pool: list[SourceRef], seed: int) -> list[SampleSpec]:
    """Assign sources round-robin over the pool, one cursor for all tasks so every source is used
    before any repeats; with disjoint_tasks each task walks its own slice of the pool."""
    sourced = [entry for entry in entries if TASKS[entry.task].needs_source]
    slice_of = {entry.task: "*" for entry in sourced}
    slices = {"*": pool}
    if recipe.disjoint_tasks:
        totals: dict[str, int] = {}
        for entry in sourced:
            totals[entry.task] = totals.get(entry.task, 0) + entry.count
        if len(pool) < len(totals):
            raise VideolakeError(f"split {split!r}: {len(pool)} sources cannot give {len(totals)} tasks disjoint slices")
        grand, running, start = sum(totals.values()), 0, 0
        for i, (task, total) in enumerate(totals.items()):
            running += total
            remaining = len(totals) - i - 1  # later tasks need at least one source each
            end = min(max(start + 1, round(len(pool) * running / grand)), len(pool) - remaining)
            slices[task], slice_of[task] = pool[start:end], task
            start = end
    cursor = {key: 0 for key in slices}
    pool_position = {s.source_id: i for i, s in enumerate(pool)}
    specs, number = [], 0
    for entry in entries:
        if not TASKS[entry.task].needs_source:
            for _ in range(entry.count):
                sample_id = f"{recipe.name}-{split}-{number:07d}"
                specs.append(SampleSpec(sample_id, entry.task, entry.subtype, entry.tier, split, None, None, sample_seed(seed, sample_id), entry.params))
                number += 1
            continue
        key = slice_of[entry.task]
        task_pool = slices[key]
        for _ in range(entry.count):
            position = cursor[key] % len(task_pool)
            cursor[key] += 1
            donor = None
            if TASKS[entry.task].needs_donor(entry.subtype):
                if len(pool) < 2:
                    raise VideolakeError(f"split {split!r}: the swap perturbation needs at least two sources")
                donor = pool[(pool_position[task_pool[position].source_id] + 1) % len(pool)]
            sample_id = f"{recipe.name}-{split}-{number:07d}"
            specs.append(
                SampleSpec(sample_id, entry.task, entry.subtype, entry.tier, split, task_pool[position], donor, sample_seed(seed, sample_id), entry.params)
            )
            number += 1
    return specs
