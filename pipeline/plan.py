"""Turn (recipe, seed, sources) into the exact list of samples and shards, before any decoding.

Everything here is a pure function of its inputs, so the same recipe + seed + sources always
plans the same samples into the same shards, whatever runs them.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from videolake import VideolakeError
from videolake.generators import TASKS
from videolake.pipeline.annotations import AnnotatedSample, digest
from videolake.pipeline.dataset import sample_id, shard_filename, shard_key
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
    annotation: dict | None = None  # the annotated rows this sample is made from (annotated subtypes)


@dataclass(frozen=True)
class Shard:
    split: str
    index: int
    count: int
    samples: tuple[SampleSpec, ...]

    @property
    def filename(self) -> str:
        return shard_filename(self.index, self.count)

    @property
    def key(self) -> str:
        return shard_key(self.split, self.filename)


@dataclass(frozen=True)
class Plan:
    recipe: Recipe
    seed: int
    sources: tuple[SourceRef, ...]
    holdout: tuple[SourceRef, ...]  # sources reserved for benchmark splits
    layouts: tuple[SplitLayout, ...]
    selection: str | None = None  # digest of the selected sample numbers, when only some are made
    annotations: str | None = None  # digest of every annotated entry's rows, when there are any
    shortfalls: tuple[dict, ...] = ()  # annotated entries that asked for more samples than their rows give
    duplicates: tuple[tuple[str, ...], ...] = ()  # groups of near-duplicate sources, held out or trained on together
    excluded: tuple[str, ...] = ()  # sources no split may use (near-duplicates of --exclude videos)

    @property
    def shards(self) -> ShardSequence:
        """Every shard, computed on demand: a plan holds O(entries + sources), never every sample."""
        return ShardSequence(self.layouts)

    def source_ids(self, benchmark: bool) -> set[str]:
        """Sources the benchmark splits use (``benchmark=True``) or every other split uses."""
        return {
            source_id
            for layout in self.layouts
            if (layout.split in BENCHMARK_SPLITS) == benchmark
            for source_id in layout.used_source_ids()
        }

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
        if self.selection:
            document["selection"] = self.selection
        if self.annotations:
            document["annotations"] = self.annotations
        if self.duplicates:
            document["duplicates"] = sha256_text(json.dumps(self.duplicates))
        if self.excluded:
            document["excluded"] = sha256_text(json.dumps(self.excluded))
        return sha256_text(json.dumps(document, sort_keys=True))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sources_digest(sources) -> str:
    return sha256_text("\n".join(s.source_id for s in sources))


def _rank(key: str) -> str:
    return sha256_text(key)


def holdout_sources(
    sources: list[SourceRef], fraction: float, duplicates: Sequence[Sequence[str]] = ()
) -> list[SourceRef]:
    """The benchmark's share of a pool: walking sources by lowest sha256(source_id), each source
    with its near-duplicate group, until ceil(fraction * n) are held (a group is never split).

    It depends on the pool alone (not on the recipe or seed), and a smaller fraction picks a
    subset of a larger one, so a test split built at fraction f never shares a source (or a copy
    of one) with a train split built at any fraction >= f from the same pool. Without duplicates
    it is exactly the ceil(fraction * n) lowest-ranked sources.
    """
    if fraction <= 0:
        return []
    ranked = sorted(sources, key=lambda s: _rank(s.source_id))
    group_of = {source_id: tuple(group) for group in duplicates for source_id in group}
    target, held = math.ceil(fraction * len(ranked)), set()
    for source in ranked:
        if len(held) >= target:
            break
        held.update(group_of.get(source.source_id, (source.source_id,)))
    return [s for s in ranked if s.source_id in held]


def sample_seed(seed: int, sample_id: str) -> int:
    return int(sha256_text(f"{seed}:{sample_id}")[:16], 16)


def make_plan(
    recipe: Recipe,
    sources: list[SourceRef],
    *,
    seed: int | None = None,
    limit: int | None = None,
    select: dict[str, set[int]] | None = None,
    annotated: dict[tuple[str, int], list[AnnotatedSample]] | None = None,
    duplicates: Sequence[Sequence[str]] = (),
    excluded: Sequence[str] = (),
) -> Plan:
    """``select``: per split, the sample numbers to make (all when None). ``annotated``: for each
    annotated entry (split, entry index), every sample its rows give (pipeline.annotations).
    ``duplicates``: groups of near-duplicate source ids (pipeline.fingerprint), held out together.
    ``excluded``: source ids no split uses; the holdout is chosen before they are taken out, so it
    is the same with or without them."""
    seed = recipe.seed if seed is None else seed
    annotated = annotated or {}
    sources = sorted(sources)[:limit] if limit else sorted(sources)
    if not sources and recipe.needs_sources and not annotated:
        raise VideolakeError("no video sources found")
    # Annotated videos that discovery does not list (GOT-10k frame folders) join the holdout pool.
    listed = {s.source_id for s in sources}
    extra = sorted({a.source for samples in annotated.values() for a in samples if a.source.source_id not in listed})
    duplicates = tuple(sorted(tuple(sorted(group)) for group in duplicates if len(group) > 1))
    holdout = holdout_sources(sources + extra, recipe.holdout_fraction, duplicates)
    held, banned = {s.source_id for s in holdout}, set(excluded)
    layouts, shortfalls = [], []
    for split, entries in recipe.splits.items():
        pool = holdout if split in BENCHMARK_SPLITS else [s for s in sources if s.source_id not in held]
        pool = [s for s in pool if s.source_id in listed and s.source_id not in banned]
        chosen = {}
        for i, entry in enumerate(entries):
            if (split, i) in annotated:
                chosen[i] = _choose_annotated(
                    [a for a in annotated[(split, i)] if a.source.source_id not in banned],
                    entry.count,
                    held,
                    split,
                    seed,
                )
                if len(chosen[i]) < entry.count:
                    shortfalls.append(
                        {
                            "entry": f"{split}[{i}] {entry.task}/{entry.subtype}",
                            "asked": entry.count,
                            "available": len(chosen[i]),
                        }
                    )
        entries = [dataclasses.replace(e, count=len(chosen[i])) if i in chosen else e for i, e in enumerate(entries)]
        if not pool and any(TASKS[e.task].needs_source(e.subtype) for i, e in enumerate(entries) if i not in chosen):
            raise VideolakeError(
                f"split {split!r} has no sources: {len(sources)} found, {len(holdout)} held out for benchmark splits"
            )
        pool = sorted(pool, key=lambda s: _rank(f"{seed}:{split}:{s.source_id}"))
        layout = SplitLayout.build(recipe, split, entries, pool, seed, chosen)
        layouts.append(layout if select is None else layout.select(select.get(split, ())))
    selection = (
        sha256_text(json.dumps({k: sorted(v) for k, v in sorted(select.items())})) if select is not None else None
    )
    rows = (
        sha256_text(json.dumps({f"{k[0]}[{k[1]}]": digest(v) for k, v in sorted(annotated.items())}))
        if annotated
        else None
    )
    return Plan(
        recipe,
        seed,
        tuple(sources),
        tuple(holdout),
        tuple(layouts),
        selection,
        rows,
        tuple(shortfalls),
        duplicates,
        tuple(sorted(banned)),
    )


def _choose_annotated(
    samples: list[AnnotatedSample], count: int, held: set[str], split: str, seed: int
) -> tuple[AnnotatedSample, ...]:
    """Up to ``count`` samples whose videos this split may use (benchmark splits: held-out videos
    only; others: never those), a seeded choice, then grouped by video so a shard decodes each once."""
    benchmark = split in BENCHMARK_SPLITS
    allowed = [a for a in samples if (a.source.source_id in held) == benchmark]
    ranked = sorted(
        allowed, key=lambda a: _rank(f"{seed}:{split}:{a.source.source_id}:{json.dumps(a.annotation, sort_keys=True)}")
    )
    return tuple(sorted(ranked[:count], key=lambda a: (a.source.source_id, json.dumps(a.annotation, sort_keys=True))))


@dataclass(frozen=True)
class Walk:
    """The sourced entries that share one cursor over one slice of the pool (all tasks, or one task
    with ``disjoint_tasks``): cursor value c takes ``sources[c % len(sources)]``."""

    sources: tuple[SourceRef, ...]
    offset: int  # where the slice starts in the split's pool (donors are pool neighbours)
    entries: tuple[int, ...]  # entry indices, in recipe order
    bases: tuple[int, ...]  # first cursor value of each entry
    total: int  # samples on this walk

    def source_position(self, order: int) -> tuple[int, int]:
        """(position in ``sources``, cursor) of the ``order``-th sample when samples are grouped by
        source (so a shard decodes each source once): source p holds cursors p, p + P, p + 2P, ..."""
        per, extra = divmod(self.total, len(self.sources))
        if order < extra * (per + 1):
            position, round_ = divmod(order, per + 1)
        else:
            position, round_ = divmod(order - extra * (per + 1), per)
            position += extra
        return position, position + round_ * len(self.sources)


@dataclass(frozen=True)
class SplitLayout:
    """Everything needed to produce any sample of a split from its index, in O(1) memory per sample.

    Sample ids number the entries in recipe order. The shard order puts rendered samples first (in
    id order), then each walk with its samples grouped by source."""

    recipe_name: str
    split: str
    seed: int
    shard_size: int
    entries: tuple  # the recipe's Entry objects
    starts: tuple[int, ...]  # first sample number of each entry
    pool: tuple[SourceRef, ...]
    rendered: tuple[int, ...]  # entries that need no source
    rendered_starts: tuple[int, ...]  # running count of rendered samples before each of them
    walks: tuple[Walk, ...]
    selected: tuple[int, ...] | None = None  # sample numbers to make (harden --ids), in shard order
    annotated: tuple[tuple[int, tuple[AnnotatedSample, ...]], ...] = ()  # (entry, its samples), made last

    @classmethod
    def build(
        cls, recipe: Recipe, split: str, entries, pool: list[SourceRef], seed: int, annotated: dict | None = None
    ) -> SplitLayout:
        annotated = annotated or {}
        starts = tuple(itertools.accumulate((e.count for e in entries), initial=0))[:-1]
        rendered = tuple(
            i for i, e in enumerate(entries) if not TASKS[e.task].needs_source(e.subtype) and i not in annotated
        )
        rendered_starts = tuple(itertools.accumulate((entries[i].count for i in rendered), initial=0))[:-1]
        sourced = [i for i, e in enumerate(entries) if TASKS[e.task].needs_source(e.subtype) and i not in annotated]
        if any(TASKS[entries[i].task].needs_donor(entries[i].subtype) for i in sourced) and len(pool) < 2:
            raise VideolakeError(f"split {split!r}: the swap perturbation needs at least two sources")
        groups: dict[str, list[int]] = {}
        for i in sourced:
            groups.setdefault(entries[i].task if recipe.disjoint_tasks else "*", []).append(i)
        slices = _slices(split, pool, {key: sum(entries[i].count for i in members) for key, members in groups.items()})
        walks = []
        for key, members in groups.items():
            start, end = slices[key]
            bases = tuple(itertools.accumulate((entries[i].count for i in members), initial=0))
            walks.append(Walk(tuple(pool[start:end]), start, tuple(members), bases[:-1], bases[-1]))
        return cls(
            recipe.name,
            split,
            seed,
            recipe.shard_size,
            tuple(entries),
            starts,
            tuple(pool),
            rendered,
            rendered_starts,
            tuple(walks),
            None,
            tuple(sorted(annotated.items())),
        )

    @property
    def total(self) -> int:
        return len(self.selected) if self.selected is not None else sum(e.count for e in self.entries)

    @property
    def shard_count(self) -> int:
        return math.ceil(self.total / self.shard_size)

    def spec(self, order: int) -> SampleSpec:
        """The ``order``-th sample in shard order."""
        if self.selected is not None:
            return self.by_number(self.selected[order])
        rendered_total = sum(self.entries[i].count for i in self.rendered)
        if order < rendered_total:
            at = bisect.bisect_right(self.rendered_starts, order) - 1
            entry_index = self.rendered[at]
            return self._spec(entry_index, order - self.rendered_starts[at], None, None)
        order -= rendered_total
        for walk in self.walks:
            if order < walk.total:
                position, cursor = walk.source_position(order)
                return self._sourced(walk, bisect.bisect_right(walk.bases, cursor) - 1, position, cursor)
            order -= walk.total
        for entry_index, samples in self.annotated:
            if order < len(samples):
                return self._spec(entry_index, order, samples[order].source, None, samples[order].annotation)
            order -= len(samples)
        raise IndexError(order)

    def _locate(self, number: int) -> tuple[int, int, int, int]:
        """(walk index + 1, or 0 when rendered; entry index; source position; cursor or offset) of a sample number."""
        entry_index = bisect.bisect_right(self.starts, number) - 1
        offset = number - self.starts[entry_index]
        for k, (annotated_entry, _) in enumerate(self.annotated):
            if annotated_entry == entry_index:
                return len(self.walks) + 1 + k, entry_index, 0, offset
        for k, walk in enumerate(self.walks):
            if entry_index in walk.entries:
                cursor = walk.bases[walk.entries.index(entry_index)] + offset
                return k + 1, entry_index, cursor % len(walk.sources), cursor
        return 0, entry_index, 0, offset

    def by_number(self, number: int) -> SampleSpec:
        """The sample whose id ends in ``number``, computed directly."""
        if not 0 <= number < sum(e.count for e in self.entries):
            raise VideolakeError(f"split {self.split!r} has no sample number {number}")
        walk_index, entry_index, position, cursor = self._locate(number)
        if walk_index == 0:
            return self._spec(entry_index, cursor, None, None)
        if walk_index > len(self.walks):
            sample = self.annotated[walk_index - len(self.walks) - 1][1][cursor]
            return self._spec(entry_index, cursor, sample.source, None, sample.annotation)
        walk = self.walks[walk_index - 1]
        return self._sourced(walk, walk.entries.index(entry_index), position, cursor)

    def select(self, numbers) -> SplitLayout:
        """Only these samples, in shard order (rendered first, then grouped by source)."""

        def order(number: int) -> tuple[int, int, int, int]:
            walk, _, position, cursor = self._locate(number)
            return walk, position, cursor, number

        return dataclasses.replace(self, selected=tuple(sorted(set(numbers), key=order)))

    def _sourced(self, walk: Walk, at: int, position: int, cursor: int) -> SampleSpec:
        entry_index = walk.entries[at]
        donor = None
        if TASKS[self.entries[entry_index].task].needs_donor(self.entries[entry_index].subtype):
            donor = self.pool[(walk.offset + position + 1) % len(self.pool)]
        return self._spec(entry_index, cursor - walk.bases[at], walk.sources[position], donor)

    def _spec(
        self,
        entry_index: int,
        offset: int,
        source: SourceRef | None,
        donor: SourceRef | None,
        annotation: dict | None = None,
    ) -> SampleSpec:
        entry = self.entries[entry_index]
        number = self.starts[entry_index] + offset
        spec_id = sample_id(self.recipe_name, self.split, number)
        return SampleSpec(
            spec_id,
            entry.task,
            entry.subtype,
            entry.tier,
            self.split,
            source,
            donor,
            sample_seed(self.seed, spec_id),
            entry.params,
            annotation,
        )

    def shard_orders(self, index: int) -> range:
        """The shard-order positions of shard ``index``'s samples."""
        return range(index * self.shard_size, min(self.total, (index + 1) * self.shard_size))

    def shard(self, index: int) -> Shard:
        if not 0 <= index < self.shard_count:
            raise IndexError(index)
        return Shard(self.split, index, self.shard_count, tuple(self.spec(order) for order in self.shard_orders(index)))

    def used_source_ids(self) -> set[str]:
        """Every source a sample of this split reads, donors included (O(sources) work)."""
        if self.selected is not None:
            specs = [self.by_number(number) for number in self.selected]
            return {ref.source_id for spec in specs for ref in (spec.source, spec.donor) if ref is not None}
        used = {sample.source.source_id for _, samples in self.annotated for sample in samples}
        for walk in self.walks:
            reached = min(walk.total, len(walk.sources))
            used.update(s.source_id for s in walk.sources[:reached])
            for at, entry_index in enumerate(walk.entries):
                entry = self.entries[entry_index]
                if TASKS[entry.task].needs_donor(entry.subtype):
                    first, count = walk.bases[at], min(entry.count, len(walk.sources))
                    for cursor in range(first, first + count):
                        used.add(self.pool[(walk.offset + cursor % len(walk.sources) + 1) % len(self.pool)].source_id)
        return used


