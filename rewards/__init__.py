"""Verifiable rewards for every videolake task, importable without torch.

- ``compute_score(data_source, solution_str, ground_truth, extra_info=None)``: verl's custom reward
  signature; ``data_source`` is the record's ``task``. Returns ``{"score": float, ...components}``.
- ``accuracy_reward`` / ``format_reward``: TRL-style ``fn(prompts, completions, **columns)``.

``extra_info`` may set ``reward_mode`` ("smooth", the training default, or "strict", the VIUBench
metric) and ``museg_stage`` (1 adds the timestamp term to the format reward, 2 drops it; without
it, the stage stored in ``extra_info["meta"]`` by the generator).
Model output that cannot be parsed scores 0; these functions never raise on model output.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from videolake.rewards import formats, parse, scores


def parse_truth_order(ground_truth: str) -> list[int]:
    text = ground_truth.strip()
    return [int(v) for v in text.split(",")] if "," in text else [int(d) for d in text]


def _strict(extra_info: dict) -> bool:
    return extra_info.get("reward_mode", "smooth") == "strict"


def truth_interval(truth: str) -> tuple[float, float]:
    interval = parse.parse_interval(truth)
    if interval is None:
        raise ValueError(f"ground truth {truth!r} is not an interval")
    return interval


def anomaly_grounding(solution: str, truth: str, extra_info: dict) -> dict:
    predicted = parse.parse_interval(solution)
    value = scores.interval_iou(predicted, truth_interval(truth)) if predicted else 0.0
    return {"score": value, "accuracy": value, "parsed": float(predicted is not None)}


def object_counting(solution: str, truth: str, extra_info: dict) -> dict:
    gt = [int(v) for v in truth.split(",")]
    predicted = parse.parse_counts(solution, len(gt))
    rule = scores.counting_strict if _strict(extra_info) else scores.counting_smooth
    value = rule(predicted, gt) if predicted else 0.0
    return {"score": value, "accuracy": value, "parsed": float(predicted is not None)}


def temporal_jigsaw(solution: str, truth: str, extra_info: dict) -> dict:
    gt = parse_truth_order(truth)
    predicted = parse.parse_order(solution, len(gt))
    rule = scores.jigsaw_strict if _strict(extra_info) else scores.jigsaw_smooth
    value = rule(predicted, gt) if predicted else 0.0
    return {"score": value, "accuracy": value, "parsed": float(predicted is not None)}


def temporal_grounding(solution: str, truth: str, extra_info: dict) -> dict:
    fmt = formats.think_answer_format(solution)
    predicted = parse.parse_interval(solution)
    accuracy = scores.interval_iou(predicted, truth_interval(truth)) if predicted else 0.0
    return {"score": fmt + accuracy, "format": fmt, "accuracy": accuracy}


def multiple_choice(solution: str, truth: str, extra_info: dict) -> dict:
    fmt = formats.think_answer_format(solution)
    accuracy = float(parse.parse_choice(solution) == truth.strip())
    return {"score": fmt + accuracy, "format": fmt, "accuracy": accuracy}


def object_tracking(solution: str, truth: str, extra_info: dict) -> dict:
    """Ground truth JSON ``[[x1, y1, x2, y2], ...]``, one box per asked frame."""
    gt = [tuple(b) for b in json.loads(truth)]
    fmt = formats.tracking_format(solution, len(gt))
    predicted = parse.parse_boxes(solution)
    accuracy = scores.tracking_iou(predicted, gt) if predicted else 0.0
    return {"score": fmt + accuracy, "format": fmt, "accuracy": accuracy}


def grounding_qa(solution: str, truth: str, extra_info: dict) -> dict:
    """Ground truth JSON ``{"answer": "B", "segments": [[s, e], ...]}``."""
    gt = json.loads(truth)
    fmt = formats.glue_format(solution)
    glue = parse.last_block(solution, "glue")
    predicted = parse.parse_glue(glue) if glue is not None else None
    iou = scores.multi_interval_iou(predicted, [tuple(s) for s in gt["segments"]]) if predicted else 0.0
    accuracy = float(parse.parse_choice(solution) == gt["answer"])
    return {"score": fmt + iou + accuracy, "format": fmt, "iou": iou, "accuracy": accuracy}


def museg_stage(extra_info: dict) -> int:
    """``museg_stage`` from extra_info, else from the record's meta (where the generator stores it), else 2."""
    if "museg_stage" in extra_info:
        return int(extra_info["museg_stage"])
    meta = extra_info.get("meta")
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            meta = None
    return int(meta.get("museg_stage", 2)) if isinstance(meta, dict) else 2


def multi_segment_grounding(solution: str, truth: str, extra_info: dict) -> dict:
    fmt = formats.museg_format(solution, timestamp_term=museg_stage(extra_info) == 1)
    predicted = parse.parse_segments(solution)
    gt = parse.parse_segments(truth) or []
    global_score = scores.global_matching(predicted, gt) if predicted else 0.0
    local_score = scores.local_matching(predicted, gt) if predicted else 0.0
    return {"score": fmt + global_score + local_score, "format": fmt, "global": global_score, "local": local_score}


