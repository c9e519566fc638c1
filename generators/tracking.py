"""Object tracking (VideoChat-R1): the box of a named object on each of the video's N frames.

As in VideoChat-R1 (GOT-10k, 8 frames), the video *is* the asked frames: N frames spread evenly
over a longer motion, the first box given in the question. Boxes are ``[x1, y1, x2, y2]`` in the
output video's pixels (outer edges of the drawn shape).

- ``rendered``: a choreographed scene; the tracked object is the one that travels farthest.
- ``overlay``: a real clip with a shape (the counting overlay's) moving over it on a known path,
  bouncing off the frame's edges.
- ``got10k``: a GOT-10k sequence (frames and ``groundtruth.txt``), N frames spread over it, its
  boxes checked against the frame and scaled to the output video.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np

from videolake.generators import annotated
from videolake.generators.base import (
    CannotGenerate,
    Contact,
    Param,
    Sample,
    SampledClip,
    Subtype,
    Subtypes,
    Task,
    fps_to_str,
    merge_settings,
    sample_range,
    single_video_question,
)
from videolake.generators.drawing import SHAPES, circumradius, draw_shapes, extent
from videolake.generators.prompts import VIDEOCHAT_SYSTEM_PROMPT, VIDEOCHAT_THINKING, number_word, quoted
from videolake.generators.synthetic import qa, scenes
from videolake.generators.synthetic.render import OBJECT_COLOURS

NAME = "object_tracking"
# VideoChat-R1's tracking prompt, with pixel coordinates of the frame instead of normalized ones.
PROMPT = (
    'Track the "{object}" in the video based on its initial coordinates "{start}". The output should be a list '
    "containing {count} sublists. Each sublist includes four pixel coordinates [x0, y0, x1, y1] of the "
    "{width}x{height} frame representing the bounding box of the object on each frame of the video, in order.\n\n"
    + VIDEOCHAT_THINKING
    + "Provide your answer within the <answer> </answer> tags as a list of {count} sublists, where each sublist "
    "contains the pixel coordinates [x0, y0, x1, y1]. For example: "
    "<answer>[[10, 52, 40, 80], [72, 25, 104, 60], ...]</answer>."
)
DEFAULT_SETTINGS = {
    **scenes.DEFAULT_SETTINGS,
    "asked_frames": 8,
    "overlay_size": [0.12, 0.22],  # fraction of min(h, w)
    "overlay_travel": [0.6, 1.6],  # path length over the asked frames, in frame widths
}
PARAMETERS = {
    **scenes.PARAMETERS,
    "asked_frames": Param(int, 2, 16, even=True),  # a box per frame: an odd count would be padded with an unasked frame
    "overlay_size": Param(float, 0.02, 0.5, span=True),
    "overlay_travel": Param(float, 0.0, 8.0, span=True),
}
MIN_TRAVEL = 0.2  # rendered: the tracked object's centre moves at least this far (box units)


def settings_for(params: dict) -> dict:
    return merge_settings(NAME, DEFAULT_SETTINGS, PARAMETERS, params)


def spread(total: int, count: int) -> list[int]:
    """``count`` frame indices evenly over ``total`` frames, first and last included."""
    if total < count:
        raise CannotGenerate(f"{count} asked frames need a clip of at least {count} frames, got {total}")
    return [round(i * (total - 1) / (count - 1)) for i in range(count)]


def _travel(obj: dict, frames: list[int]) -> float:
    points = np.asarray([obj["track"][f][:2] for f in frames])
    return float(np.linalg.norm(np.diff(points, axis=0), axis=1).sum())


def _rendered(clip, settings: dict, rng: np.random.Generator, annotation=None) -> Sample:
    count = settings["asked_frames"]

    def asked(world):
        return spread(world["num_frames"], count)

    world = scenes.simulate(
        settings, rng, wanted=lambda w: max(_travel(o, asked(w)) for o in w["objects"]) >= MIN_TRAVEL
    )
    target = max(world["objects"], key=lambda o: _travel(o, asked(world)))
    fps = Fraction(settings["fps"] * (count - 1), world["num_frames"] - 1).limit_denominator(1000)
    meta = {
        "num_frames": count,
        "fps": fps_to_str(fps),
        "asked_frames": asked(world),
        "target": target["id"],
        "name": target["name"],
        "world": world,
    }
    return _sample(meta, scenes.render(world, meta["asked_frames"]))


def _overlaid(clip: SampledClip, settings: dict, rng: np.random.Generator, annotation=None) -> Sample:
    meta, video = _overlay(clip, settings, rng)
    return _sample(meta, video)


def _annotated(clip: SampledClip, settings: dict, rng: np.random.Generator, annotation: dict) -> Sample:
    meta, video = _sequence(clip, annotation, settings["asked_frames"])
    annotated.cannot_generate(boxes_for, meta)
    return _sample(meta, video)


def _sample(meta: dict, video) -> Sample:
    height, width = video.shape[1:3]
    boxes = boxes_for(meta)
    count = number_word(meta["num_frames"])
    text = PROMPT.format(object=meta["name"], start=boxes[0], count=count, width=width, height=height)
    return Sample([video], single_video_question(text), json.dumps(boxes), meta, system=VIDEOCHAT_SYSTEM_PROMPT)


SUBTYPES = Subtypes(
    rendered=Subtype(_rendered, scenes.READS + ("asked_frames",), needs_source=False),
    overlay=Subtype(_overlaid, ("asked_frames", "overlay_size", "overlay_travel")),
    got10k=Subtype(_annotated, ("asked_frames",), annotation_format="got10k"),
)


def generate(
    clip: SampledClip | None,
    subtype: str,
    params: dict,
    rng: np.random.Generator,
    donor=None,
    annotation: dict | None = None,
) -> Sample:
    return SUBTYPES[subtype].make(clip, settings_for(params), rng, annotation)


def _bounce(position: float, travel: float, low: float, high: float) -> float:
    """Where a point starting at ``position`` ends after ``travel`` along [low, high], reflected at the ends."""
    span = high - low
    if span <= 0:
        return low
    phase = (position - low + travel) % (2 * span)
    return low + (phase if phase <= span else 2 * span - phase)


def _overlay(clip: SampledClip, settings: dict, rng) -> tuple[dict, np.ndarray]:
    count = settings["asked_frames"]
    slots = spread(clip.num_slots, count)
    frames = clip.base_frames()[slots]
    h, w = frames.shape[1:3]
    size = sample_range(rng, settings["overlay_size"]) * min(h, w)
    kind, colour = qa.choose(rng, list(SHAPES)), qa.choose(rng, list(OBJECT_COLOURS))
    reach = circumradius(kind, size)
    low_x, high_x, low_y, high_y = reach, w - reach, reach, h - reach
    if high_x <= low_x or high_y <= low_y:
        raise CannotGenerate(f"a {size:.0f}-pixel shape does not fit a {w}x{h} frame")
    heading = rng.uniform(0, 2 * math.pi)
    travel = sample_range(rng, settings["overlay_travel"]) * w
    x0, y0 = rng.uniform(low_x, high_x), rng.uniform(low_y, high_y)
    spin = float(rng.uniform(-40, 40))  # degrees per asked frame
    rotation0 = float(rng.uniform(0, 360))
    path = []
    for i in range(count):
        done = travel * i / (count - 1)
        path.append(
            [
                round(_bounce(x0, done * math.cos(heading), low_x, high_x), 2),
                round(_bounce(y0, done * math.sin(heading), low_y, high_y), 2),
                round((rotation0 + spin * i) % 360, 2),
            ]
        )
    shape = {"type": kind, "size": round(size, 2), "color": [int(c) for c in OBJECT_COLOURS[colour]]}
    for i, (cx, cy, rotation) in enumerate(path):
        frames[i] = draw_shapes(frames[i], [{**shape, "cx": cx, "cy": cy, "rotation": rotation}])
    span = clip.source_times[clip.base_indices[slots[-1]]] - clip.source_times[clip.base_indices[slots[0]]]
    fps = Fraction(count - 1) / Fraction(float(span)).limit_denominator(1_000_000) if span > 0 else clip.fps
    meta = {
        "num_frames": count,
        "fps": fps_to_str(Fraction(fps).limit_denominator(1000)),
        "asked_slots": slots,
        "source_times": np.round(clip.source_times[clip.base_indices[slots]], 6).tolist(),
        "name": f"{colour} {kind}",
        "overlay": {**shape, "path": path},
        "frame_size": [w, h],
    }
    return meta, frames


def _sequence(clip: SampledClip, annotation: dict, count: int) -> tuple[dict, np.ndarray]:
    """N of the sampled frames of an annotated sequence; meta keeps only the asked frames' rows."""
    slots = spread(clip.num_slots, count)
    images = [round(float(t) * annotation["fps"]) for t in clip.source_times[clip.base_indices[slots]]]
    frames = clip.base_frames()[slots]
    span = (images[-1] - images[0]) / annotation["fps"]
    fps = Fraction(count - 1) / Fraction(span).limit_denominator(1_000_000) if span > 0 else Fraction(annotation["fps"])
    asked = {
        "video": annotation["video"],
        "object": annotation["object"],
        "where": annotation["where"],
        "frames": [annotation["frames"][i] for i in images],
        "boxes": [annotation["boxes"][i] for i in images],
    }
    meta = {
        "num_frames": count,
        "fps": fps_to_str(fps.limit_denominator(1000)),
        "asked_slots": slots,
        "name": annotation["object"],
        "annotation": asked,
        "source_size": list(clip.source_size),
        "frame_size": [frames.shape[2], frames.shape[1]],
    }
    return meta, frames


