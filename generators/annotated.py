"""Samples from annotated sets (Charades-STA, ActivityNet Captions, GOT-10k, NExT-GQA,
LLaVA-Video-178K): the rows ride in ``meta["annotation"]``, and every answer is re-derived from
them after the checks against the video they point to. A row that fails a check raises
``BadAnnotation`` (a ValueError, so ``validate`` reports it too); ``generate`` turns it into
``CannotGenerate``, which puts the row in the build report with its reason."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from videolake.generators.base import CannotGenerate, SampledClip, fps_to_str

TOLERANCE_SECONDS = 0.5  # an annotated end may pass the video's end by this much (rounding in the files)
BOX_TOLERANCE = 1.0  # pixels a box may stick out of its frame


class BadAnnotation(ValueError):
    """The row does not fit the video it names."""


def where(annotation: dict) -> str:
    """The file and line (or lines) a sample's rows came from, for messages."""
    place = annotation["where"]
    if isinstance(place, str) or len(place) == 1:
        return place if isinstance(place, str) else place[0]
    return f"{place[0]} (+{len(place) - 1} more)"


def whole_clip_meta(clip: SampledClip, annotation: dict) -> dict:
    """A whole-video sample's frame grid: slot i shows the video at i / fps seconds."""
    return {
        "num_frames": clip.num_slots,
        "fps": fps_to_str(clip.fps),
        "annotation": annotation,
        "source_times": np.round(clip.source_times[clip.base_indices], 6).tolist(),
    }


def duration(meta: dict) -> float:
    return float(meta["num_frames"] / Fraction(meta["fps"]))


def checked_interval(start: float, end: float, meta: dict) -> tuple[float, float]:
    """The interval, its end clipped to the video; BadAnnotation when it is empty or outside."""
    length = duration(meta)
    if not 0 <= start < end:
        raise BadAnnotation(f"{where(meta['annotation'])}: interval {start:g}-{end:g} s is empty or negative")
    if start >= length or end > length + TOLERANCE_SECONDS:
        raise BadAnnotation(
            f"{where(meta['annotation'])}: interval {start:g}-{end:g} s is not inside the video ({length:.2f} s)"
        )
    return start, min(end, length)


def checked_box(box, width: int, height: int, label: str) -> tuple[float, float, float, float]:
    """An ``x, y, w, h`` box inside a ``width`` x ``height`` frame, as corners."""
    x, y, w, h = box
    if (
        w <= 0
        or h <= 0
        or x < -BOX_TOLERANCE
        or y < -BOX_TOLERANCE
        or x + w > width + BOX_TOLERANCE
        or y + h > height + BOX_TOLERANCE
    ):
        raise BadAnnotation(f"{label}: box {list(box)} is empty or outside the {width}x{height} frame")
    return max(0.0, x), max(0.0, y), min(float(width), x + w), min(float(height), y + h)


def scaled_box(corners, source_size, frame_size) -> list[int]:
    """Corners in the source's pixels -> the output video's pixels (outer edges)."""
    sx, sy = frame_size[0] / source_size[0], frame_size[1] / source_size[1]
    x1, y1, x2, y2 = corners
    return [
        math.floor(x1 * sx),
        math.floor(y1 * sy),
        min(frame_size[0], math.ceil(x2 * sx)),
        min(frame_size[1], math.ceil(y2 * sy)),
    ]


def cannot_generate(derive, meta: dict) -> str:
    """``derive(meta)``, with a row that does not fit its video reported instead of raised."""
    try:
        return derive(meta)
    except BadAnnotation as err:
        raise CannotGenerate(str(err)) from err