class ShardSequence(Sequence):
    """The plan's shards, split by split, each made when asked for."""

    def __init__(self, layouts: tuple[SplitLayout, ...]):
        self.layouts = layouts
        self.offsets = tuple(itertools.accumulate((layout.shard_count for layout in layouts), initial=0))

    def __len__(self) -> int:
        return self.offsets[-1]

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        layout, local = self._find(index)
        return layout.shard(local)

    def _find(self, index: int) -> tuple[SplitLayout, int]:
        """The split layout holding shard ``index``, and the shard's index within it."""
        at = bisect.bisect_right(self.offsets, index) - 1
        return self.layouts[at], index - self.offsets[at]

    def size(self, index: int) -> int:
        """How many samples a shard plans, without planning them."""
        layout, local = self._find(index)
        return len(layout.shard_orders(local))

    def name(self, index: int) -> tuple[str, str]:
        """(split, file name) of a shard, without planning its samples."""
        layout, local = self._find(index)
        return layout.split, shard_filename(local, layout.shard_count)

    def __eq__(self, other) -> bool:
        return isinstance(other, ShardSequence) and len(self) == len(other) and all(a == b for a, b in zip(self, other))


def _slices(split: str, pool: list[SourceRef], totals: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Each walk's (start, end) in the pool: the whole pool when tasks share it, otherwise slices in
    proportion to each task's samples, every task getting at least one source."""
    if list(totals) in ([], ["*"]):
        return {"*": (0, len(pool))}
    if len(pool) < len(totals):
        raise VideolakeError(f"split {split!r}: {len(pool)} sources cannot give {len(totals)} tasks disjoint slices")
    grand, running, start, slices = sum(totals.values()), 0, 0, {}
    for i, (task, total) in enumerate(totals.items()):
        running += total
        remaining = len(totals) - i - 1  # later tasks need at least one source each
        end = min(max(start + 1, round(len(pool) * running / grand)), len(pool) - remaining)
        slices[task], start = (start, end), end
    return slices
