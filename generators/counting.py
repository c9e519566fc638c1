"""Object counting: draw circles, squares and triangles onto a few frames; the answer is the counts."""

from __future__ import annotations

import math

import numpy as np

from videolake.generators.base import (
    CannotGenerate,
    Contact,
    Param,
    Sample,
    SampledClip,
    Task,
    fps_to_str,
    merge_settings,
    single_video_question,
)
from videolake.generators.drawing import SHAPES, draw_shapes, extent

NAME = "object_counting"

PROMPT = (
    "Count the number of circles, squares, and triangles that appear in this video. Be aware that the "
    "shapes can appear in any color and at any angle of rotation. They may be present on one or multiple "
    "frames, and any given frame can contain more than one shape. Provide the answer as three "
    "comma-separated numbers in the format: circles,squares,triangles. For example, if you see 3 circles, "
    "1 square, and 4 triangles, your answer should be '3,1,4'."
)

# Placement rules from the reference code; tiers override max_frames / max_per_frame.
DEFAULT_SETTINGS = {
    "max_frames": 3,  # a shape type appears on at most this many frames
    "max_per_frame": 3,  # at most this many instances of one type on one frame
    "min_frame_gap": 8,  # frames holding the same type are at least this many slots apart
    "size": [0.2, 0.4],  # fraction of min(h, w): circle diameter, square side, triangle side
    "centre_region": 0.7,  # centres lie inside this central fraction of the frame
    "color": [50, 255],
    "occluded_share": 0.0,  # this share of the shapes is partly hidden behind a grey bar
}
PARAMETERS = {
    "max_frames": Param(int, 1, 64),
    "max_per_frame": Param(int, 1, 16),
    "min_frame_gap": Param(int, 1, 64),
    "size": Param(float, 0.01, 1.0, span=True),
    "centre_region": Param(float, 0.0, 1.0),
    "color": Param(int, 0, 255, span=True),
    "occluded_share": Param(float, 0.0, 1.0),
}
OCCLUDED_FRACTION = (0.2, 0.4)  # of a shape's extent along one axis, from one side: it stays recognisable
PLACEMENT_ATTEMPTS = 200  # tries per shape before the frame is laid out again
LAYOUT_RETRIES = 12  # each retry scales every size by 0.85


def settings_for(params: dict) -> dict:
    return merge_settings(NAME, DEFAULT_SETTINGS, PARAMETERS, params)


def reads(subtype: str) -> tuple[str, ...]:
    return tuple(PARAMETERS)


def _frames_with_gap(rng, num_slots: int, count: int, gap: int) -> list[int]:
    """``count`` sorted slots, consecutive ones at least ``gap`` apart, uniformly over valid sets."""
    free = num_slots - (count - 1) * (gap - 1)
    if free < count:
        raise CannotGenerate(
            f"{count} frames at least {gap} apart need {(count - 1) * gap + 1} frames, the video has {num_slots}: "
            "lower max_frames or min_frame_gap, or sample more frames"
        )
    picks = np.sort(rng.choice(free, size=count, replace=False))
    return [int(p + i * (gap - 1)) for i, p in enumerate(picks)]


def occluder(rng, shape: dict) -> dict:
    """A grey bar over 20-40 % of the shape's extent, entering from a random side."""
    x1, y1, x2, y2 = extent(shape)
    cover = float(rng.uniform(*OCCLUDED_FRACTION))
    side = ("left", "right", "top", "bottom")[int(rng.integers(4))]
    pad = 0.15 * (x2 - x1)  # the bar reaches a little past the shape, so it reads as an object in front
    box = {
        "left": (x1 - pad, y1 - pad, x1 + cover * (x2 - x1), y2 + pad),
        "right": (x2 - cover * (x2 - x1), y1 - pad, x2 + pad, y2 + pad),
        "top": (x1 - pad, y1 - pad, x2 + pad, y1 + cover * (y2 - y1)),
        "bottom": (x1 - pad, y2 - cover * (y2 - y1), x2 + pad, y2 + pad),
    }[side]
    grey = int(rng.integers(90, 170))
    return {"side": side, "cover": round(cover, 3), "box": [round(v, 2) for v in box], "color": [grey, grey, grey]}


