"""SynRL: synthetic temporal-primitive videos whose answers come from the code that drew them.

Each of the 18 scenarios simulates a world into ``meta`` (per-frame tracks or a state history with
timed operations), poses a template question with distractors, writes a timestamped reasoning
trace from the event log, and renders the video from ``meta`` alone. ``derive_answer`` re-solves
the question from the per-frame data (short-term) or by replaying the operations (long-term).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from videolake.generators.base import Sample, merge_settings, single_video_question
from videolake.generators.synthetic import games, motion, qa
from videolake.generators.synthetic.longterm import MODES
from videolake.generators.synthetic.render import PalettedVideo

TASK = "synrl"
REASONING_PROMPT = "Watch the video, reason step by step inside <think></think>, then give only the final answer inside <answer></answer>."

DEFAULT_SETTINGS = {
    "size": 448,  # frame side in pixels (square, even)
    "fps": 30,
    # short-term motion
    "duration": [3.0, 4.0],  # clip length in seconds
    "speed": 1.0,  # scales every object speed
    "speed_gap": 1.0,  # how different speeds are (smaller is harder)
    "objects": [3, 4],  # objects in multi-object scenes (and on the shell-game grid)
    "moves": [2, 5],  # motion counting
    "turns": [1, 3],  # rotation: full turns
    # long-term state tracking
    "operations": [4, 6],
    "op_seconds": [0.5, 1.0],
    "reveal_seconds": 2.0,
    "items": [4, 6],  # cards in the pile, files in the directory
    "terms": [3, 4],  # numbers in the math expression
    "occlusion": True,  # shell game: cups hide the objects while they move
    "modes": list(MODES),
    "options": 4,  # multiple-choice options
}


@dataclass(frozen=True)
class Scenario:
    name: str
    horizon: str  # "short" (motion) or "long" (state tracking)
    simulate: Callable[[dict, np.random.Generator], dict]  # settings, rng -> meta with a query
    solve: Callable[[dict], str]  # meta -> the true answer text, from the per-frame data
    narrate: Callable[[dict], tuple]  # meta -> (opening, steps, conclusion)
    render: Callable[[dict], PalettedVideo]


def _motion(name: str, key: str) -> Scenario:
    return Scenario(name, "short", getattr(motion, f"simulate_{key}"), getattr(motion, f"solve_{key}"), getattr(motion, f"narrate_{key}"), motion.render)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        _motion("collision_count", "collisions"),
        _motion("direction", "direction"),
        _motion("trajectory_shape", "trajectory"),
        _motion("speed_perception", "speed"),
        _motion("motion_count", "motion_count"),
        _motion("attribute_change", "attribute"),
        _motion("rotation", "rotation"),
        _motion("relative_position", "relative"),
        _motion("acceleration_detection", "acceleration"),
        _motion("velocity_comparison", "velocity"),
        _motion("distance_estimation", "distance"),
        _motion("event_ordering", "ordering"),
    ]
    + [Scenario(g.name, "long", g.simulate, g.solve, g.narrate, g.render) for g in games.GAMES]
}


def settings_for(params: dict) -> dict:
    settings = merge_settings(TASK, DEFAULT_SETTINGS, params)
    if not isinstance(settings["size"], int) or settings["size"] < 64 or settings["size"] % 2:
        raise ValueError(f"synrl size must be an even integer >= 64, got {settings['size']!r}")
    if not isinstance(settings["fps"], int) or not 1 <= settings["fps"] <= 120:
        raise ValueError(f"synrl fps must be an integer in 1..120, got {settings['fps']!r}")
    unknown = set(settings["modes"]) - set(MODES)
    if unknown or not settings["modes"]:
        raise ValueError(f"synrl modes must be a non-empty list of {', '.join(MODES)}")
    if not isinstance(settings["options"], int) or not 2 <= settings["options"] <= len(qa.LETTERS):
        raise ValueError(f"synrl options must be an integer in 2..{len(qa.LETTERS)}")
    return settings


def generate(clip, subtype: str, params: dict, rng: np.random.Generator, donor=None) -> Sample:
    """``clip`` is unused: the video is rendered, not sampled."""
    scenario = SCENARIOS[subtype]
    meta = scenario.simulate(settings_for(params), rng)
    answer = qa.answer_for(meta["query"], scenario.solve(meta))
    reasoning = qa.write_trace(*scenario.narrate(meta), meta["query"], answer)
    question = single_video_question(meta["query"]["text"])
    return Sample([scenario.render(meta)], question, answer, meta, reasoning, system=REASONING_PROMPT)


def derive_answer(meta: dict) -> str:
    return qa.answer_for(meta["query"], SCENARIOS[meta["scenario"]].solve(meta))