def open_ended_qa(solution: str, truth: str, extra_info: dict) -> dict:
    """Exact match of the answer region after normalising case, punctuation, articles and spaces."""
    accuracy = float(parse.normalise_text(parse.answer_region(solution)) == parse.normalise_text(truth))
    return {"score": accuracy, "accuracy": accuracy}


def synrl(solution: str, truth: str, extra_info: dict) -> dict:
    """SynRL: exact option letter, or exact number for open counting questions; score = accuracy."""
    if truth.isalpha():
        accuracy = float(parse.parse_choice(solution) == truth)
    else:
        accuracy = float(parse.parse_number(solution) == float(truth))
    return {"score": accuracy, "accuracy": accuracy, "format": formats.think_answer_format(solution)}


# One entry per task: data_source -> reward(solution, ground_truth, extra_info) -> {"score": ..., ...}.
REWARDS: dict[str, Callable[[str, str, dict], dict]] = {
    fn.__name__: fn
    for fn in (
        anomaly_grounding,
        object_counting,
        temporal_jigsaw,
        temporal_grounding,
        multiple_choice,
        object_tracking,
        grounding_qa,
        multi_segment_grounding,
        synrl,
        open_ended_qa,
    )
}
ALL_TASKS = tuple(REWARDS)
# The largest score each task's reward gives (format + accuracy terms add up for VideoChat-R1 and MUSEG).
MAXIMUM_SCORE = {
    "temporal_grounding": 2.0,
    "multiple_choice": 2.0,
    "object_tracking": 2.0,
    "grounding_qa": 3.0,
    "multi_segment_grounding": 3.0,
}
MAXIMUM_SCORE = {task: MAXIMUM_SCORE.get(task, 1.0) for task in REWARDS}
REWARD_MODES = ("smooth", "strict")
# What `score` reports per task, in [0, 1]: the mean of these parts of the reward (never the format term).
METRIC_PARTS = {"grounding_qa": ("iou", "accuracy"), "multi_segment_grounding": ("global", "local")}


def benchmark_metric(task: str, result: dict) -> float:
    parts = METRIC_PARTS.get(task, ("accuracy",))
    return sum(result[part] for part in parts) / len(parts)


def ideal_completion(task: str, ground_truth: str, reasoning: str = "") -> str:
    """The true answer written as the task's prompt asks for it: bare for VideoSSR and SynRL tasks,
    in think/answer (and glue) blocks for VideoChat-R1's and MUSEG's. It scores MAXIMUM_SCORE."""
    if MAXIMUM_SCORE[task] == 1.0:
        return ground_truth
    if task == "grounding_qa":
        truth = json.loads(ground_truth)
        glue = ", ".join(f"({start}, {end})" for start, end in truth["segments"])
        return f"<think>{reasoning}</think><answer>{truth['answer']}</answer><glue>[{glue}]</glue>"
    return f"<think>{reasoning}</think><answer>{ground_truth}</answer>"


def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None) -> dict:
    if data_source not in REWARDS:
        raise ValueError(f"no reward for data_source {data_source!r} (known: {', '.join(ALL_TASKS)})")
    solution = solution_str if isinstance(solution_str, str) else ""
    return REWARDS[data_source](solution, ground_truth, extra_info or {})


def completion_text(completion) -> str:
    """TRL passes strings, or for conversational data a list of messages."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        content = completion[-1].get("content", "")
        if isinstance(content, list):
            return "".join(part.get("text", "") for part in content if isinstance(part, dict))
        return content if isinstance(content, str) else ""
    return ""


def accuracy_reward(prompts, completions, task, answer, reward_mode="smooth", meta=None, **columns) -> list[float]:
    """TRL reward: the task's score for each completion, reading the ``task`` and ``answer`` columns
    (and ``meta``, where a task keeps reward options such as MUSEG's stage)."""
    modes = reward_mode if isinstance(reward_mode, list) else [reward_mode] * len(completions)
    metas = meta if isinstance(meta, list) else [meta] * len(completions)
    return [
        compute_score(t, completion_text(c), a, {"reward_mode": m, "meta": d})["score"]
        for c, t, a, m, d in zip(completions, task, answer, modes, metas)
    ]


def format_reward(prompts, completions, **columns) -> list[float]:
    """TRL reward: 1.0 for ``<think>..</think><answer>..</answer>``, else 0.0."""
    return [formats.think_answer_format(completion_text(c)) for c in completions]


__all__ = [
    "ALL_TASKS",
    "MAXIMUM_SCORE",
    "accuracy_reward",
    "benchmark_metric",
    "compute_score",
    "format_reward",
    "ideal_completion",
]
