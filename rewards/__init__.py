"""Verifiable rewards for every videolake task, importable without numpy or torch (verl imports them).

Each task's reward is one function with its ``Reward`` record (``@reward``: its maximum, the parts
``score`` reports, how the prompt wants the answer written, an example ground truth) in ``REWARDS``.

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
from dataclasses import dataclass

from videolake.rewards import formats, parse, scores


@dataclass(frozen=True)
class Reward:
    """A task's reward and all the lake knows about it, declared once next to the function (``@reward``)."""

    score: Callable[[str, str, dict], dict]  # (solution, ground truth, extra_info) -> {"score": ..., parts}
    example_truth: str  # a ground truth in its stored form, to score hostile and arbitrary completions against
    described: str  # how an answer is scored, in one line (the dataset card)
    maximum: float = 1.0  # the largest score: format and accuracy terms add up for VideoChat-R1 and MUSEG
    metric_parts: tuple[str, ...] = ("accuracy",)  # `score` reports their mean, in [0, 1] (never the format term)
    # (ground truth, reasoning) -> the true answer written as the task's prompt asks for it
    completion: Callable[[str, str], str] = formats.bare_answer


# One record per task: data_source (the record's ``task``) -> its Reward.
REWARDS: dict[str, Reward] = {}
REWARD_MODES = ("smooth", "strict")


def reward(example_truth: str, **declared) -> Callable:
    """Register the decorated ``fn(solution, ground_truth, extra_info) -> dict`` as the reward of the
    task named like it, with the rest of its record (``Reward``'s fields)."""

    def register(fn: Callable[[str, str, dict], dict]) -> Callable[[str, str, dict], dict]:
        REWARDS[fn.__name__] = Reward(fn, example_truth, **declared)
        return fn

    return register


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


@reward("14.5-26.2", described="IoU of the interval")
def anomaly_grounding(solution: str, truth: str, extra_info: dict) -> dict:
    predicted = parse.parse_interval(solution)
    value = scores.interval_iou(predicted, truth_interval(truth)) if predicted else 0.0
    return {"score": value, "accuracy": value, "parsed": float(predicted is not None)}


@reward("3,1,4", described="mean over the shape kinds of 1 − relative count error (strict: exact match)")
def object_counting(solution: str, truth: str, extra_info: dict) -> dict:
    gt = [int(v) for v in truth.split(",")]
    predicted = parse.parse_counts(solution, len(gt))
    rule = scores.counting_strict if _strict(extra_info) else scores.counting_smooth
    value = rule(predicted, gt) if predicted else 0.0
    return {"score": value, "accuracy": value, "parsed": float(predicted is not None)}


@reward("341562", described="1 − normalised displacement of each clip (VideoSSR Eq. 7; strict: exact match)")
def temporal_jigsaw(solution: str, truth: str, extra_info: dict) -> dict:
    gt = parse_truth_order(truth)
    predicted = parse.parse_order(solution, len(gt))
    rule = scores.jigsaw_strict if _strict(extra_info) else scores.jigsaw_smooth
    value = rule(predicted, gt) if predicted else 0.0
    return {"score": value, "accuracy": value, "parsed": float(predicted is not None)}


@reward("4.0-8.0", maximum=2.0, completion=formats.think_answer, described="format + IoU")
def temporal_grounding(solution: str, truth: str, extra_info: dict) -> dict:
    fmt = formats.think_answer_format(solution)
    predicted = parse.parse_interval(solution)
    accuracy = scores.interval_iou(predicted, truth_interval(truth)) if predicted else 0.0
    return {"score": fmt + accuracy, "format": fmt, "accuracy": accuracy}


@reward("B", maximum=2.0, completion=formats.think_answer, described="format + accuracy")
def multiple_choice(solution: str, truth: str, extra_info: dict) -> dict:
    fmt = formats.think_answer_format(solution)
    accuracy = float(parse.parse_choice(solution) == truth.strip())
    return {"score": fmt + accuracy, "format": fmt, "accuracy": accuracy}


