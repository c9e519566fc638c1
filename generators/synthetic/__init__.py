"""SynRL: synthetic temporal-primitive videos whose answers come from the code that drew them.

Each of the 18 scenarios simulates a world into ``meta`` (per-frame tracks or a state history with
timed operations), poses a template question with distractors, writes a timestamped reasoning
trace from the event log, and renders the video from ``meta`` alone. ``derive_answer`` re-solves
the question from the per-frame data (short-term) or by replaying the operations (long-term).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from videolake.generators.base import Param, Sample, Task, merge_settings, single_video_question
from videolake.generators.synthetic import games, motion, qa
from videolake.generators.synthetic.longterm import MODES
from videolake.generators.synthetic.render import OBJECT_COLOURS, ORIENTED_SHAPES, SHAPES, PalettedVideo

NAME = "synrl"
REASONING_PROMPT = (
    "Watch the video, reason step by step inside <think></think>, then give only the final answer "
    "inside <answer></answer>."
)

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
PARAMETERS = {
    "size": Param(int, 64, 2048, even=True),
    "fps": Param(int, 1, 120),
    "duration": Param(float, 1.0, 60.0, span=True),
    "speed": Param(float, 0.25, 4.0),
    "speed_gap": Param(float, 0.25, 4.0),
    "objects": Param(int, 2, 6, span=True),
    "moves": Param(int, 1, 12, span=True),
    "turns": Param(int, 1, 8, span=True),
    "operations": Param(int, 2, 24, span=True),  # historical questions ask about a state strictly inside
    "op_seconds": Param(float, 0.25, 5.0, span=True),
    "reveal_seconds": Param(float, 0.5, 10.0, span=True),
    "items": Param(int, 3, 8, span=True),
    "terms": Param(int, 2, 8, span=True),
    "occlusion": Param(bool),
    "modes": Param(str, choices=tuple(MODES)),
    "options": Param(int, 2, len(qa.LETTERS)),
}


@dataclass(frozen=True)
class Scenario:
    name: str
    horizon: str  # "short" (motion) or "long" (state tracking)
    simulate: Callable[[dict, np.random.Generator], dict]  # settings, rng -> meta with a query
    solve: Callable[[dict], str]  # meta -> the true answer text, from the per-frame data
    narrate: Callable[[dict], tuple]  # meta -> (opening, steps, conclusion)
    render: Callable[[dict], PalettedVideo]
    reads: tuple[str, ...]  # the settings its simulation reads


def _motion(name: str, key: str, *reads: str) -> Scenario:
    return Scenario(
        name,
        "short",
        getattr(motion, f"simulate_{key}"),
        getattr(motion, f"solve_{key}"),
        getattr(motion, f"narrate_{key}"),
        motion.render,
        FRAME + reads,
    )


FRAME = ("size", "fps")  # every scenario
TIMELINE = FRAME + ("modes", "op_seconds", "options", "reveal_seconds")  # every long-term scenario
GAME_READS = {
    "card_pile": ("items", "operations"),
    "chip_cups": ("operations",),
    "file_system": ("items", "operations"),
    "math_trail": ("terms",),
    "grid_shell": ("objects", "occlusion", "operations"),
    "sliding_puzzle": ("operations",),
}

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in [
        _motion("collision_count", "collisions", "duration", "speed"),
        _motion("direction", "direction", "duration", "speed"),
        _motion("trajectory_shape", "trajectory", "duration"),
        _motion("speed_perception", "speed", "duration", "speed_gap"),
        _motion("motion_count", "motion_count", "moves", "speed"),
        _motion("attribute_change", "attribute", "duration"),
        _motion("rotation", "rotation", "duration", "turns"),
        _motion("relative_position", "relative", "duration", "speed"),
        _motion("acceleration_detection", "acceleration", "duration", "objects", "speed", "speed_gap"),
        _motion("velocity_comparison", "velocity", "duration", "objects", "speed", "speed_gap"),
        _motion("distance_estimation", "distance", "duration"),
        _motion("event_ordering", "ordering", "duration", "objects", "speed"),
    ]
    + [
        Scenario(g.name, "long", g.simulate, g.solve, g.narrate, g.render, TIMELINE + GAME_READS[g.name])
        for g in games.GAMES
    ]
}


def settings_for(params: dict) -> dict:
    return merge_settings(NAME, DEFAULT_SETTINGS, PARAMETERS, params)


def reads(subtype: str) -> tuple[str, ...]:
    return SCENARIOS[subtype].reads


def generate(clip, subtype: str, params: dict, rng: np.random.Generator, donor=None, annotation=None) -> Sample:
    """``clip`` is unused: the video is rendered, not sampled."""
    scenario = SCENARIOS[subtype]
    meta = scenario.simulate(settings_for(params), rng)
    answer = qa.answer_for(meta["query"], scenario.solve(meta))
    reasoning = qa.write_trace(*scenario.narrate(meta), meta["query"], answer)
    question = single_video_question(meta["query"]["text"])
    return Sample([scenario.render(meta)], question, answer, meta, reasoning, system=REASONING_PROMPT)


def derive_answer(meta: dict) -> str:
    return qa.answer_for(meta["query"], SCENARIOS[meta["scenario"]].solve(meta))


def _alternatives(words) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


# What a faithful rewording of a trace must keep, from the scenarios' own vocabularies.
ENTITY = re.compile(
    rf"\b\d{{2}}:\d{{2}}\.\d\b"  # timestamps
    rf"|\b(?:{_alternatives(OBJECT_COLOURS)}) (?:{_alternatives(SHAPES + ORIENTED_SHAPES)})\b"
    rf"|\b(?:{_alternatives(list(games.RANK_NAMES.values()) + games.RANKS)}) of "
    rf"(?:{_alternatives(games.SUITS.values())})\b"
    rf"|(?<![\w.])(?:{_alternatives(games.FILE_NAMES)})(?![\w.])"
    rf"|\bCup [A-Z]\b|\b(?:{_alternatives(games.CELLS)})\b"
    r"|(?<![\w.:])\d+(?:\.\d+)?(?![\w:])"  # numbers
)


def trace_facts(trace: str) -> set[str]:
    """The timestamps, objects, cards, files, cups, cells and numbers a trace states."""
    return set(ENTITY.findall(trace))


def random_guess(meta: dict, fps: float, rng: np.random.Generator) -> str:
    """A uniformly random option letter, or a digit 0-9 for open counting questions."""
    options = meta["query"]["options"]
    return qa.LETTERS[int(rng.integers(len(options)))] if options else str(int(rng.integers(0, 10)))


TASK = Task(
    name=NAME,
    paper="jiang2026synrl",
    shows="a rendered video of a short-term motion or long-term state-tracking scenario, with a timestamped reasoning trace",
    generate=generate,
    derive_answer=derive_answer,
    settings_for=settings_for,
    reads=reads,
    random_guess=random_guess,
    subtypes=tuple(SCENARIOS),
    trace_facts=trace_facts,
    needs_source=lambda subtype: False,
)
