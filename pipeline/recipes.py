"""Build recipes: declarative YAML in manifests/, validated with one clear error per mistake.

A recipe names a dataset, its splits, and for each split a list of entries
``{task, subtype, tier, count, params}``. A tier is a named parameter set (manifests/tiers.yaml,
or a recipe's own ``tiers:``), so difficulty is data, never a code branch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from videolake import VideolakeError
from videolake.generators import TASKS

RECIPE_KEYS = {
    "name",
    "description",
    "license",
    "sources",
    "seed",
    "frames",
    "max_size",
    "shard_size",
    "holdout_fraction",
    "disjoint_tasks",
    "splits",
    "tiers",
    "x264",
    "scale",
}
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
ENTRY_KEYS = {"task", "subtype", "tier", "count", "params", "annotations"}
BENCHMARK_SPLITS = {"test"}  # drawn only from held-out sources, which no other split may use
DEFAULT_TIER = "default"
MAX_FRAMES = 1024  # sampled frames per video (MUSEG trains with up to 448)
MAX_SHARD_SIZE = 100_000
MAX_SIDE = 4096
MAX_COUNT = 10_000_000  # samples per entry
MAX_SEED = 2**63 - 1
# A recipe is a few dozen values; these bounds stop a YAML alias bomb or a deep nest before anything walks it.
MAX_VALUES = 100_000
MAX_DEPTH = 64


class RecipeError(VideolakeError):
    pass


@dataclass(frozen=True)
class Entry:
    task: str
    subtype: str
    tier: str
    count: int
    params: dict
    annotations: tuple[str, ...] = ()  # annotated subtypes: the files their rows come from (relative to --sources)

    @property
    def document(self) -> dict:
        """As the manifest records it (``annotations`` only where the entry has them)."""
        document = {
            "task": self.task,
            "subtype": self.subtype,
            "tier": self.tier,
            "count": self.count,
            "params": self.params,
        }
        return {**document, "annotations": list(self.annotations)} if self.annotations else document


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    seed: int
    frames: int
    max_size: tuple[int, int]
    shard_size: int
    holdout_fraction: float
    disjoint_tasks: bool
    splits: dict[str, list[Entry]]
    document: dict  # the resolved recipe, as recorded in the manifest
    x264: dict = field(default_factory=dict)  # libx264 preset/crf instead of the defaults (bench/encoders.py)

    @property
    def needs_sources(self) -> bool:
        """False when every entry renders its videos (synthetic tasks only)."""
        return any(TASKS[e.task].needs_source(e.subtype) for entries in self.splits.values() for e in entries)

    def annotated_entries(self) -> list[tuple[str, int, Entry]]:
        return [(split, i, e) for split, entries in self.splits.items() for i, e in enumerate(entries) if e.annotations]


def builtin_names() -> list[str]:
    folder = resources.files("videolake.manifests")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml") and p.name != "tiers.yaml")


def _read_yaml(text: str, where: str) -> dict:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise RecipeError(f"{where}: not valid YAML: {str(err).splitlines()[0]}") from err
    except RecursionError as err:
        raise RecipeError(f"{where}: not valid YAML: nested too deeply") from err
    if not isinstance(document, dict):
        raise RecipeError(f"{where}: expected a mapping at the top level")
    return document


def _check_size(document, where: str) -> None:
    """At most MAX_VALUES values (aliases counted as often as they are used) nested at most MAX_DEPTH
    deep, and string keys only; walked without recursion, and it stops at the first excess."""
    pending, seen = [(document, 0)], 0
    while pending:
        value, depth = pending.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise RecipeError(
                f"{where}: more than {MAX_VALUES} values (YAML aliases expand where they are used): not a recipe"
            )
        if depth > MAX_DEPTH:
            raise RecipeError(f"{where}: nested more than {MAX_DEPTH} deep: not a recipe")
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise RecipeError(f"{where}: keys must be strings, got {type(key).__name__} {_shown(key)}")
                pending.append((item, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)


def _shown(value) -> str:
    """A value in a message: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def builtin_tiers() -> dict:
    return _read_yaml(resources.files("videolake.manifests").joinpath("tiers.yaml").read_text(), "tiers.yaml")


