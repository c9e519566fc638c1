"""Choreographed scenes for the VideoChat-R1 and MUSEG tasks: a few named shapes in a walled box
that rest, move, spin and pulse on a timeline.

``meta["objects"][i]["track"]`` holds every frame's state ``[x, y, angle, scale]`` (box units,
degrees clockwise, radius multiplier); ``meta["actions"]`` logs what the simulation meant to do.
The tasks re-derive their answers from the per-frame states (``action_spans``, ``box_at``), never
from the log, so the answer, the log and the pixels must agree for ``validate`` to pass.

Frame convention: an action over frames ``[s, e]`` leaves frame ``s`` at rest and changes the
object on frames ``s + 1 .. e``; its interval in seconds is ``[s / fps, e / fps]``.
"""

from __future__ import annotations

import math

import numpy as np

from videolake.generators.base import CannotGenerate, Param, sample_range
from videolake.generators.synthetic import qa
from videolake.generators.synthetic.motion import WALL, make_objects
from videolake.generators.synthetic.qa import Unlucky
from videolake.generators.synthetic.render import INDEX, PalettedVideo, blank, draw_shape, shape_points

ACTIONS = ("move", "spin", "pulse")
# How questions name an action: "when does the red square spin?", "every time the red square spins".
VERBS = {"move": "moves", "spin": "spins", "pulse": "grows and shrinks back"}
PULSE_SCALE = 1.6  # a pulsing object's radius peaks at this multiple
GAP = 1.15  # objects stay this factor of their summed radii apart on every frame
SPINNABLE = ("square", "triangle", "star", "hexagon")  # a spinning circle looks still

DEFAULT_SETTINGS = {
    "size": 448,
    "fps": 30,
    "duration": [6.0, 10.0],  # seconds
    "objects": [2, 3],
    "actions": [3, 4],  # actions per object
    "action_seconds": [0.6, 1.4],
    "rest_seconds": 0.4,  # at least this much stillness between an object's actions
}
PARAMETERS = {
    "size": Param(int, 64, 2048, even=True),
    "fps": Param(int, 2, 120),
    "duration": Param(float, 2.0, 120.0, span=True),
    "objects": Param(int, 1, 6, span=True),
    "actions": Param(int, 1, 12, span=True),
    "action_seconds": Param(float, 0.2, 10.0, span=True),
    "rest_seconds": Param(float, 0.1, 5.0, span=True),
}
READS = tuple(PARAMETERS)
TRIES = 300  # scenes drawn before giving up on a question
OBJECT_TRIES = 60  # choreographies drawn per object before the scene is drawn again


def _schedule(rng, frames: int, fps: int, count: int, settings: dict) -> list[tuple[int, int]]:
    """``count`` non-overlapping frame spans with at least ``rest_seconds`` of rest around each."""
    lengths = [max(2, round(sample_range(rng, settings["action_seconds"]) * fps)) for _ in range(count)]
    rest = max(1, round(sample_range(rng, settings["rest_seconds"]) * fps))
    slack = frames - 1 - sum(lengths) - (count + 1) * rest
    if slack < 0:
        raise Unlucky
    cuts = np.sort(rng.integers(0, slack + 1, size=count))
    spans, cursor = [], rest
    for i, length in enumerate(lengths):
        start = cursor + int(cuts[i] - (cuts[i - 1] if i else 0))
        spans.append((start, start + length))
        cursor = start + length + rest
    return spans


def _ramp(steps: int) -> np.ndarray:
    """0 -> 1 at constant speed over frames 1..steps of an action (frame 0 is still at rest)."""
    return np.arange(1, steps + 1) / steps