def _layout(rng, shape_types: list[str], frame_index: int, h: int, w: int, settings: dict) -> list[dict]:
    """Rejection-sample every shape of one frame so centres are at least one size apart.

    When a crowded frame leaves no room, the whole frame is laid out again with all sizes
    scaled down, so the drawn counts never change; ``meta`` records the sizes actually used.
    """
    side = min(h, w)
    lo, hi = settings["size"]
    margin_x, margin_y = w * (1 - settings["centre_region"]) / 2, h * (1 - settings["centre_region"]) / 2
    c_lo, c_hi = settings["color"]
    for retry in range(LAYOUT_RETRIES):
        scale = 0.85**retry
        placed: list[dict] = []
        for shape_type in shape_types:
            for _ in range(PLACEMENT_ATTEMPTS):
                size = float(rng.uniform(lo, hi)) * side * scale
                cx, cy = float(rng.uniform(margin_x, w - margin_x)), float(rng.uniform(margin_y, h - margin_y))
                if all(math.hypot(cx - o["cx"], cy - o["cy"]) >= max(size, o["size"]) for o in placed):
                    placed.append(
                        {
                            "type": shape_type,
                            "frame": frame_index,
                            "cx": round(cx, 2),
                            "cy": round(cy, 2),
                            "size": round(size, 2),
                            "rotation": round(float(rng.uniform(0, 360)), 2),
                            "color": [int(c) for c in rng.integers(c_lo, c_hi + 1, size=3)],
                        }
                    )
                    break
            else:
                break  # this shape found no room: lay the frame out again, smaller
        if len(placed) == len(shape_types):
            return placed
    raise CannotGenerate(f"cannot place {len(shape_types)} shapes on a {w}x{h} frame")


def split_count(rng: np.random.Generator, max_frames: int, max_per_frame: int) -> list[int]:
    """Instances per frame of one shape type: the total first, uniform over 1..max_frames *
    max_per_frame (the range Table 1's random guess assumes), then the number of frames uniform
    among those that can hold it, then how many on each. Drawing frames and instances first, as
    the reference code does, makes middle totals common (3 of 1..9 twice as often as 1 or 9), so
    a constant guess beat the random row without looking."""
    total = int(rng.integers(1, max_frames * max_per_frame + 1))
    frames = int(rng.integers(-(-total // max_per_frame), min(total, max_frames) + 1))
    while True:  # a uniform split of total into frames parts of 1..max_per_frame
        cuts = (
            np.sort(rng.choice(np.arange(1, total), size=frames - 1, replace=False))
            if frames > 1
            else np.array([], int)
        )
        parts = np.diff(np.concatenate([[0], cuts, [total]])).astype(int)
        if parts.max() <= max_per_frame:
            return [int(v) for v in parts]


def generate(
    clip: SampledClip, subtype: str, params: dict, rng: np.random.Generator, donor=None, annotation=None
) -> Sample:
    settings = settings_for(params)
    frames = clip.base_frames()
    n, h, w = frames.shape[:3]
    per_frame: dict[int, list[str]] = {}
    for shape_type in SHAPES:
        instances = split_count(rng, settings["max_frames"], settings["max_per_frame"])
        for slot, count in zip(_frames_with_gap(rng, n, len(instances), settings["min_frame_gap"]), instances):
            per_frame.setdefault(slot, []).extend([shape_type] * count)
    shapes: list[dict] = []
    for slot in sorted(per_frame):
        placed = _layout(rng, per_frame[slot], slot, h, w, settings)
        if settings["occluded_share"] > 0:  # drawn only when asked, so other tiers' draws are unchanged
            for shape in placed:
                if rng.random() < settings["occluded_share"]:
                    shape["occluder"] = occluder(rng, shape)
        frames[slot] = draw_shapes(frames[slot], placed)
        shapes.extend(placed)
    meta = {
        "num_frames": n,
        "fps": fps_to_str(clip.fps),
        "shapes": shapes,
        "source_times": np.round(clip.source_times[clip.base_indices], 6).tolist(),
    }
    return Sample(clips=[frames], question=single_video_question(PROMPT), answer=derive_answer(meta), meta=meta)


def derive_answer(meta: dict) -> str:
    counts = dict.fromkeys(SHAPES, 0)
    for shape in meta["shapes"]:
        if not 0 <= shape["frame"] < meta["num_frames"]:
            raise ValueError("shape drawn outside the video")
        counts[shape["type"]] += 1
    return ",".join(str(counts[shape]) for shape in SHAPES)


def random_guess(meta: dict, fps: float, rng: np.random.Generator) -> str:
    """Table 1's uninformed guess: each count uniform over 1..max_frames * max_per_frame of the tier."""
    settings = settings_for(meta["generator"]["params"])
    top = settings["max_frames"] * settings["max_per_frame"]
    return ",".join(str(int(v)) for v in rng.integers(1, top + 1, size=len(SHAPES)))


def contact(meta: dict) -> Contact:
    counts = [int(n) for n in derive_answer(meta).split(",")]
    named = ", ".join(f"{n} {shape}{'' if n == 1 else 's'}" for n, shape in zip(counts, SHAPES, strict=True))
    return Contact({s["frame"]: "shapes" for s in meta["shapes"]}, f"{named}; green: frames with drawn shapes")


TASK = Task(
    name=NAME,
    paper="he2026videossr",
    shows="one video with circles, squares and triangles drawn on a few frames; the answer counts each kind",
    generate=generate,
    derive_answer=derive_answer,
    settings_for=settings_for,
    reads=reads,
    random_guess=random_guess,
    contact=contact,
    answer_form="counts",
)
