"""A task written the way a new one is: this module, its reward record and a registry entry, nothing
else. ``tests/test_registry.py`` registers it and takes it through build, validate, score and export.

The task: one frame of the clip is blacked out; which one?"""

from __future__ import annotations

import numpy as np

from videolake.generators.base import (
    Contact,
    Sample,
    SampledClip,
    Task,
    fps_to_str,
    merge_settings,
    single_video_question,
)
from videolake.rewards import Reward, formats, parse

NAME = "black_frame"
PROMPT = (
    "One frame of this video is black. Think inside <think></think>, then give its number (the first is 1) "
    "inside <answer></answer>."
)


def settings_for(params: dict) -> dict:
    return merge_settings(NAME, {}, {}, params)


def generate(
    clip: SampledClip, subtype: str, params: dict, rng: np.random.Generator, donor=None, annotation=None
) -> Sample:
    frames = clip.base_frames()
    black = int(rng.integers(len(frames)))
    frames[black] = 0
    meta = {"num_frames": len(frames), "fps": fps_to_str(clip.fps), "black": black}
    return Sample([frames], single_video_question(PROMPT), derive_answer(meta), meta)


def derive_answer(meta: dict) -> str:
    if not 0 <= meta["black"] < meta["num_frames"]:
        raise ValueError("the black frame is outside the video")
    return str(meta["black"] + 1)


def explain(meta: dict) -> str:
    return f"Frame {meta['black'] + 1} of {meta['num_frames']} is black."


def random_guess(meta: dict, fps: float, rng: np.random.Generator) -> str:
    return str(int(rng.integers(meta["num_frames"])) + 1)


def contact(meta: dict) -> Contact:
    return Contact({meta["black"]: "inside"}, "red: the black frame")


def black_frame(solution: str, truth: str, extra_info: dict) -> dict:
    accuracy = float(parse.parse_number(solution) == float(truth))
    fmt = formats.think_answer_format(solution)
    return {"score": fmt + accuracy, "format": fmt, "accuracy": accuracy}


TASK = Task(
    name=NAME,
    paper="he2026videossr",
    shows="a clip with one frame turned black; the answer is its index",
    generate=generate,
    derive_answer=derive_answer,
    settings_for=settings_for,
    reads=lambda subtype: (),
    random_guess=random_guess,
    contact=contact,
    explain=explain,
)
REWARD = Reward(
    black_frame, example_truth="7", described="format + exact frame index", maximum=2.0, completion=formats.think_answer
)
