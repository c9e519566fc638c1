"""Short-term motion videos: 12 scenarios of shapes moving in a walled box for a few seconds.

Every scenario simulates per-frame object states (position in box units 0-1, angle in degrees
clockwise, attribute changes) into ``meta["objects"][i]["track"]``, logs its events with frame and
ms, and poses one question. ``solve`` recomputes the answer from the per-frame track itself (not
from the event log), so the answer, the log and the pixels must all agree for ``validate`` to pass.

Why no answer can be read off one frame: every question is about a change over time (a count of
bounces, turns, crossings or moves; a direction, speed or distance trend; an order of events;
an attribute or rotation that differs between moments). A single frame shows one position of
each object and no motion, and nothing is drawn that accumulates (no trails, no counters).
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np

from videolake.generators.base import CannotGenerate, sample_range
from videolake.generators.synthetic import qa
from videolake.generators.synthetic.qa import Step, Unlucky, retry
from videolake.generators.synthetic.render import (
    INDEX,
    OBJECT_COLOURS,
    ORIENTED_SHAPES,
    SHAPES,
    PalettedVideo,
    blank,
    draw_shape,
    fps_of,
    frame_ms,
)

WALL = 0.02  # wall thickness in box units; objects move inside [WALL + r, 1 - WALL - r]
MOVING = 1e-4  # per-frame displacement below which an object counts as still (tracks keep 4 decimals)
DIRECTIONS = {"up": (0.0, -1.0), "down": (0.0, 1.0), "left": (-1.0, 0.0), "right": (1.0, 0.0)}


# ---- building blocks -------------------------------------------------------------------------


def make_objects(rng, count: int, shapes=SHAPES, radius=(0.05, 0.07)) -> list[dict]:
    """``count`` objects with distinct colours, so each has a unique name like "red circle"."""
    colours = [list(OBJECT_COLOURS)[i] for i in rng.permutation(len(OBJECT_COLOURS))[:count]]
    objects = []
    for i, colour in enumerate(colours):
        shape = qa.choose(rng, list(shapes))
        objects.append(
            {
                "id": f"obj_{i}",
                "name": f"{colour} {shape}",
                "colour": colour,
                "shape": shape,
                "radius": round(sample_range(rng, radius), 3),
            }
        )
    return objects


def num_frames(settings, rng) -> int:
    return round(sample_range(rng, settings["duration"]) * settings["fps"])


def set_track(obj: dict, x, y, angle=None) -> None:
    angle = np.zeros(len(x)) if angle is None else angle
    obj["track"] = [[round(float(a), 4), round(float(b), 4), round(float(c), 2)] for a, b, c in zip(x, y, angle)]
    inner = WALL + obj["radius"]
    if (
        min(min(p[0], p[1]) for p in obj["track"]) < inner - 1e-6
        or max(max(p[0], p[1]) for p in obj["track"]) > 1 - inner + 1e-6
    ):
        raise Unlucky


def track(obj: dict) -> np.ndarray:
    return np.asarray(obj["track"], float)


def event(kind: str, frame: int, fps: int, **details) -> dict:
    return {"type": kind, "frame": int(frame), "ms": frame_ms(frame, fps), **details}


def world(name: str, settings: dict, frames: int, objects: list[dict], events: list[dict]) -> dict:
    return {
        "scenario": name,
        "fps": f"{settings['fps']}/1",
        "num_frames": frames,
        "size": settings["size"],
        "objects": objects,
        "events": sorted(events, key=lambda e: (e["frame"], e["type"])),
    }


def bounce(
    start: float, velocity: float, lo: float, hi: float, frames: int, fps: int, speed_scale=None
) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """1-D motion between walls, reflected at lo/hi; returns positions and (frame, "lo"/"hi") contacts."""
    position, v = start, velocity
    positions, contacts = [start], []
    for frame in range(1, frames):
        scale = 1.0 if speed_scale is None else speed_scale[frame]
        position += v * scale / fps
        if position < lo:
            position, v = 2 * lo - position, -v
            contacts.append((frame, "lo"))
        elif position > hi:
            position, v = 2 * hi - position, -v
            contacts.append((frame, "hi"))
        positions.append(position)
    return np.asarray(positions), contacts


def region(x: float, y: float) -> str:
    """Coarse place names for traces: top-left ... bottom-right, centre."""
    row = "top" if y < 1 / 3 else "bottom" if y > 2 / 3 else "middle"
    col = "left" if x < 1 / 3 else "right" if x > 2 / 3 else "centre"
    if row == "middle":
        return "centre" if col == "centre" else f"middle {col}"
    return row if col == "centre" else f"{row}-{col}"


def heading_name(dx: float, dy: float) -> str:
    if abs(dx) >= abs(dy):
        return "right" if dx > 0 else "left"
    return "down" if dy > 0 else "up"


def lane_speed(obj: dict, frames: slice) -> float:
    """Median horizontal speed (box widths per frame) of a lane object over some frames."""
    steps = np.abs(np.diff(track(obj)[frames, 0]))
    return float(np.median(steps))


def subject(meta: dict) -> dict:
    return meta["objects"][0]


def attributes_at(obj: dict, frame: int) -> dict:
    """An object's colour, shape and radius at a frame, after the changes logged up to it."""
    state = {"colour": obj["colour"], "shape": obj["shape"], "radius": obj["radius"]}
    for change in obj.get("changes", []):
        if change["frame"] <= frame:
            state[change["attribute"]] = change["to"]
    return state


