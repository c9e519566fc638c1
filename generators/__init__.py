"""Task generators: pure functions of (sampled clip, subtype, params, rng) returning a Sample.

``TASKS`` is the one registry the pipeline and ``validate`` use: how to generate a task's
samples, which subtypes exist, how many dense frames a subtype needs, and how to re-derive
an answer from ``meta``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from videolake.generators import anomaly, counting, grounding_qa, jigsaw, multi_segment, synthetic, temporal_grounding, tracking
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


def _task(module, **options) -> Task:
    return Task(module.TASK, module.generate, module.derive_answer, getattr(module, "video_lengths", single_video_lengths), module.settings_for, module.reads, module.random_guess, **options)


# In Table 1's order: counting, grounding, jigsaw; then SynRL; then VideoChat-R1's and MUSEG's tasks.
TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        _task(counting, subtypes=None, contact=counting.contact),
        _task(anomaly, subtypes=tuple(PERTURBATIONS), contact=anomaly.contact, interval_answers=True, required_density=anomaly.required_density, needs_donor=anomaly.needs_donor),
        _task(jigsaw, subtypes=None, contact=jigsaw.contact),
        _task(synthetic, subtypes=tuple(synthetic.SCENARIOS), trace_facts=synthetic.trace_facts, needs_source=lambda subtype: False),
        _task(temporal_grounding, subtypes=temporal_grounding.SUBTYPES, contact=temporal_grounding.contact, interval_answers=True, needs_source=temporal_grounding.needs_source),
        _task(multi_segment, subtypes=multi_segment.SUBTYPES, contact=multi_segment.contact, needs_source=multi_segment.needs_source),
        _task(tracking, subtypes=tracking.SUBTYPES, contact=tracking.contact, needs_source=tracking.needs_source),
        _task(grounding_qa, subtypes=grounding_qa.SUBTYPES, contact=grounding_qa.contact, needs_source=grounding_qa.needs_source),
    )
}

__all__ = ["TASKS", "CannotGenerate", "Contact", "Sample", "SampledClip", "Task"]