def _overlay_box(shape: dict, cx: float, cy: float, rotation: float, w: int, h: int) -> list[int]:
    x1, y1, x2, y2 = extent({**shape, "cx": cx, "cy": cy, "rotation": rotation})
    return [max(0, math.floor(x1)), max(0, math.floor(y1)), min(w, math.ceil(x2)), min(h, math.ceil(y2))]


def boxes_for(meta: dict) -> list[list[int]]:
    """The tracked object's box on every frame of the video, from the simulation, the overlay path or
    the annotated boxes."""
    if "annotation" in meta:
        rows = meta["annotation"]
        if len(rows["boxes"]) != meta["num_frames"]:
            raise ValueError("one annotated box per frame expected")
        width, height = meta["source_size"]
        corners = [
            annotated.checked_box(box, width, height, f"{rows['where']} frame {name}")
            for box, name in zip(rows["boxes"], rows["frames"])
        ]
        return [annotated.scaled_box(c, meta["source_size"], meta["frame_size"]) for c in corners]
    if "world" in meta:
        world = meta["world"]
        if len(meta["asked_frames"]) != meta["num_frames"] or not all(
            0 <= f < world["num_frames"] for f in meta["asked_frames"]
        ):
            raise ValueError("asked frames outside the simulation")
        return [scenes.box_at(scenes.by_id(world, meta["target"]), f, world["size"]) for f in meta["asked_frames"]]
    if len(meta["overlay"]["path"]) != meta["num_frames"]:
        raise ValueError("one overlay position per frame expected")
    w, h = meta["frame_size"]
    return [_overlay_box(meta["overlay"], cx, cy, rotation, w, h) for cx, cy, rotation in meta["overlay"]["path"]]