def render(meta: dict) -> PalettedVideo:
    size = meta["size"]
    wall = max(2, round(WALL * size))

    def draw_frame(frame: int):
        image, draw = blank(size)
        draw.rectangle([0, 0, size - 1, size - 1], outline=INDEX["wall"], width=wall)
        for obj in meta["objects"]:
            x, y, angle = obj["track"][frame]
            state = attributes_at(obj, frame)
            draw_shape(draw, state["shape"], (x * size, y * size), state["radius"] * size, state["colour"], angle)
        return image

    return PalettedVideo(meta["num_frames"], size, draw_frame)


# ---- 1. collision counting -------------------------------------------------------------------


def simulate_collisions(settings, rng):
    return qa.balanced(lambda: _collisions(settings, rng), lambda meta: ("count", solve_collisions(meta)), rng)[0]


@retry
def _collisions(settings, rng):
    frames, fps = num_frames(settings, rng), settings["fps"]
    obj = make_objects(rng, 1, shapes=("circle",))[0]
    inner = WALL + obj["radius"]
    # The distance travelled, not the speed, is drawn: a longer clip must not mean more bounces.
    speed = sample_range(rng, [1.2, 4.4]) * settings["speed"] / ((frames - 1) / fps)
    angle = rng.uniform(0, 2 * math.pi)
    if min(abs(math.cos(angle)), abs(math.sin(angle))) < 0.3:
        raise Unlucky  # near-axis motion makes long, dull runs
    x, x_hits = bounce(
        rng.uniform(inner + 0.05, 1 - inner - 0.05), speed * math.cos(angle), inner, 1 - inner, frames, fps
    )
    y, y_hits = bounce(
        rng.uniform(inner + 0.05, 1 - inner - 0.05), speed * math.sin(angle), inner, 1 - inner, frames, fps
    )
    set_track(obj, x, y)
    names = {"x": {"lo": "left", "hi": "right"}, "y": {"lo": "top", "hi": "bottom"}}
    events = [
        event("wall", f, fps, object=obj["id"], wall=names[axis][side])
        for axis, hits in (("x", x_hits), ("y", y_hits))
        for f, side in hits
    ]
    hit_frames = sorted(e["frame"] for e in events)
    if (
        not events
        or any(b - a < 3 for a, b in pairwise(hit_frames))
        or hit_frames[0] < 3
        or hit_frames[-1] > frames - 4
    ):
        raise Unlucky  # corner hits and hits at the very edges of the clip are ambiguous to count
    meta = world("collision_count", settings, frames, [obj], events)
    meta["query"] = qa.open_number(
        "count", f"The {obj['name']} moves inside a walled box. How many times does it bounce off a wall?"
    )
    return meta


def _direction_flips(values: np.ndarray) -> int:
    signs = np.sign(np.diff(values))
    signs = signs[np.abs(np.diff(values)) > MOVING]
    return int(np.sum(signs[1:] != signs[:-1]))


def solve_collisions(meta):
    points = track(subject(meta))
    return str(_direction_flips(points[:, 0]) + _direction_flips(points[:, 1]))


def narrate_collisions(meta):
    obj = subject(meta)
    hits = [e for e in meta["events"] if e["type"] == "wall"]
    steps = [
        Step(e["ms"], f"the {obj['name']} bounces off the {e['wall']} wall (bounce {i + 1}).")
        for i, e in enumerate(hits)
    ]
    return (
        f"I follow the {obj['name']} and count each time it reverses off a wall.",
        steps,
        f"In total it bounces {len(hits)} times.",
    )


# ---- 2. direction identification -------------------------------------------------------------


def _path(first: str, second: str) -> str:
    return f"First {first}, then {second}."


PATHS = {_path(a, b): (a, b) for a in DIRECTIONS for b in DIRECTIONS if a != b}


def _paths_near(path: str) -> list[str]:
    """One direction misread (either leg, never to the other leg's), or the two legs swapped: five
    neighbours for every path, and each mistake undoes itself."""
    first, second = PATHS[path]
    others = [d for d in DIRECTIONS if d not in (first, second)]
    return [_path(d, second) for d in others] + [_path(first, d) for d in others] + [_path(second, first)]


def simulate_direction(settings, rng):
    return _direction(settings, rng, qa.choose(rng, list(PATHS)))


@retry
def _direction(settings, rng, path):
    frames, fps = num_frames(settings, rng), settings["fps"]
    obj = make_objects(rng, 1)[0]
    first, second = PATHS[path]
    turn = int(rng.integers(round(frames * 0.35), round(frames * 0.65)))
    speed = sample_range(rng, [0.2, 0.3]) * settings["speed"]
    steps = np.arange(frames)
    along_first = np.minimum(steps, turn) * speed / fps
    along_second = np.maximum(steps - turn, 0) * speed / fps
    (ax, ay), (bx, by) = DIRECTIONS[first], DIRECTIONS[second]
    dx, dy = along_first * ax + along_second * bx, along_first * ay + along_second * by
    inner = WALL + obj["radius"]
    x0 = rng.uniform(inner - dx.min(), 1 - inner - dx.max()) if dx.max() - dx.min() < 1 - 2 * inner else None
    y0 = rng.uniform(inner - dy.min(), 1 - inner - dy.max()) if dy.max() - dy.min() < 1 - 2 * inner else None
    if x0 is None or y0 is None:
        raise Unlucky
    set_track(obj, x0 + dx, y0 + dy)
    events = [
        event("start", 0, fps, object=obj["id"], heading=first),
        event("turn", turn, fps, object=obj["id"], heading=second),
    ]
    meta = world("direction", settings, frames, [obj], events)
    meta["query"] = qa.multiple_choice(
        "path", f"What is the movement path of the {obj['name']}?", qa.star_options(path, _paths_near, 4, rng)
    )
    return meta


