"""`videolake score`: VIUBench-style metrics for model predictions on a built dataset (Table 1).

Per subtype: counting = mean over shapes of exact match; grounding = mIoU (and R@0.3/0.5/0.7);
jigsaw = exact match. Task averages are means of their subtypes and the overall score is the
mean over all subtypes (this reproduces Table 1's averages). ``random_predictions`` is the
random-guess row, computed from the dataset itself.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from videolake import VideolakeError
from videolake.commands.figures import pyplot, save_figure
from videolake.generators import TASKS
from videolake.pipeline.dataset import open_dataset, reading_record, record_meta
from videolake.pipeline.jsonio import id_lines
from videolake.rewards import benchmark_metric, compute_score

COLUMNS = ["id", "task", "subtype", "tier", "answer", "fps", "meta"]
RECALL_THRESHOLDS = (0.3, 0.5, 0.7)


def load_items(dataset_dir: Path, split: str | None = None) -> list[dict]:
    """The scoring columns of every record (videos are never read)."""
    dataset = open_dataset(dataset_dir)
    items = []
    for shard in dataset.shards:
        if not split or shard.split == split:
            items.extend(dataset.table(shard, COLUMNS).to_pylist())
    if not items:
        raise VideolakeError(f"no records in {dataset_dir}" + (f" split {split}" if split else ""))
    return items


def load_predictions(path: Path) -> dict[str, str]:
    """JSONL lines ``{"id": ..., "prediction": "..."}``; a bad line is a one-line user error."""
    predictions, first_line, duplicates = {}, {}, []
    for number, record_id, prediction in id_lines(path, "prediction"):
        predictions[record_id] = prediction
        if record_id in first_line:
            duplicates.append((record_id, number))
        first_line.setdefault(record_id, number)
    if duplicates:
        record_id, number = duplicates[0]
        raise VideolakeError(
            f"{path}: {len(duplicates)} duplicate id(s), first {record_id!r} on lines {first_line[record_id]} and {number}: keep one prediction per id"
        )
    return predictions


def unknown_ids(items: list[dict], predictions: dict[str, str]) -> list[str]:
    """Prediction ids that name no record of the scored items, in file order."""
    known = {item["id"] for item in items}
    return [record_id for record_id in predictions if record_id not in known]


def random_predictions(items: list[dict], seed: int = 0) -> dict[str, str]:
    """The uninformed guesser of Table 1's first row.

    Counting: each count uniform over 1..max_frames*max_per_frame of the record's tier (so exact
    match is 1/9 easy, 1/16 hard). Jigsaw: a uniformly random order. Grounding: the whole video,
    [0, duration] - the guess that knows nothing about the segment (its IoU is the segment's share
    of the video, about 25% for 8-16 of 48 frames). SynRL: a uniformly random option letter, or a
    uniform digit 0-9 for open counting questions.
    """
    rng = np.random.default_rng(seed)
    guesses = {}
    for item in items:
        if item["task"] not in TASKS:
            raise VideolakeError(f"no random baseline for task {item['task']!r}")
        with reading_record(item):
            guesses[item["id"]] = TASKS[item["task"]].random_guess(record_meta(item), item["fps"], rng)
    return guesses


def score(items: list[dict], predictions: dict[str, str]) -> dict:
    per_subtype: dict[tuple[str, str], list[float]] = defaultdict(list)
    for item in items:
        prediction = predictions.get(item["id"], "")
        with reading_record(item):
            result = compute_score(
                item["task"], prediction, item["answer"], {"reward_mode": "strict", "meta": item.get("meta")}
            )
            value = benchmark_metric(item["task"], result)
        per_subtype[(item["task"], item["subtype"])].append(value)
    subtypes = []
    order = list(TASKS)
    for (task, subtype), values in sorted(
        per_subtype.items(), key=lambda kv: (order.index(kv[0][0]) if kv[0][0] in order else len(order), kv[0][1])
    ):
        row = {"task": task, "subtype": subtype, "n": len(values), "score": 100 * float(np.mean(values))}
        if task in TASKS and TASKS[task].interval_answers:
            row.update({f"R@{t}": 100 * float(np.mean([v >= t for v in values])) for t in RECALL_THRESHOLDS})
        subtypes.append(row)
    tasks = {}
    for task in dict.fromkeys(r["task"] for r in subtypes):
        tasks[task] = float(np.mean([r["score"] for r in subtypes if r["task"] == task]))
    return {
        "subtypes": subtypes,
        "tasks": tasks,
        "overall": float(np.mean([r["score"] for r in subtypes])),
        "items": len(items),
        "missing_predictions": sum(item["id"] not in predictions for item in items),
        "unknown_predictions": len(unknown_ids(items, predictions)),
    }


def format_table(result: dict, title: str) -> str:
    lines = [title, f"{'task':<25}{'subtype':<15}{'n':>6}{'score':>8}{'R@0.3':>8}{'R@0.5':>8}{'R@0.7':>8}"]
    for row in result["subtypes"]:
        recalls = "".join(f"{row[f'R@{t}']:>8.1f}" if f"R@{t}" in row else f"{'':>8}" for t in RECALL_THRESHOLDS)
        lines.append(f"{row['task']:<25}{row['subtype']:<15}{row['n']:>6}{row['score']:>8.1f}{recalls}")
    for task, value in result["tasks"].items():
        lines.append(f"{'average':<25}{task:<15}{'':>6}{value:>8.1f}")
    lines.append(f"{'overall':<40}{'':>6}{result['overall']:>8.1f}")
    if result["missing_predictions"]:
        lines.append(f"({result['missing_predictions']} of {result['items']} items had no prediction and scored 0)")
    return "\n".join(lines)


def bar_chart(result: dict, path: Path, title: str) -> Path:
    plt = pyplot()

    labels = (
        [f"{r['task'].split('_')[-1]}\n{r['subtype']}" for r in result["subtypes"]]
        + [f"avg\n{t.split('_')[-1]}" for t in result["tasks"]]
        + ["overall"]
    )
    values = [r["score"] for r in result["subtypes"]] + list(result["tasks"].values()) + [result["overall"]]
    colours = ["#4C72B0"] * len(result["subtypes"]) + ["#DD8452"] * len(result["tasks"]) + ["#55A868"]
    figure, axis = plt.subplots(figsize=(max(6, 0.8 * len(values)), 4))
    bars = axis.bar(range(len(values)), values, color=colours)
    axis.bar_label(bars, fmt="%.1f", fontsize=7)
    axis.set_xticks(range(len(values)), labels, fontsize=7)
    axis.set_ylim(0, 105)
    axis.set_ylabel("score (%)")
    axis.set_title(title, fontsize=10)
    figure.tight_layout()
    return save_figure(figure, path, dpi=100)