@reward(
    "[[0, 0, 10, 10], [2, 2, 8, 8]]", maximum=2.0, completion=formats.think_answer, described="format + mean box IoU"
)
def object_tracking(solution: str, truth: str, extra_info: dict) -> dict:
    """Ground truth JSON ``[[x1, y1, x2, y2], ...]``, one box per asked frame."""
    gt = [tuple(b) for b in json.loads(truth)]
    fmt = formats.tracking_format(solution, len(gt))
    predicted = parse.parse_boxes(solution)
    accuracy = scores.tracking_iou(predicted, gt) if predicted else 0.0
    return {"score": fmt + accuracy, "format": fmt, "accuracy": accuracy}


def glue_completion(truth: str, reasoning: str) -> str:
    """Grounding QA's JSON ground truth as its prompt asks: the letter in <answer>, the segments in <glue>."""
    gt = json.loads(truth)
    glue = ", ".join(f"({start}, {end})" for start, end in gt["segments"])
    return f"{formats.think_answer(gt['answer'], reasoning)}<glue>[{glue}]</glue>"


@reward(
    '{"answer": "A", "segments": [[0, 2], [6, 8]]}',
    maximum=3.0,
    metric_parts=("iou", "accuracy"),
    completion=glue_completion,
    described="format + IoU of the intervals + accuracy",
)
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


@reward(
    "1.0-3.0 5.0-7.0",
    maximum=3.0,
    metric_parts=("global", "local"),
    completion=formats.think_answer,
    described="format (stage 1: with the timestamp term) + global F1 + local matching of the segments",
)
def multi_segment_grounding(solution: str, truth: str, extra_info: dict) -> dict:
    fmt = formats.museg_format(solution, timestamp_term=museg_stage(extra_info) == 1)
    predicted = parse.parse_segments(solution)
    gt = parse.parse_segments(truth) or []
    global_score = scores.global_matching(predicted, gt) if predicted else 0.0
    local_score = scores.local_matching(predicted, gt) if predicted else 0.0
    return {"score": fmt + global_score + local_score, "format": fmt, "global": global_score, "local": local_score}


@reward("C", completion=formats.think_answer, described="exact match of the option letter or number")
def synrl(solution: str, truth: str, extra_info: dict) -> dict:
    """SynRL: exact option letter, or exact number for open counting questions; score = accuracy."""
    if truth.isalpha():
        accuracy = float(parse.parse_choice(solution) == truth)
    else:
        accuracy = float(parse.parse_number(solution) == float(truth))
    return {"score": accuracy, "accuracy": accuracy, "format": formats.think_answer_format(solution)}


@reward("A man rides a red bike.", described="exact match after normalising case and punctuation")
def open_ended_qa(solution: str, truth: str, extra_info: dict) -> dict:
    """Exact match of the answer region after normalising case, punctuation, articles and spaces."""
    accuracy = float(parse.normalise_text(parse.answer_region(solution)) == parse.normalise_text(truth))
    return {"score": accuracy, "accuracy": accuracy}


def benchmark_metric(task: str, result: dict) -> float:
    parts = REWARDS[task].metric_parts
    return sum(result[part] for part in parts) / len(parts)


def ideal_completion(task: str, ground_truth: str, reasoning: str = "") -> str:
    """The true answer written as the task's prompt asks for it, ``reasoning`` as its thinking where the
    prompt asks for one: bare for VideoSSR's tasks and open-ended QA, think/answer (and glue) blocks for
    SynRL's, VideoChat-R1's and MUSEG's. It scores the reward's maximum when the reasoning satisfies the
    format (MUSEG's stage 1 wants every answer timestamp cited in it)."""
    return REWARDS[task].completion(ground_truth, reasoning)


def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None) -> dict:
    if data_source not in REWARDS:
        raise ValueError(f"no reward for data_source {data_source!r} (known: {', '.join(REWARDS)})")
    solution = solution_str if isinstance(solution_str, str) else ""
    return REWARDS[data_source].score(solution, ground_truth, extra_info or {})


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
    "REWARDS",
    "Reward",
    "accuracy_reward",
    "benchmark_metric",
    "compute_score",
    "format_reward",
    "ideal_completion",
]