def solve_direction(meta):
    points = track(subject(meta))[:, :2]
    moves = np.diff(points, axis=0)
    moving = np.flatnonzero(np.abs(moves).sum(axis=1) > MOVING)
    first, last = moves[moving[0]], moves[moving[-1]]
    return _path(heading_name(*first), heading_name(*last))


def narrate_direction(meta):
    obj, (start, turn) = subject(meta), meta["events"]
    points = obj["track"]
    steps = [
        Step(start["ms"], f"the {obj['name']} is in the {region(*points[0][:2])} and moves {start['heading']}."),
        Step(
            turn["ms"],
            f"it changes course in the {region(*points[turn['frame']][:2])} and moves {turn['heading']} until the "
            f"end, in the {region(*points[-1][:2])}.",
        ),
    ]
    return (
        f"I watch where the {obj['name']} goes and when its heading changes.",
        steps,
        f"So it moves first {start['heading']}, then {turn['heading']}.",
    )


# ---- 3. trajectory shape ---------------------------------------------------------------------

SHAPE_TEXT = {"linear": "A straight line", "circular": "A circle", "zigzag": "A zigzag"}


def simulate_trajectory(settings, rng):
    return _trajectory(settings, rng, qa.choose(rng, list(SHAPE_TEXT)))


@retry
def _trajectory(settings, rng, kind):
    frames, fps = num_frames(settings, rng), settings["fps"]
    obj = make_objects(rng, 1)[0]
    u = np.linspace(0, 1, frames)
    events = [event("start", 0, fps, object=obj["id"])]
    if kind == "circular":
        centre, radius = rng.uniform(0.38, 0.62, 2), rng.uniform(0.18, 0.26)
        spin = qa.choose(rng, [1, -1])
        theta = rng.uniform(0, 2 * math.pi) + spin * 2 * math.pi * rng.uniform(1.0, 1.2) * u
        x, y = centre[0] + radius * np.cos(theta), centre[1] + radius * np.sin(theta)
        for quarter in range(1, 4):
            events.append(event("checkpoint", round(quarter * (frames - 1) / 4), fps, object=obj["id"]))
    else:
        heading = rng.uniform(0, 2 * math.pi)
        along, across = (
            np.array([math.cos(heading), math.sin(heading)]),
            np.array([-math.sin(heading), math.cos(heading)]),
        )
        length = rng.uniform(0.45, 0.65)
        offset = np.zeros(frames)
        if kind == "zigzag":
            zigs = int(rng.integers(3, 6))
            phase = u * zigs
            offset = rng.uniform(0.07, 0.1) * (2 * np.abs(2 * (phase - np.floor(phase + 0.5))) - 1)
            for k in range(1, 2 * zigs):
                events.append(
                    event(
                        "turn", round(k / (2 * zigs) * (frames - 1) + (frames - 1) / (4 * zigs)), fps, object=obj["id"]
                    )
                )
        start = rng.uniform(0.25, 0.75, 2) - along * length / 2
        x = start[0] + along[0] * length * u + across[0] * offset
        y = start[1] + along[1] * length * u + across[1] * offset
    set_track(obj, x, y)
    events = [e for e in events if e["frame"] < frames - 1] + [event("end", frames - 1, fps, object=obj["id"])]
    meta = world("trajectory_shape", settings, frames, [obj], events)
    meta["profile"] = kind
    meta["query"] = qa.multiple_choice(
        "shape",
        f"What shape is the path the {obj['name']} travels along?",
        qa.uniform_options(SHAPE_TEXT[kind], SHAPE_TEXT.values(), 3, rng),
    )
    return meta


def solve_trajectory(meta):
    points = track(subject(meta))[:, :2]
    chord = points[-1] - points[0]
    normal = np.array([-chord[1], chord[0]]) / max(np.linalg.norm(chord), 1e-9)
    if np.abs((points - points[0]) @ normal).max() < 0.02:
        return SHAPE_TEXT["linear"]
    # Headings over 3-frame strides, so the tracks' 4-decimal rounding cannot fake a turn.
    moves = np.diff(points[::3], axis=0)
    turning = np.angle(np.exp(1j * np.diff(np.arctan2(moves[:, 1], moves[:, 0]))))
    if abs(np.degrees(turning.sum())) > 270 and np.all(np.sign(turning) == np.sign(turning.sum())):
        return SHAPE_TEXT["circular"]
    return SHAPE_TEXT["zigzag"]


def narrate_trajectory(meta):
    obj = subject(meta)
    points = obj["track"]
    steps = []
    for e in meta["events"]:
        where = region(*points[e["frame"]][:2])
        text = {
            "start": f"the {obj['name']} starts in the {where}.",
            "checkpoint": f"it has curved round to the {where}, still turning the same way.",
            "turn": f"in the {where} it reverses its sideways drift while still advancing.",
            "end": f"it ends in the {where}.",
        }[e["type"]]
        steps.append(Step(e["ms"], text))
    kind = solve_trajectory(meta)
    summary = {
        SHAPE_TEXT["linear"]: "Its heading never changes, so the path is a straight line.",
        SHAPE_TEXT["circular"]: "It keeps turning the same way and comes back round, so the path is a circle.",
        SHAPE_TEXT["zigzag"]: "It advances while swinging from side to side, so the path is a zigzag.",
    }[kind]
    return f"I follow the {obj['name']}'s path from start to end.", steps, summary


# ---- 4. speed perception ---------------------------------------------------------------------

SPEED_TEXT = {"accelerating": "Accelerating", "decelerating": "Decelerating", "constant": "Moving at a constant speed"}


