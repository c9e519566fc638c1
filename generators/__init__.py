"""Task generators: pure functions of (sampled clip, subtype, params, rng) returning a Sample.

``TASKS`` is the one registry the pipeline and ``validate`` use: how to generate a task's
samples, which subtypes exist, how many dense frames a subtype needs, and how to re-derive
an answer from ``meta``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from videolake.generators import (
    anomaly,
    counting,
    grounding_qa,
    jigsaw,
    multi_segment,
    multiple_choice,
    open_ended_qa,
    synthetic,
    temporal_grounding,
    tracking,
)
from videolake.generators.base import CannotGenerate, Contact, Sample, SampledClip, single_video_lengths
from videolake.generators.perturbations import PERTURBATIONS


@dataclass(frozen=True)
class Task:
    """Everything the pipeline, validate, score and inspect know about a task: a new task family is
    one generator module, its reward (videolake.rewards.REWARDS), one entry here and tests."""

    name: str
    generate: Callable[..., Sample]
    derive_answer: Callable[[dict], str]
    video_lengths: Callable[[dict], list[int]]  # frames of each output video, from meta
    settings_for: Callable[[dict], dict]  # defaults + params, type- and range-checked
    reads: Callable[[str], tuple[str, ...]]  # the settings a subtype reads; a recipe may set no other
    random_guess: Callable[[dict, float, np.random.Generator], str]  # (meta, fps, rng): `score --baseline random`
    # None: the subtype is free (the tier name); otherwise the allowed subtypes.
    subtypes: tuple[str, ...] | None
    contact: Callable[[dict], Contact] | None = None  # what `inspect` marks; None: the event-timeline strip
    trace_facts: Callable[[str], set[str]] | None = None  # what a polished reasoning trace must keep
    interval_answers: bool = False  # `score` adds R@0.3/0.5/0.7 (the answer is scored by IoU)
    required_density: Callable[[str, dict], int] = lambda subtype, params: 1
    needs_donor: Callable[[str], bool] = lambda subtype: False
    needs_source: Callable[[str], bool] = lambda subtype: True  # False: rendered from nothing
    # The annotated set a subtype reads (pipeline.annotations.FORMATS), or None.
    annotation_format: Callable[[str], str | None] = lambda subtype: None
    # rows -> one dict per sample: grouped (every segment of a query), or only the rows the task uses
    select_annotations: Callable[[list[dict]], list[dict]] | None = None
    # The answer's form, for the guessers `audit` fits without the pixels: "exact" (a letter, number
    # or text matched whole), "counts" (per-shape counts), "interval" ("s-e"), "interval_to"
    # ("X to Y"), "segments" (MUSEG's "s-e s-e ..."), "boxes" (tracking), "letter_glue" (grounding QA).
    answer_form: str = "exact"


def _task(module, **options) -> Task:
    hooks = {
        name: getattr(module, name)
        for name in ("annotation_format", "select_annotations", "needs_source", "contact")
        if hasattr(module, name)
    }
    if hasattr(module, "SUBTYPES"):
        hooks["subtypes"] = module.SUBTYPES
    return Task(
        module.TASK,
        module.generate,
        module.derive_answer,
        getattr(module, "video_lengths", single_video_lengths),
        module.settings_for,
        module.reads,
        module.random_guess,
        **{**hooks, **options},
    )


# In Table 1's order: counting, grounding, jigsaw; then SynRL; then VideoChat-R1's and MUSEG's tasks.
TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        _task(counting, subtypes=None, answer_form="counts"),
        _task(
            anomaly,
            subtypes=tuple(PERTURBATIONS),
            interval_answers=True,
            required_density=anomaly.required_density,
            needs_donor=anomaly.needs_donor,
            answer_form="interval",
        ),
        _task(jigsaw, subtypes=None, required_density=jigsaw.required_density),
        _task(
            synthetic,
            subtypes=tuple(synthetic.SCENARIOS),
            trace_facts=synthetic.trace_facts,
            needs_source=lambda subtype: False,
        ),
        _task(temporal_grounding, interval_answers=True, answer_form="interval_to"),
        _task(multi_segment, answer_form="segments"),
        _task(tracking, answer_form="boxes"),
        _task(grounding_qa, answer_form="letter_glue"),
        _task(multiple_choice),
        _task(open_ended_qa),
    )
}

__all__ = ["TASKS", "CannotGenerate", "Contact", "Sample", "SampledClip", "Task"]