def derive_answer(meta: dict) -> str:
    return json.dumps(boxes_for(meta))


def explain(meta: dict) -> str:
    boxes = boxes_for(meta)
    return f"The {quoted(meta['name'])} is at {boxes[0]} on the first frame and at {boxes[-1]} on the last."


def random_guess(meta: dict, fps: float, rng: np.random.Generator) -> str:
    """The whole frame on every frame: its IoU is the object's share of the frame."""
    w, h = (meta["world"]["size"],) * 2 if "world" in meta else meta["frame_size"]
    return json.dumps([[0, 0, w, h]] * meta["num_frames"])


def contact(meta: dict) -> Contact:
    boxes = boxes_for(meta)
    return Contact({}, f"red boxes: the {meta['name']} on each asked frame", boxes=dict(enumerate(boxes)))


TASK = Task(
    name=NAME,
    paper="li2025videochatr1",
    shows="8 frames and the first box of a named object; one box per frame",
    generate=generate,
    derive_answer=derive_answer,
    settings_for=settings_for,
    reads=SUBTYPES.reads,
    random_guess=random_guess,
    subtypes=tuple(SUBTYPES),
    contact=contact,
    explain=explain,
    needs_source=SUBTYPES.needs_source,
    annotation_format=SUBTYPES.annotation_format,
    answer_form="boxes",
)