def _progress(kind: str, u: np.ndarray, gap: float) -> np.ndarray:
    """Fraction of the path covered at times u; speed grows (or shrinks) by ``gap`` over the clip."""
    accelerating = (u + (gap - 1) * u**2 / 2) / (1 + (gap - 1) / 2)
    if kind == "accelerating":
        return accelerating
    if kind == "decelerating":
        return 1 - accelerating[::-1]
    return u


def _thirds(frames: int) -> list[tuple[int, int]]:
    cuts = [round(k * (frames - 1) / 3) for k in range(4)]
    return list(pairwise(cuts))


def _path_length(points: np.ndarray, start: int, end: int) -> float:
    return float(np.linalg.norm(np.diff(points[start : end + 1, :2], axis=0), axis=1).sum())


def simulate_speed(settings, rng):
    return _speed(settings, rng, qa.choose(rng, list(SPEED_TEXT)))


@retry
def _speed(settings, rng, kind):
    frames, fps = num_frames(settings, rng), settings["fps"]
    obj = make_objects(rng, 1)[0]
    heading = rng.uniform(0, 2 * math.pi)
    length = rng.uniform(0.5, 0.7)
    along = np.array([math.cos(heading), math.sin(heading)]) * length
    start = rng.uniform(0.2, 0.8, 2) - along / 2
    progress = _progress(kind, np.linspace(0, 1, frames), 1 + 2 * settings["speed_gap"])
    set_track(obj, start[0] + along[0] * progress, start[1] + along[1] * progress)
    events = [
        event("checkpoint", f, fps, object=obj["id"]) for f in sorted({c for pair in _thirds(frames) for c in pair})
    ]
    meta = world("speed_perception", settings, frames, [obj], events)
    meta["profile"] = kind
    meta["query"] = qa.multiple_choice(
        "speed",
        f"Is the {obj['name']} accelerating, decelerating, or moving at a constant speed?",
        qa.uniform_options(SPEED_TEXT[kind], SPEED_TEXT.values(), 3, rng),
    )
    return meta


def _speed_trend(points: np.ndarray, frames: int) -> str:
    (a, b), _, (c, d) = _thirds(frames)
    ratio = _path_length(points, c, d) / max(_path_length(points, a, b), 1e-9)
    return "accelerating" if ratio > 1.3 else "decelerating" if ratio < 1 / 1.3 else "constant"


def solve_speed(meta):
    return SPEED_TEXT[_speed_trend(track(subject(meta)), meta["num_frames"])]


def narrate_speed(meta):
    obj = subject(meta)
    points = track(obj)
    steps = [Step(frame_ms(0, fps_of(meta)), f"the {obj['name']} starts in the {region(*points[0][:2])}.")]
    for start, end in _thirds(meta["num_frames"]):
        steps.append(
            Step(
                frame_ms(end, fps_of(meta)),
                f"since the previous check it has covered {_path_length(points, start, end):.2f} of the frame width.",
            )
        )
    trend = _speed_trend(points, meta["num_frames"])
    summary = {
        "accelerating": "It covers more ground in each equal interval, so it is gaining speed.",
        "decelerating": "It covers less ground in each equal interval, so it is slowing down.",
        "constant": "It covers the same ground in each equal interval, so its speed is constant.",
    }[trend]
    return f"I compare how far the {obj['name']} moves in equal stretches of time.", steps, summary


# ---- 5. motion counting ----------------------------------------------------------------------


HOLD_SECONDS = (0.3, 0.5)
MOVE_SECONDS = (0.3, 0.55)


def simulate_motion_count(settings, rng):
    return _motion_count(settings, rng, sample_range(rng, settings["moves"], integer=True))


@retry
def _motion_count(settings, rng, moves):
    """``moves`` moves in a clip whose length is drawn for the most moves the settings allow, so
    that the clip's length (its number of video tokens) says nothing about the count."""
    fps = settings["fps"]
    obj = make_objects(rng, 1)[0]
    inner = WALL + obj["radius"] + 0.02
    position = rng.uniform(inner, 1 - inner, 2)
    most = int(np.max(settings["moves"]))
    frames = round(
        rng.uniform(1.0, 1.2) * (most * MOVE_SECONDS[1] / settings["speed"] + (most + 1) * HOLD_SECONDS[1]) * fps
    )
    lengths = [round(rng.uniform(*MOVE_SECONDS) / settings["speed"] * fps) for _ in range(moves)]
    spare = frames - sum(lengths) - (moves + 1) * round(HOLD_SECONDS[0] * fps)
    if spare < 0:
        raise Unlucky
    holds = round(HOLD_SECONDS[0] * fps) + np.diff(
        np.round(np.concatenate([[0], np.sort(rng.uniform(0, spare, moves)), [spare]]))
    ).astype(int)
    xs, ys, events = [], [], []

    def hold(count):
        for _ in range(count):
            xs.append(position[0])
            ys.append(position[1])

    hold(int(holds[0]))
    for k in range(moves):
        target = rng.uniform(inner, 1 - inner, 2)
        if np.linalg.norm(target - position) < 0.2:
            raise Unlucky
        steps = lengths[k]
        events.append(event("move_start", len(xs) - 1, fps, object=obj["id"], move=k + 1))
        for s in range(1, steps + 1):
            point = position + (target - position) * (0.5 - 0.5 * math.cos(math.pi * s / steps))
            xs.append(point[0])
            ys.append(point[1])
        position = target
        events.append(event("move_end", len(xs) - 1, fps, object=obj["id"], move=k + 1))
        hold(int(holds[k + 1]))
    set_track(obj, xs, ys)
    meta = world("motion_count", settings, len(xs), [obj], events)
    meta["query"] = qa.open_number(
        "moves", f"The {obj['name']} moves, stops, and moves again. How many separate moves does it make?"
    )
    return meta


