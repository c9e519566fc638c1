"""Verifiable rewards for every videolake task, importable without torch.

- ``compute_score(data_source, solution_str, ground_truth, extra_info=None)``: verl's custom reward
  signature; ``data_source`` is the record's ``task``. Returns ``{"score": float, ...components}``.
- ``accuracy_reward`` / ``format_reward``: TRL-style ``fn(prompts, completions, **columns)``.

``extra_info`` may set ``reward_mode`` ("smooth", the training default, or "strict", the VIUBench
metric) and ``museg_stage`` (1 adds the timestamp term to the format reward, 2 drops it).
Model output that cannot be parsed scores 0; these functions never raise on model output.
"""

from __future__ import annotations

import json

from videolake.rewards import formats, parse, scores

VIDEOSSR_TASKS = ("anomaly_grounding", "object_counting", "temporal_jigsaw")


def parse_truth_order(ground_truth: str) -> list[int]:
    text = ground_truth.strip()
    return [int(v) for v in text.split(",")] if "," in text else [int(d) for d in text]


def _videossr(task: str, solution: str, truth: str, strict: bool) -> dict:
    if task == "anomaly_grounding":
        predicted, gt = parse.parse_interval(solution), parse.parse_interval(truth)
        value = scores.interval_iou(predicted, gt) if predicted else 0.0
    elif task == "object_counting":
        gt = [int(v) for v in truth.split(",")]
        predicted = parse.parse_counts(solution, len(gt))
        rule = scores.counting_strict if strict else scores.counting_smooth
        value = rule(predicted, gt) if predicted else 0.0
    else:
        gt = parse_truth_order(truth)
        predicted = parse.parse_order(solution, len(gt))
        rule = scores.jigsaw_strict if strict else scores.jigsaw_smooth
        value = rule(predicted, gt) if predicted else 0.0
    return {"score": value, "accuracy": value, "parsed": float(predicted is not None)}


def _videochat(task: str, solution: str, truth: str) -> dict:
    answer = parse.answer_region(solution)
    if task == "temporal_grounding":
        fmt = formats.think_answer_format(solution)
        predicted, gt = parse.parse_interval(answer), parse.parse_interval(truth)
        accuracy = scores.interval_iou(predicted, gt) if predicted else 0.0
    elif task == "multiple_choice":
        fmt = formats.think_answer_format(solution)
        accuracy = float(parse.parse_choice(answer) == truth.strip())
    elif task == "tracking":
        fmt = formats.think_answer_format(solution)
        predicted = parse.parse_boxes(answer)
        accuracy = scores.tracking_iou(predicted, [tuple(b) for b in json.loads(truth)]) if predicted else 0.0
    else:  # grounding_qa: {"answer": "B", "segments": [[s, e], ...]}
        gt = json.loads(truth)
        fmt = formats.think_answer_format(solution, glue=True)
        glue = parse.last_block(solution, "glue")
        predicted = parse.parse_segments(glue, parse.INTERVAL) if glue else None
        iou = scores.multi_interval_iou(predicted, [tuple(s) for s in gt["segments"]]) if predicted else 0.0
        accuracy = float(parse.parse_choice(answer) == gt["answer"])
        return {"score": fmt + iou + accuracy, "format": fmt, "iou": iou, "accuracy": accuracy}
    return {"score": fmt + accuracy, "format": fmt, "accuracy": accuracy}


def _museg(solution: str, truth: str, stage: int) -> dict:
    fmt = formats.museg_format(solution, timestamp_term=stage == 1)
    predicted = parse.parse_segments(solution)
    gt = parse.parse_segments(truth) or []
    global_score = scores.global_matching(predicted, gt) if predicted else 0.0
    local_score = scores.local_matching(predicted, gt) if predicted else 0.0
    return {"score": fmt + global_score + local_score, "format": fmt, "global": global_score, "local": local_score}


def _synthetic(solution: str, truth: str) -> dict:
    """SynRL: exact option letter, or exact number for open counting questions; score = accuracy."""
    if truth.isalpha():
        accuracy = float(parse.parse_choice(solution) == truth)
    else:
        accuracy = float(parse.parse_number(solution) == float(truth))
    return {"score": accuracy, "accuracy": accuracy, "format": formats.think_answer_format(solution)}


VIDEOCHAT_TASKS = ("temporal_grounding", "multiple_choice", "tracking", "grounding_qa")
MUSEG_TASKS = ("multi_segment_grounding",)
SYNTHETIC_TASKS = ("synrl",)
ALL_TASKS = VIDEOSSR_TASKS + VIDEOCHAT_TASKS + MUSEG_TASKS + SYNTHETIC_TASKS


def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None) -> dict:
    extra_info = extra_info or {}
    solution = solution_str if isinstance(solution_str, str) else ""
    if data_source in VIDEOSSR_TASKS:
        return _videossr(data_source, solution, ground_truth, extra_info.get("reward_mode", "smooth") == "strict")
    if data_source in VIDEOCHAT_TASKS:
        return _videochat(data_source, solution, ground_truth)
    if data_source in MUSEG_TASKS:
        return _museg(solution, ground_truth, int(extra_info.get("museg_stage", 2)))
    if data_source in SYNTHETIC_TASKS:
        return _synthetic(solution, ground_truth)
    raise ValueError(f"no reward for data_source {data_source!r} (known: {', '.join(ALL_TASKS)})")


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


def accuracy_reward(prompts, completions, task, answer, reward_mode="smooth", **columns) -> list[float]:
    """TRL reward: the task's score for each completion, reading the ``task`` and ``answer`` columns."""
    modes = reward_mode if isinstance(reward_mode, list) else [reward_mode] * len(completions)
    return [
        compute_score(t, completion_text(c), a, {"reward_mode": m})["score"] for c, t, a, m in zip(completions, task, answer, modes)
    ]


def format_reward(prompts, completions, **columns) -> list[float]:
    """TRL reward: 1.0 for ``<think>..</think><answer>..</answer>``, else 0.0."""
    return [formats.think_answer_format(completion_text(c)) for c in completions]


__all__ = ["ALL_TASKS", "accuracy_reward", "compute_score", "format_reward"]
