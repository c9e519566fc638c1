"""Task generators: pure functions of (sampled clip, subtype, params, rng) returning a Sample.

``TASKS`` is the one registry the pipeline and ``validate`` use: how to generate a task's
samples, which subtypes exist, how many dense frames a subtype needs, and how to re-derive
an answer from ``meta``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from videolake.generators import anomaly, counting, jigsaw, synthetic
from videolake.generators.base import CannotGenerate, Sample, SampledClip, single_video_lengths
from videolake.generators.perturbations import PERTURBATIONS


@dataclass(frozen=True)
class Task:
    name: str
    generate: Callable[..., Sample]
    derive_answer: Callable[[dict], str]
    video_lengths: Callable[[dict], list[int]]  # frames of each output video, from meta
    settings_for: Callable[[dict], dict]  # defaults + params, type- and range-checked
    reads: Callable[[str], tuple[str, ...]]  # the settings a subtype reads; a recipe may set no other
    # None: the subtype is free (the tier name); otherwise the allowed subtypes.
    subtypes: tuple[str, ...] | None
    required_density: Callable[[str, dict], int] = lambda subtype, params: 1
    needs_donor: Callable[[str], bool] = lambda subtype: False
    needs_source: bool = True  # False: rendered from nothing (synthetic videos)


TASKS: dict[str, Task] = {
    anomaly.TASK: Task(anomaly.TASK, anomaly.generate, anomaly.derive_answer, single_video_lengths, anomaly.settings_for, anomaly.reads, tuple(PERTURBATIONS), anomaly.required_density, anomaly.needs_donor),
    counting.TASK: Task(counting.TASK, counting.generate, counting.derive_answer, single_video_lengths, counting.settings_for, counting.reads, None),
    jigsaw.TASK: Task(jigsaw.TASK, jigsaw.generate, jigsaw.derive_answer, jigsaw.video_lengths, jigsaw.settings_for, jigsaw.reads, None),
    synthetic.TASK: Task(synthetic.TASK, synthetic.generate, synthetic.derive_answer, single_video_lengths, synthetic.settings_for, synthetic.reads, tuple(synthetic.SCENARIOS), needs_source=False),
}

__all__ = ["TASKS", "CannotGenerate", "Sample", "SampledClip", "Task"]