def solve_motion_count(meta):
    points = track(subject(meta))[:, :2]
    moving = np.abs(np.diff(points, axis=0)).sum(axis=1) > MOVING
    return str(int(np.sum(moving[1:] & ~moving[:-1]) + moving[0]))


def narrate_motion_count(meta):
    obj = subject(meta)
    points = obj["track"]
    steps = []
    for e in meta["events"]:
        where = region(*points[e["frame"]][:2])
        text = (
            f"the {obj['name']} starts move {e['move']} from the {where}."
            if e["type"] == "move_start"
            else f"it stops in the {where}."
        )
        steps.append(Step(e["ms"], text))
    count = len([e for e in meta["events"] if e["type"] == "move_start"])
    return (
        f"I count each time the {obj['name']} sets off after standing still.",
        steps,
        f"It makes {count} separate moves.",
    )


# ---- 6. attribute change ---------------------------------------------------------------------

ATTRIBUTE_TEXT = {"colour": "Its colour", "size": "Its size", "shape": "Its shape", "none": "Nothing changes"}


def simulate_attribute(settings, rng):
    return _attribute(settings, rng, qa.choose(rng, list(ATTRIBUTE_TEXT)))


@retry
def _attribute(settings, rng, kind):
    frames, fps = num_frames(settings, rng), settings["fps"]
    obj, other = make_objects(rng, 2)
    for thing, lane in ((obj, 0.3), (other, 0.7)):
        y = np.full(frames, lane + rng.uniform(-0.05, 0.05))
        x0, drift = rng.uniform(0.3, 0.7), rng.uniform(-0.15, 0.15)
        set_track(thing, x0 + drift * np.linspace(0, 1, frames), y)
    events = [event("start", 0, fps), event("end", frames - 1, fps)]
    if kind != "none":
        frame = int(rng.integers(round(frames * 0.3), round(frames * 0.7)))
        if kind == "colour":
            to = qa.choose(rng, [c for c in OBJECT_COLOURS if c not in (obj["colour"], other["colour"])])
        elif kind == "shape":
            to = qa.choose(rng, [s for s in SHAPES if s != obj["shape"]])
        else:
            to = round(obj["radius"] * qa.choose(rng, [1.6, 0.6]), 3)
        obj["changes"] = [{"frame": frame, "attribute": "radius" if kind == "size" else kind, "to": to}]
        events.append(event("change", frame, fps, object=obj["id"], attribute=kind, to=to))
    meta = world("attribute_change", settings, frames, [obj, other], events)
    meta["query"] = qa.multiple_choice(
        "attribute",
        f"Which property of the {obj['name']} changes during the video?",
        qa.uniform_options(ATTRIBUTE_TEXT[kind], ATTRIBUTE_TEXT.values(), 4, rng),
    )
    return meta


def solve_attribute(meta):
    obj = subject(meta)
    first, last = attributes_at(obj, 0), attributes_at(obj, meta["num_frames"] - 1)
    changed = [k for k in ("colour", "shape", "radius") if first[k] != last[k]]
    return ATTRIBUTE_TEXT[{"radius": "size"}.get(changed[0], changed[0]) if changed else "none"]


def narrate_attribute(meta):
    obj = subject(meta)
    steps = [Step(0, f"the {obj['name']} is on screen together with the {meta['objects'][1]['name']}.")]
    changes = [e for e in meta["events"] if e["type"] == "change"]
    for e in changes:
        if e["attribute"] == "size":
            text = (
                f"the {obj['name']} suddenly becomes {'larger' if e['to'] > obj['radius'] else 'smaller'}; its "
                "colour and shape stay the same."
            )
        elif e["attribute"] == "colour":
            text = f"the {obj['name']} turns {e['to']}; its size and shape stay the same."
        else:
            text = f"the {obj['name']} turns into a {e['to']}; its colour and size stay the same."
        steps.append(Step(e["ms"], text))
    end_ms = frame_ms(meta["num_frames"] - 1, fps_of(meta))
    if not changes:
        steps.append(Step(end_ms, f"the {obj['name']} still has the colour, size and shape it started with."))
    return (
        f"I compare the {obj['name']}'s colour, size and shape over time.",
        steps,
        f"So the answer is: {solve_attribute(meta).lower()}.",
    )


# ---- 7. rotation -----------------------------------------------------------------------------

SPIN_TEXT = {"clockwise": "Clockwise", "counter-clockwise": "Counter-clockwise", "none": "It is not spinning"}


def simulate_rotation(settings, rng):
    return qa.balanced(
        lambda: _rotation(settings, rng), lambda meta: (meta["query"]["kind"], solve_rotation(meta)), rng
    )[0]


