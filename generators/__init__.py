"""Task generators: pure functions of (sampled clip, subtype, params, rng) returning a Sample.

``TASKS`` is the one registry the pipeline, validate, score, inspect and the exports use: each task
module declares its ``Task`` record (``TASK``) and is listed here once.
"""

from __future__ import annotations

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
from videolake.generators.base import CannotGenerate, Contact, Sample, SampledClip, Task

# In Table 1's order: counting, grounding, jigsaw; then SynRL; then VideoChat-R1's and MUSEG's tasks.
TASKS: dict[str, Task] = {
    module.TASK.name: module.TASK
    for module in (
        counting,
        anomaly,
        jigsaw,
        synthetic,
        temporal_grounding,
        multi_segment,
        tracking,
        grounding_qa,
        multiple_choice,
        open_ended_qa,
    )
}

__all__ = ["TASKS", "CannotGenerate", "Contact", "Sample", "SampledClip", "Task"]
