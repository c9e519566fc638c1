"""``videolake curate DIR --rollouts ROLLOUTS.jsonl --out OUT``: keep what still teaches.

GRPO learns nothing from a group whose k rollouts all score the same (all right or all wrong).
Rollouts come from any engine (``videolake rollouts``, vLLM, ...): one JSON line per completion,
``{"id": <sample id>, "completion": "<model output>"}``, k per sample. Each is scored with
``videolake.rewards`` (the training reward, to find zero-variance groups; the strict reward
normalised to [0, 1] against ``pass_threshold``, for pass rates). Written to ``OUT/<name>``:

    dataset (shards, manifest, ...)   the samples without a zero-variance group (and those not rolled out)
    curation/pass_rates.jsonl         per sample: k, pass rate, mean score, zero variance
    curation/pass_rates.png           pass-rate histogram per task/subtype/tier
    curation/too_easy.json            ids every rollout passed: `videolake harden` regenerates those
"""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

from videolake import VideolakeError
from videolake.commands.figures import pyplot, save_figure
from videolake.pipeline.dataset import (
    count_compositions,
    finish_dataset,
    open_dataset,
    record_composition,
    refuse_output_inside,
    write_splits,
)
from videolake.pipeline.graph import build_lock
from videolake.pipeline.jsonio import id_lines
from videolake.pipeline.shards import atomic_write_bytes, atomic_write_json
from videolake.rewards import REWARDS, compute_score

CURATION_DIR = "curation"


def read_rollouts(path: Path) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for _, record_id, completion in id_lines(path, "completion"):
        groups[record_id].append(completion)
    return dict(groups)


def group_statistics(record: dict, completions: list[str], pass_threshold: float) -> dict:
    task, answer = record["task"], record["answer"]
    training = [compute_score(task, c, answer)["score"] for c in completions]
    strict = [
        compute_score(task, c, answer, {"reward_mode": "strict"})["score"] / REWARDS[task].maximum for c in completions
    ]
    return {
        "id": record["id"],
        "task": task,
        "subtype": record["subtype"],
        "tier": record["tier"],
        "k": len(completions),
        "pass_rate": sum(s >= pass_threshold for s in strict) / len(strict),
        "mean_score": sum(training) / len(training),
        "zero_variance": max(training) - min(training) < 1e-12,
    }


def histogram(rows: list[dict], path: Path, columns: int = 4) -> Path:
    """Small multiples: all samples first, then one panel per task/subtype/tier. One bar per
    possible pass rate (j of k passed); the two ends, the zero-variance groups curate drops, in red."""
    plt = pyplot()
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[record_composition(row)].append(row)
    panels = [("all samples", rows), *sorted(groups.items())]
    k = max(row["k"] for row in rows)
    lines = math.ceil(len(panels) / columns)
    figure, axes = plt.subplots(lines, columns, figsize=(3.2 * columns, 2.1 * lines), squeeze=False, sharex=True)
    for axis, (name, members) in zip(axes.flat, panels):
        counts = Counter(round(row["pass_rate"] * k) for row in members)
        passed = range(k + 1)
        axis.bar(
            [j / k for j in passed],
            [counts[j] for j in passed],
            width=0.8 / k,
            color=["#C44E52" if j in (0, k) else "#4C72B0" for j in passed],
        )
        axis.set_title(f"{name} (n={len(members)})", fontsize=7)
        axis.tick_params(labelsize=6)
        axis.yaxis.get_major_locator().set_params(integer=True)
    for axis in axes.flat[len(panels) :]:
        axis.axis("off")
    for axis in axes[-1]:
        axis.set_xlabel(f"pass rate over k={k} rollouts", fontsize=7)
    figure.suptitle(
        "pass rate per sample (red: every rollout failed or every one passed; curate drops these)", fontsize=8
    )
    figure.tight_layout()
    return save_figure(figure, path, dpi=110)


def curate(
    dataset_dir: Path, rollouts: Path, out: Path, *, k: int = 8, pass_threshold: float = 0.5
) -> tuple[Path, dict]:
    """The curated dataset is written beside its final place and renamed there when complete, so
    OUT never holds half of one; it never lands in or around its inputs, nor over another folder."""
    dataset = open_dataset(dataset_dir)
    dataset_dir = dataset.dir
    target = Path(out) / f"{dataset.name}-curated"
    refuse_output_inside(target, dataset_dir, Path(rollouts))
    refuse_existing(target)
    groups = read_rollouts(rollouts)
    short = sorted((len(v), i) for i, v in groups.items() if len(v) != k)
    if short:
        raise VideolakeError(
            f"{rollouts}: {len(short)} sample(s) do not have k={k} completions (e.g. {short[0][1]!r} has {short[0][0]})"
        )
    kept: dict[str, list[dict]] = {}
    statistics, known = [], set()
    for split, record in dataset.records():
        known.add(record["id"])
        row = group_statistics(record, groups[record["id"]], pass_threshold) if record["id"] in groups else None
        if row is not None:
            statistics.append(row)
        if row is None or not row["zero_variance"]:
            kept.setdefault(split, []).append(record)
    unknown = sorted(set(groups) - known)
    if unknown:
        raise VideolakeError(f"{rollouts}: {len(unknown)} id(s) are not in {dataset_dir.name} (e.g. {unknown[0]!r})")
    if not kept:
        raise VideolakeError(
            f"{rollouts}: every one of the {len(statistics)} rolled-out samples had all {k} completions pass or all fail: a curated dataset would be empty"
        )
    too_easy = [row["id"] for row in statistics if row["pass_rate"] == 1.0]
    with build_lock(Path(out), target.name):  # one curate per target at a time; the lock dies with its process
        refuse_existing(target)
        staging = Path(out) / f".{target.name}.tmp"  # a killed curate's leftovers: ours to replace under the lock
        shutil.rmtree(staging, ignore_errors=True)
        try:
            curated = replace(
                dataset.manifest,
                dataset=target.name,
                counts={split: count_compositions(rows) for split, rows in kept.items()},
                shards=write_splits(staging, kept, dataset.manifest.recipe["shard_size"]),
                derived_from=dataset.lineage(
                    curation={"k": k, "pass_threshold": pass_threshold, "rollouts": Path(rollouts).name}
                ),
            )
            finish_dataset(staging, curated, home=target)
            atomic_write_bytes(
                staging / CURATION_DIR / "pass_rates.jsonl",
                "".join(json.dumps(row) + "\n" for row in statistics).encode(),
            )
            atomic_write_json(staging / CURATION_DIR / "too_easy.json", too_easy)
            if statistics:
                histogram(statistics, staging / CURATION_DIR / "pass_rates.png")
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    summary = {
        "rolled_out": len(statistics),
        "zero_variance": sum(row["zero_variance"] for row in statistics),
        "all_passed": len(too_easy),
        "all_failed": sum(row["pass_rate"] == 0.0 for row in statistics),
        "kept": sum(len(rows) for rows in kept.values()),
    }
    return target, summary


def refuse_existing(target: Path) -> None:
    """Curate never writes over another folder, a finished curation included (an empty folder is free)."""
    if target.is_symlink() or (target.exists() and not (target.is_dir() and not any(target.iterdir()))):
        raise VideolakeError(f"{target} exists: remove it or choose another --out")