@retry
def _rotation(settings, rng):
    frames, fps = num_frames(settings, rng), settings["fps"]
    obj = make_objects(rng, 1, shapes=ORIENTED_SHAPES, radius=(0.1, 0.14))[0]
    kind = qa.choose(rng, ["count", "direction"])
    spin = qa.choose(rng, ["clockwise", "counter-clockwise"] + (["none"] if kind == "direction" else []))
    turns = sample_range(rng, settings["turns"], integer=True) if spin != "none" else 0
    total = 0.0 if spin == "none" else 360 * turns + rng.uniform(40, 140)
    sign = -1 if spin == "counter-clockwise" else 1
    angle = rng.uniform(0, 360) + sign * total * np.linspace(0, 1, frames)
    if total / frames > 25:
        raise Unlucky  # faster than 25 degrees a frame reads as a flicker, not a turn
    centre = rng.uniform(0.35, 0.65, 2)
    set_track(obj, np.full(frames, centre[0]), np.full(frames, centre[1]), angle)
    events = [event("spin_start", 0, fps, object=obj["id"], direction=spin)]
    swept = np.abs(angle - angle[0])
    for k in range(1, turns + 1):
        events.append(
            event("turn_completed", int(np.argmax(swept >= 360 * k)), fps, object=obj["id"], turn=k, direction=spin)
        )
    meta = world("rotation", settings, frames, [obj], events)
    if kind == "count":
        meta["query"] = qa.open_number("turns", f"How many full turns does the {obj['name']} complete?")
    else:
        meta["query"] = qa.multiple_choice(
            "spin",
            f"Is the {obj['name']} spinning clockwise or counter-clockwise?",
            qa.uniform_options(SPIN_TEXT[spin], SPIN_TEXT.values(), 3, rng),
        )
    return meta


def _total_rotation(obj) -> float:
    angles = track(obj)[:, 2]
    return float(np.sum((np.diff(angles) + 180) % 360 - 180))