def load_recipe(name_or_path: str) -> Recipe:
    path = Path(name_or_path)
    try:
        data = path.read_bytes() if path.is_file() else None
    except OSError as err:
        raise RecipeError(f"{_shown(name_or_path)}: cannot read the recipe ({err.strerror or err})") from err
    if data is not None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise RecipeError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from err
        return parse_recipe(_read_yaml(text, str(path)), str(path))
    if name_or_path in builtin_names():
        text = resources.files("videolake.manifests").joinpath(f"{name_or_path}.yaml").read_text()
        return parse_recipe(_read_yaml(text, f"{name_or_path}.yaml"), f"{name_or_path}.yaml")
    raise RecipeError(f"no recipe {_shown(name_or_path)}: give a YAML file or one of {', '.join(builtin_names())}")


def _check_keys(mapping, allowed: set[str], where: str) -> None:
    if not isinstance(mapping, dict):
        raise RecipeError(f"{where}: expected a mapping, got {type(mapping).__name__}")
    unknown = sorted(set(mapping) - allowed, key=str)
    if unknown:
        raise RecipeError(f"{where}: unknown key {_shown(unknown[0])} (expected one of {', '.join(sorted(allowed))})")


def _int(value, where: str, minimum: int, maximum: int | None = None, limit: int | None = None) -> int:
    """An integer in [minimum, maximum]; ``limit``: an upper bound that is a sanity cap, not part of
    the setting's meaning, so it is named only when exceeded."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        bounds = f"in [{minimum}, {maximum}]" if maximum is not None else f">= {minimum}"
        raise RecipeError(f"{where}: expected an integer {bounds}, got {_shown(value)}")
    if limit is not None and value > limit:
        raise RecipeError(f"{where}: at most {limit}, got {_shown(value)}")
    return value


def _license(value, where: str) -> str | None:
    """The sources' licence as the user states it (SPDX id or "other"); publishing needs one."""
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise RecipeError(f"{where}: license must be a licence name such as apache-2.0 or other, got {_shown(value)}")
    return value


def parse_recipe(document: dict, where: str) -> Recipe:
    _check_size(document, where)
    _check_keys(document, RECIPE_KEYS, where)
    for key in ("name", "splits"):
        if key not in document:
            raise RecipeError(f"{where}: missing required key {key!r}")
    name = document["name"]
    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise RecipeError(f"{where}: name must be a plain folder name, got {_shown(name)}")
    tiers = builtin_tiers()
    overrides = document.get("tiers", {}) or {}
    _check_keys(overrides, set(TASKS), f"{where}: tiers")
    for task, named in overrides.items():
        if not isinstance(named, dict) or not all(isinstance(v, dict) for v in named.values()):
            raise RecipeError(f"{where}: tiers.{task} must map tier names to parameter mappings")
        tiers[task] = {**tiers.get(task, {}), **named}

    max_size = document.get("max_size", [448, 448])
    if not (
        isinstance(max_size, list)
        and len(max_size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and 16 <= v <= MAX_SIDE for v in max_size)
    ):
        raise RecipeError(
            f"{where}: max_size must be [width, height], each in [16, {MAX_SIDE}], got {_shown(max_size)}"
        )
    holdout = document.get("holdout_fraction", 0.1)
    if not isinstance(holdout, (int, float)) or isinstance(holdout, bool) or not 0 <= holdout < 1:
        raise RecipeError(f"{where}: holdout_fraction must be in [0, 1), got {_shown(holdout)}")
    disjoint = document.get("disjoint_tasks", False)
    if not isinstance(disjoint, bool):
        raise RecipeError(f"{where}: disjoint_tasks must be true or false, got {_shown(disjoint)}")
    description = document.get("description", "")
    if description is not None and not isinstance(description, str):
        raise RecipeError(f"{where}: description must be text, got {type(description).__name__}")

    splits_doc = document["splits"]
    if not isinstance(splits_doc, dict) or not splits_doc:
        raise RecipeError(f"{where}: splits must map split names to lists of entries")
    splits: dict[str, list[Entry]] = {}
    for split, entries in splits_doc.items():
        if not isinstance(split, str) or not split.isidentifier():
            raise RecipeError(f"{where}: split name {_shown(split)} must be a simple identifier")
        if not isinstance(entries, list) or not entries:
            raise RecipeError(f"{where}: splits.{split} must be a non-empty list")
        splits[split] = [_parse_entry(e, tiers, f"{where}: splits.{split}[{i}]") for i, e in enumerate(entries)]

    resolved = {
        "name": name,
        "description": description or "",
        "license": _license(document.get("license"), where),
        "seed": _int(document.get("seed", 0), f"{where}: seed", 0, limit=MAX_SEED),
        "frames": _even_frames(document.get("frames", 48), where),
        "max_size": list(max_size),
        "shard_size": _int(document.get("shard_size", 256), f"{where}: shard_size", 1, MAX_SHARD_SIZE),
        "holdout_fraction": float(holdout),
        "disjoint_tasks": disjoint,
    }
    x264 = _x264(document.get("x264"), where)
    if x264:  # recorded only when set, so recipes without it keep their fingerprints
        resolved["x264"] = x264
    sources = document.get("sources")  # where the clips come from and their licences: the card states it
    if sources is not None and (not isinstance(sources, str) or not sources.strip()):
        raise RecipeError(f"{where}: sources must be text naming the clips' origin and licence, got {_shown(sources)}")
    if sources:  # recorded only when set, like x264
        resolved["sources"] = " ".join(sources.split())
    resolved["splits"] = {s: [e.document for e in entries] for s, entries in splits.items()}
    scale = _scale(document.get("scale"), splits, where)
    if scale:
        resolved["scale"] = scale
    return Recipe(
        name=name,
        description=resolved["description"],
        seed=resolved["seed"],
        frames=resolved["frames"],
        max_size=tuple(max_size),
        shard_size=resolved["shard_size"],
        holdout_fraction=float(holdout),
        disjoint_tasks=disjoint,
        splits=splits,
        document=resolved,
        x264=x264,
    )