def _peak(steps: int) -> np.ndarray:
    """0 -> 1 -> 0 over frames 1..steps, strictly up then strictly down, so no frame repeats the last."""
    top = max(1, steps // 2)
    k = np.arange(1, steps + 1)
    return np.where(k <= top, k / top, (steps - k) / max(1, steps - top))


def _choreograph(obj: dict, spans, kinds, frames: int, rng) -> np.ndarray:
    """Per-frame [x, y, angle, scale] of one object performing ``kinds`` over ``spans``."""
    inner = WALL + obj["radius"] * PULSE_SCALE
    state = np.zeros((frames, 4))
    state[0] = [*rng.uniform(inner, 1 - inner, 2), float(rng.uniform(0, 90)), 1.0]
    cursor = 0
    for (start, end), kind in zip(spans, kinds):
        state[cursor + 1 : start + 1] = state[cursor]
        steps, here = end - start, state[start].copy()
        curve = _ramp(steps)
        block = np.repeat(here[None], steps, axis=0)
        if kind == "move":
            for _ in range(50):
                target = rng.uniform(inner, 1 - inner, 2)
                if np.linalg.norm(target - here[:2]) > 0.25:
                    break
            else:
                raise Unlucky
            block[:, :2] = here[:2] + np.outer(curve, target - here[:2])
        elif kind == "spin":
            block[:, 2] = here[2] + qa.choose(rng, [1, -1]) * 360.0 * curve
        else:
            block[:, 3] = 1.0 + (PULSE_SCALE - 1.0) * _peak(steps)
        state[start + 1 : end + 1] = block
        cursor = end
    state[cursor + 1 :] = state[cursor]
    state[:, 2] %= 360.0
    return state


def simulate(settings: dict, rng, wanted=None) -> dict:
    """A scene; ``wanted(meta)`` is True when it can pose the caller's question (else draw again)."""
    for _ in range(TRIES):
        try:
            meta = _simulate_once(settings, rng)
        except Unlucky:
            continue
        if wanted is None or wanted(meta):
            return meta
    raise CannotGenerate(f"no scene in {TRIES} draws can pose this question; loosen the parameters")


def _simulate_once(settings: dict, rng) -> dict:
    fps = settings["fps"]
    frames = round(sample_range(rng, settings["duration"]) * fps)
    count = sample_range(rng, settings["objects"], integer=True)
    shrink = min(1.0, math.sqrt(3 / count))  # busy scenes use smaller objects, so they fit
    objects = make_objects(rng, count, radius=(0.05 * shrink, 0.07 * shrink))
    actions, placed = [], []
    for obj in objects:
        for _ in range(OBJECT_TRIES):  # choreograph this object until it keeps clear of the placed ones
            spans = _schedule(rng, frames, fps, sample_range(rng, settings["actions"], integer=True), settings)
            allowed = ACTIONS if obj["shape"] in SPINNABLE else ("move", "pulse")
            kinds = [qa.choose(rng, list(allowed)) for _ in spans]
            state = _choreograph(obj, spans, kinds, frames, rng)
            obj["track"] = [
                [round(x, 4), round(y, 4), round(a, 2), round(s, 4)] for x, y, a, s in state.tolist()
            ]  # tolist: same floats, far faster than row-by-row
            if all(_apart(obj, other) for other in placed):
                break
        else:
            raise Unlucky
        placed.append(obj)
        actions += [
            {"object": obj["id"], "action": kind, "start_frame": s, "end_frame": e}
            for (s, e), kind in zip(spans, kinds)
        ]
    return {
        "scene": "choreography",
        "fps": f"{fps}/1",
        "num_frames": frames,
        "size": settings["size"],
        "objects": objects,
        "actions": sorted(actions, key=lambda a: (a["start_frame"], a["object"])),
    }


def _apart(a: dict, b: dict) -> bool:
    """Two objects never touch, so each is always wholly visible and their boxes never overlap."""
    ta, tb = np.asarray(a["track"]), np.asarray(b["track"])
    distance = np.hypot(ta[:, 0] - tb[:, 0], ta[:, 1] - tb[:, 1])
    return bool(np.all(distance >= GAP * (a["radius"] * ta[:, 3] + b["radius"] * tb[:, 3])))


def by_id(meta: dict, object_id: str) -> dict:
    return next(obj for obj in meta["objects"] if obj["id"] == object_id)


def action_spans(obj: dict, kind: str) -> list[tuple[int, int]]:
    """Frame spans ``[s, e]`` over which the object's track shows ``kind`` (read from the track)."""
    track = np.asarray(obj["track"])
    column = {"move": [0, 1], "spin": [2], "pulse": [3]}[kind]
    changed = np.any(
        np.abs(np.diff(track[:, column], axis=0)) > 1e-9, axis=1
    )  # changed[f - 1]: frame f differs from f - 1
    spans, f = [], 0
    while f < len(changed):
        if changed[f]:
            start = f
            while f < len(changed) and changed[f]:
                f += 1
            spans.append((start, f))
        else:
            f += 1
    return spans


def seconds(span: tuple[int, int], meta: dict) -> tuple[float, float]:
    fps = int(meta["fps"].split("/")[0])
    return span[0] / fps, span[1] / fps


def box_at(obj: dict, frame: int, size: int) -> list[int]:
    """The object's pixel bounding box ``[x1, y1, x2, y2]`` on a frame (outer pixel edges)."""
    x, y, angle, scale = obj["track"][frame]
    radius = obj["radius"] * scale * size
    centre = (x * size, y * size)
    if obj["shape"] == "circle":
        xs, ys = [centre[0] - radius, centre[0] + radius], [centre[1] - radius, centre[1] + radius]
    else:
        points = shape_points(obj["shape"], centre, radius, angle)
        xs, ys = [p[0] for p in points], [p[1] for p in points]
    return [
        max(0, math.floor(min(xs))),
        max(0, math.floor(min(ys))),
        min(size, math.ceil(max(xs))),
        min(size, math.ceil(max(ys))),
    ]


def render(meta: dict, frames: list[int] | None = None) -> PalettedVideo:
    """The scene, or only the listed simulation frames (tracking shows eight)."""
    size = meta["size"]
    wall = max(2, round(WALL * size))
    chosen = list(range(meta["num_frames"])) if frames is None else frames

    def draw_frame(index: int):
        frame = chosen[index]
        image, draw = blank(size)
        draw.rectangle([0, 0, size - 1, size - 1], outline=INDEX["wall"], width=wall)
        for obj in meta["objects"]:
            x, y, angle, scale = obj["track"][frame]
            draw_shape(draw, obj["shape"], (x * size, y * size), obj["radius"] * scale * size, obj["colour"], angle)
        return image

    return PalettedVideo(len(chosen), size, draw_frame)