def solve_rotation(meta):
    total = _total_rotation(subject(meta))
    if meta["query"]["kind"] == "turns":
        return str(int(abs(total) // 360))
    return SPIN_TEXT["none" if abs(total) < 1 else "clockwise" if total > 0 else "counter-clockwise"]


def narrate_rotation(meta):
    obj = subject(meta)
    start, *turns = meta["events"]
    if start["direction"] == "none":
        steps = [Step(start["ms"], f"the {obj['name']} points the same way as at the end: it never turns.")]
        return f"I watch which way the {obj['name']} points over time.", steps, "It does not spin."
    steps = [Step(start["ms"], f"the {obj['name']} starts turning {start['direction']}.")]
    steps += [Step(e["ms"], f"it is back to its starting orientation: full turn {e['turn']}.") for e in turns]
    total = abs(_total_rotation(obj))
    return (
        f"I track the {obj['name']}'s orientation and count returns to its starting orientation.",
        steps,
        f"It turns {total:.0f} degrees {start['direction']} in all, which is {len(turns)} full turns.",
    )


# ---- 8. relative position --------------------------------------------------------------------


def simulate_relative(settings, rng):
    return qa.balanced(lambda: _relative(settings, rng), lambda meta: ("crossings", solve_relative(meta)), rng)[0]


@retry
def _relative(settings, rng):
    frames, fps = num_frames(settings, rng), settings["fps"]
    mover, anchor = make_objects(rng, 2)
    u = np.linspace(0, 1, frames)
    anchor_x = rng.uniform(0.3, 0.7) + rng.uniform(-0.1, 0.1) * u
    cycles = rng.uniform(0.8, 2.6) * settings["speed"]
    mover_x = anchor_x + rng.uniform(0.15, 0.3) * np.sin(2 * math.pi * cycles * u + rng.uniform(0, 2 * math.pi))
    set_track(mover, mover_x, np.full(frames, rng.uniform(0.2, 0.35)))
    set_track(anchor, anchor_x, np.full(frames, rng.uniform(0.65, 0.8)))
    side = np.sign(track(mover)[:, 0] - track(anchor)[:, 0])
    if np.any(side == 0):
        raise Unlucky
    crossings = np.flatnonzero(side[1:] != side[:-1]) + 1
    if len(crossings) == 0 or crossings[0] < 4 or crossings[-1] > frames - 5 or np.any(np.diff(crossings) < 6):
        raise Unlucky
    events = [event("start", 0, fps)] + [
        event("crossing", f, fps, object=mover["id"], now="right" if side[f] > 0 else "left") for f in crossings
    ]
    meta = world("relative_position", settings, frames, [mover, anchor], events)
    meta["query"] = qa.open_number(
        "crossings",
        f"How many times does the {mover['name']} pass the {anchor['name']} horizontally, going from one side of it "
        "to the other?",
    )
    return meta


def solve_relative(meta):
    mover, anchor = meta["objects"]
    side = np.sign(track(mover)[:, 0] - track(anchor)[:, 0])
    return str(int(np.sum(side[1:] != side[:-1])))


def narrate_relative(meta):
    mover, anchor = meta["objects"]
    first = "right" if mover["track"][0][0] > anchor["track"][0][0] else "left"
    steps = [Step(0, f"the {mover['name']} starts to the {first} of the {anchor['name']}.")]
    crossings = [e for e in meta["events"] if e["type"] == "crossing"]
    steps += [
        Step(e["ms"], f"the {mover['name']} passes the {anchor['name']} and is now to its {e['now']} (pass {i + 1}).")
        for i, e in enumerate(crossings)
    ]
    return (
        f"I watch which side of the {anchor['name']} the {mover['name']} is on.",
        steps,
        f"It passes the {anchor['name']} {len(crossings)} times.",
    )


# ---- lanes: objects bouncing left-right in horizontal lanes (9, 10) ---------------------------


def _lanes(settings, rng, speeds, speed_scales=None) -> tuple[list[dict], list[dict]]:
    frames = len(speed_scales[0]) if speed_scales else None
    count = len(speeds)
    objects = make_objects(rng, count)
    lanes = np.linspace(0.2, 0.8, count)
    events = []
    for i, (obj, speed) in enumerate(zip(objects, speeds)):
        inner = WALL + obj["radius"]
        scale = speed_scales[i] if speed_scales else None
        x, contacts = bounce(
            rng.uniform(inner, 1 - inner),
            speed * qa.choose(rng, [1, -1]),
            inner,
            1 - inner,
            frames,
            settings["fps"],
            scale,
        )
        set_track(obj, x, np.full(frames, lanes[i]))
        obj["speed"] = round(float(speed), 4)  # box widths per second at the start
        events += [
            event("wall", f, settings["fps"], object=obj["id"], wall="left" if side == "lo" else "right")
            for f, side in contacts
        ]
    return objects, events


# ---- 9. acceleration detection ---------------------------------------------------------------


@retry
def simulate_acceleration(settings, rng):
    frames, fps = num_frames(settings, rng), settings["fps"]
    count = sample_range(rng, settings["objects"], integer=True)
    speeds = np.sort(rng.uniform(0.25, 0.6, count)) * settings["speed"]
    changer = int(rng.integers(count))
    gap = 1 + 2 * settings["speed_gap"]
    ramp = np.linspace(1, gap, frames) if rng.random() < 0.5 else np.linspace(1, 1 / gap, frames)
    scales = [ramp if i == changer else np.ones(frames) for i in range(count)]
    speeds[changer] = speeds[changer] if ramp[-1] < 1 else speeds[changer] / math.sqrt(gap)
    objects, walls = _lanes(settings, rng, speeds, scales)
    fast_or_slow = "speeds up" if ramp[-1] > 1 else "slows down"
    objects[0], objects[changer] = objects[changer], objects[0]  # the subject first, as for every scenario
    checkpoints = [event("checkpoint", f, fps) for f in sorted({c for pair in _thirds(frames) for c in pair})]
    meta = world("acceleration_detection", settings, frames, objects, checkpoints + walls)
    meta["changing"] = fast_or_slow
    names = [o["name"] for o in objects]
    meta["query"] = qa.multiple_choice(
        "changing",
        "Several objects slide left and right. Which one changes its speed during the video?",
        qa.uniform_options(names[0], names[1:], min(4, count), rng),
    )
    return meta


def _lane_speed_ratio(obj, frames: int) -> float:
    (a, b), _, (c, d) = _thirds(frames)
    return lane_speed(obj, slice(c, d + 1)) / max(lane_speed(obj, slice(a, b + 1)), 1e-9)


def solve_acceleration(meta):
    ratios = [abs(math.log(max(_lane_speed_ratio(o, meta["num_frames"]), 1e-9))) for o in meta["objects"]]
    return meta["objects"][int(np.argmax(ratios))]["name"]


def narrate_acceleration(meta):
    frames, fps = meta["num_frames"], fps_of(meta)
    (a, b), _, (c, d) = _thirds(frames)
    steps = [
        Step(
            frame_ms(end, fps),
            f"over the {which} third, "
            + "; ".join(
                f"the {o['name']} moves {lane_speed(o, slice(start, end + 1)) * fps:.2f} widths per second"
                for o in meta["objects"]
            )
            + ".",
        )
        for which, (start, end) in (("first", (a, b)), ("last", (c, d)))
    ]
    return (
        "I compare each object's speed early and late in the clip.",
        steps,
        f"Only the {solve_acceleration(meta)} {meta['changing']}; the others keep their speed.",
    )


# ---- 10. velocity comparison -----------------------------------------------------------------


def _ranking(names) -> str:
    return " > ".join(names)


@retry
def simulate_velocity(settings, rng):
    frames, fps = num_frames(settings, rng), settings["fps"]
    count = sample_range(rng, settings["objects"], integer=True)
    gap = 1 + settings["speed_gap"] / 2
    base = rng.uniform(0.2, 0.35) * settings["speed"]
    speeds = base * gap ** rng.permutation(count)
    objects, walls = _lanes(settings, rng, speeds, [np.ones(frames)] * count)
    meta = world(
        "velocity_comparison",
        settings,
        frames,
        objects,
        [event("checkpoint", 0, fps), event("checkpoint", frames - 1, fps)] + walls,
    )
    order = [objects[i]["name"] for i in np.argsort(-speeds)]
    options = qa.star_options(_ranking(order), qa.order_swaps(" > "), min(4, math.factorial(count)), rng)
    meta["query"] = qa.multiple_choice("ranking", "Rank the objects from fastest to slowest.", options)
    return meta


def solve_velocity(meta):
    speeds = [lane_speed(o, slice(None)) for o in meta["objects"]]
    return _ranking(meta["objects"][i]["name"] for i in np.argsort(-np.asarray(speeds), kind="stable"))


def narrate_velocity(meta):
    fps, frames = fps_of(meta), meta["num_frames"]
    seconds = (frames - 1) / fps
    steps = [Step(0, "all objects start sliding along their lanes, bouncing off the side walls.")]
    steps.append(
        Step(
            frame_ms(frames - 1, fps),
            "by the end, "
            + "; ".join(
                f"the {o['name']} has covered {lane_speed(o, slice(None)) * (frames - 1):.2f} widths "
                f"({lane_speed(o, slice(None)) * fps:.2f} per second)"
                for o in meta["objects"]
            )
            + ".",
        )
    )
    return (
        f"I measure how much ground each object covers in the {seconds:.1f} seconds.",
        steps,
        f"Fastest to slowest: {solve_velocity(meta)}.",
    )


# ---- 11. distance estimation -----------------------------------------------------------------

TREND_TEXT = {
    "increases": "It keeps increasing",
    "decreases": "It keeps decreasing",
    "dip": "It first decreases, then increases",
    "peak": "It first increases, then decreases",
}
NEAR, FAR = 0.22, 0.5


def simulate_distance(settings, rng):
    return _distance(settings, rng, qa.choose(rng, list(TREND_TEXT)))


@retry
def _distance(settings, rng, trend):
    frames, fps = num_frames(settings, rng), settings["fps"]
    first, second = make_objects(rng, 2, radius=(0.04, 0.06))
    u = np.linspace(0, 1, frames)
    turn = rng.uniform(0.35, 0.65)
    rising = NEAR + (FAR - NEAR) * u
    profile = {
        "increases": rising,
        "decreases": rising[::-1],
        "dip": np.where(u < turn, FAR - (FAR - NEAR) * u / turn, NEAR + (FAR - NEAR) * (u - turn) / (1 - turn)),
        "peak": np.where(u < turn, NEAR + (FAR - NEAR) * u / turn, FAR - (FAR - NEAR) * (u - turn) / (1 - turn)),
    }[trend]
    heading = rng.uniform(0, 2 * math.pi) + np.radians(rng.uniform(-50, 50)) * u
    base = rng.uniform(0.35, 0.65, 2)[:, None] + rng.uniform(-0.1, 0.1, 2)[:, None] * u
    set_track(second, base[0], base[1])
    set_track(first, base[0] + profile * np.cos(heading), base[1] + profile * np.sin(heading))
    distance = _distances([first, second])
    events = [event("checkpoint", 0, fps, distance=round(float(distance[0]), 2))]
    if trend in ("dip", "peak"):
        extreme = int(np.argmin(distance) if trend == "dip" else np.argmax(distance))
        events.append(
            event(
                "closest" if trend == "dip" else "farthest", extreme, fps, distance=round(float(distance[extreme]), 2)
            )
        )
    events.append(event("checkpoint", frames - 1, fps, distance=round(float(distance[-1]), 2)))
    meta = world("distance_estimation", settings, frames, [first, second], events)
    meta["profile"] = trend
    meta["query"] = qa.multiple_choice(
        "trend",
        f"How does the distance between the {first['name']} and the {second['name']} change over the video?",
        qa.uniform_options(TREND_TEXT[trend], TREND_TEXT.values(), 4, rng),
    )
    return meta


def _distances(objects) -> np.ndarray:
    a, b = track(objects[0])[:, :2], track(objects[1])[:, :2]
    return np.linalg.norm(a - b, axis=1)


def solve_distance(meta):
    distance = _distances(meta["objects"])
    low, high = int(np.argmin(distance)), int(np.argmax(distance))
    inside = range(round(0.15 * len(distance)), round(0.85 * len(distance)))
    margin = 0.05
    if low in inside and distance[0] - distance[low] > margin and distance[-1] - distance[low] > margin:
        return TREND_TEXT["dip"]
    if high in inside and distance[high] - distance[0] > margin and distance[high] - distance[-1] > margin:
        return TREND_TEXT["peak"]
    return TREND_TEXT["increases" if distance[-1] > distance[0] else "decreases"]


def narrate_distance(meta):
    first, second = meta["objects"]
    words = {
        "checkpoint": "apart",
        "closest": "apart, the closest they get",
        "farthest": "apart, the farthest they get",
    }
    steps = [
        Step(
            e["ms"],
            f"the {first['name']} and the {second['name']} are {e['distance']:.2f} frame widths {words[e['type']]}.",
        )
        for e in meta["events"]
    ]
    return "I follow the gap between the two objects through the clip.", steps, f"So: {solve_distance(meta).lower()}."


# ---- 12. sequential event ordering -----------------------------------------------------------

JUMP = 0.15  # jump height in box units


def _sequence(names) -> str:
    return ", then ".join(names)


@retry
def simulate_ordering(settings, rng):
    frames, fps = num_frames(settings, rng), settings["fps"]
    count = sample_range(rng, settings["objects"], integer=True)
    objects = make_objects(rng, count)
    gap = round(0.15 * fps)  # jumps never overlap, so their order is clear
    spacing = min(round(0.45 * fps / settings["speed"]) + gap, (frames - 6) // count)  # shorter jumps when crowded
    jump_frames = spacing - gap
    if jump_frames < 8:
        raise CannotGenerate(f"{count} jumps do not fit in {frames} frames; lengthen the clip")
    free = frames - 6 - count * spacing
    starts = 3 + np.sort(rng.integers(0, free + 1, count)) + spacing * np.arange(count)
    order = rng.permutation(count)
    xs = np.linspace(0.2, 0.8, count)
    events = []
    for slot, obj in enumerate(objects):
        start = int(starts[int(np.flatnonzero(order == slot)[0])])
        lift = np.zeros(frames)
        lift[start : start + jump_frames + 1] = JUMP * np.sin(np.pi * np.arange(jump_frames + 1) / jump_frames)
        set_track(obj, np.full(frames, xs[slot]), 0.65 - lift)
        events.append(event("jump", start, fps, object=obj["id"], peak_frame=start + jump_frames // 2))
    meta = world("event_ordering", settings, frames, objects, events)
    truth = [next(o["name"] for o in objects if o["id"] == e["object"]) for e in meta["events"]]
    options = qa.star_options(_sequence(truth), qa.order_swaps(", then "), min(4, math.factorial(count)), rng)
    meta["query"] = qa.multiple_choice("order", "Each object jumps once. In what order do they jump?", options)
    return meta


def solve_ordering(meta):
    peaks = [int(np.argmin(track(o)[:, 1])) for o in meta["objects"]]
    return _sequence(meta["objects"][i]["name"] for i in np.argsort(peaks, kind="stable"))


def narrate_ordering(meta):
    names = {o["id"]: o["name"] for o in meta["objects"]}
    steps = [Step(e["ms"], f"the {names[e['object']]} jumps (jump {i + 1}).") for i, e in enumerate(meta["events"])]
    return "I note the moment each object leaves the ground.", steps, f"The order is: {solve_ordering(meta)}."