def _even_frames(value, where: str) -> int:
    """Qwen-family models take video frames in pairs (a temporal patch is 2 frames): an odd count
    would have its last frame repeated or dropped by the trainer, so a recipe asks for an even one."""
    frames = _int(value, f"{where}: frames", 2, MAX_FRAMES)
    if frames % 2:
        raise RecipeError(f"{where}: frames must be even (video models take frames in pairs), got {frames}")
    return frames


def scaled_counts(counts: list[int], limit: int) -> list[int]:
    """``counts`` scaled to ``limit`` in all, each at least one and none above its own: the largest
    remainder method (Hamilton's) in integer arithmetic, ties to the earlier count, so the same
    counts and limit always give the same numbers. At most ``limit`` counts; counts already within
    the limit stay as they are."""
    total = sum(counts)
    if total <= limit:
        return list(counts)
    shares = [max(1, count * limit // total) for count in counts]
    gap = lambda i: counts[i] * limit - shares[i] * total  # how far a share is below its exact quota, x total
    while sum(shares) != limit:
        if sum(shares) < limit:  # the share furthest below its quota takes one more
            shares[max(range(len(counts)), key=lambda i: (gap(i), -i))] += 1
        else:  # the minimum of one put the total over: the share furthest above its quota gives one back
            shares[min((i for i in range(len(counts)) if shares[i] > 1), key=lambda i: (gap(i), -i))] -= 1
    return shares


def scale_recipe(recipe: Recipe, max_samples: int) -> Recipe:
    """The recipe with at most ``max_samples`` samples in all (``build --max-samples``): every entry
    kept with at least one sample, the counts in their proportions across all splits (so each split
    keeps its share), everything else as it is. The resolved recipe records the full counts and the
    limit (``scale``), so the manifest tells a scaled build from a full one. A recipe already within
    the limit is returned unchanged."""
    entries = [entry for split_entries in recipe.splits.values() for entry in split_entries]
    if sum(entry.count for entry in entries) <= max_samples:
        return recipe
    if len(entries) > max_samples:
        raise RecipeError(
            f"{recipe.name} has {len(entries)} entries: --max-samples must be at least {len(entries)} "
            "(every entry keeps one sample at least)"
        )
    full = recipe.document.get("scale", {}).get("counts") or {
        split: [entry.count for entry in split_entries] for split, split_entries in recipe.splits.items()
    }
    counts = iter(scaled_counts([count for split in recipe.splits for count in full[split]], max_samples))
    splits = {
        split: [dataclasses.replace(entry, count=next(counts)) for entry in split_entries]
        for split, split_entries in recipe.splits.items()
    }
    document = {
        **recipe.document,
        "splits": {split: [entry.document for entry in split_entries] for split, split_entries in splits.items()},
        "scale": {"max_samples": max_samples, "counts": full},
    }
    return dataclasses.replace(recipe, splits=splits, document=document)


def _scale(value, splits: dict[str, list[Entry]], where: str) -> dict | None:
    """``scale: {max_samples, counts}`` (recorded by ``scale_recipe``): the full recipe's count of
    every entry, split by split, which the entries' counts must be scaled from exactly."""
    if value is None:
        return None
    _check_keys(value, {"max_samples", "counts"}, f"{where}: scale")
    limit = _int(value.get("max_samples"), f"{where}: scale.max_samples", 1, limit=MAX_COUNT)
    counts = value.get("counts")
    if not isinstance(counts, dict) or {
        split: len(listed) if isinstance(listed, list) else None for split, listed in counts.items()
    } != {split: len(entries) for split, entries in splits.items()}:
        raise RecipeError(f"{where}: scale.counts must list the full count of every entry, split by split")
    full = {
        split: [_int(c, f"{where}: scale.counts.{split}[{i}]", 1, limit=MAX_COUNT) for i, c in enumerate(counts[split])]
        for split in splits
    }
    flat = [count for listed in full.values() for count in listed]
    if not len(flat) <= limit < sum(flat) or scaled_counts(flat, limit) != [
        e.count for entries in splits.values() for e in entries
    ]:
        raise RecipeError(f"{where}: the entries' counts are not scale.counts scaled to {limit} samples")
    return {"max_samples": limit, "counts": full}


def _x264(value, where: str) -> dict:
    """``x264: {preset: superfast, crf: 26}``: trade build time for bytes (see the preset table)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecipeError(f"{where}: x264 must be a mapping with preset and/or crf")
    _check_keys(value, {"preset", "crf"}, f"{where}: x264")
    options = {}
    if "preset" in value:
        if value["preset"] not in X264_PRESETS:
            raise RecipeError(
                f"{where}: x264.preset must be one of {', '.join(X264_PRESETS)}, got {_shown(value['preset'])}"
            )
        options["preset"] = value["preset"]
    if "crf" in value:
        options["crf"] = _int(value["crf"], f"{where}: x264.crf", 0, 51)
    return options


def _parse_entry(entry, tiers: dict, where: str) -> Entry:
    _check_keys(entry, ENTRY_KEYS, where)
    task_name = entry.get("task")
    if not isinstance(task_name, str) or task_name not in TASKS:
        raise RecipeError(f"{where}: unknown task {_shown(task_name)} (expected one of {', '.join(TASKS)})")
    task = TASKS[task_name]
    tier = entry.get("tier", DEFAULT_TIER)
    task_tiers = tiers.get(task_name, {})
    if not isinstance(tier, str) or tier not in task_tiers:
        raise RecipeError(
            f"{where}: unknown tier {_shown(tier)} for {task_name} (known: {', '.join(task_tiers) or 'none'})"
        )
    subtype = entry.get("subtype", tier)
    if not isinstance(subtype, str) or (task.subtypes is not None and subtype not in task.subtypes):
        raise RecipeError(
            f"{where}: unknown subtype {_shown(subtype)} for {task_name} (expected one of {', '.join(task.subtypes or ['a name'])})"
        )
    explicit = entry.get("params")
    explicit = {} if explicit is None else explicit
    if not isinstance(explicit, dict):
        raise RecipeError(f"{where}: params must be a mapping, got {type(explicit).__name__}")
    reads = task.reads(subtype)
    try:
        task.settings_for({**(task_tiers[tier] or {}), **explicit})  # every value typed and in range
    except ValueError as err:
        raise RecipeError(f"{where}: {err}") from err
    unread = sorted(set(explicit) - set(reads))
    if unread:
        raise RecipeError(f"{where}: {task_name}/{subtype} does not read {unread[0]!r} (it reads: {', '.join(reads)})")
    # A tier is shared by every subtype of its task: keep only what this subtype reads.
    params = {k: v for k, v in {**(task_tiers[tier] or {}), **explicit}.items() if k in reads}
    try:
        task.required_density(subtype, params)
    except ValueError as err:
        raise RecipeError(f"{where}: {err}") from err
    return Entry(
        task_name,
        subtype,
        tier,
        _int(entry.get("count"), f"{where}: count", 1, limit=MAX_COUNT),
        params,
        _annotations(entry.get("annotations"), task.annotation_format(subtype), f"{where}: {task_name}/{subtype}"),
    )


def _annotations(value, fmt: str | None, where: str) -> tuple[str, ...]:
    """An annotated subtype names its files (a path or a list of paths); no other subtype may."""
    if fmt is None:
        if value is not None:
            raise RecipeError(f"{where} reads no annotations (annotated subtypes read them)")
        return ()
    files = [value] if isinstance(value, str) else value
    if not isinstance(files, list) or not files or not all(isinstance(f, str) and f and "\0" not in f for f in files):
        raise RecipeError(
            f"{where} reads {fmt} annotations: set annotations to a file path or a list of them (relative to --sources)"
        )
    return tuple(files)
