"""Types shared by every generator: what a generator is given and what it returns."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

SYSTEM_PROMPT = "Based on this video, provide the answer directly."
VIDEO_PLACEHOLDER = "<video>"


@dataclass(frozen=True)
class SampledClip:
    """Frames sampled evenly from a source, ``density`` frames per output slot.

    ``frames[::density]`` is the ordinary N-frame view; the extra frames in between
    let temporal perturbations (Slow, Fast) show the source at another speed.
    """

    frames: np.ndarray  # [N * density, H, W, 3] uint8
    source_times: np.ndarray  # [N * density] seconds on the source's timeline
    density: int
    fps: Fraction  # output frame rate: slot i is shown at i / fps

    @property
    def num_slots(self) -> int:
        return len(self.frames) // self.density

    @property
    def base_indices(self) -> np.ndarray:
        return np.arange(self.num_slots) * self.density

    def base_frames(self) -> np.ndarray:
        return self.frames[self.base_indices]


@dataclass
class Sample:
    """A generated question: its videos (frames per clip, presentation order), answer and proof."""

    clips: list[np.ndarray]
    question: str
    answer: str
    meta: dict
    reasoning: str | None = None
    system: str = SYSTEM_PROMPT


def single_video_lengths(meta: dict) -> list[int]:
    """Frames per output video for tasks that show one video of ``num_frames`` frames."""
    return [meta["num_frames"]]


def merge_settings(task: str, defaults: dict, params: dict) -> dict:
    """A task's default settings overridden by ``params``; unknown names are an error, not ignored."""
    unknown = set(params) - set(defaults)
    if unknown:
        raise ValueError(f"unknown {task} parameter(s): {', '.join(sorted(unknown))}")
    return {**defaults, **params}


def single_video_question(prompt: str) -> str:
    return f"{VIDEO_PLACEHOLDER}\n{prompt}"


def format_seconds(seconds: float) -> str:
    return f"{float(seconds):.1f}"


def fps_to_str(fps: Fraction) -> str:
    return f"{fps.numerator}/{fps.denominator}"


def fps_from_str(text: str) -> Fraction:
    return Fraction(text)


def sample_range(rng: np.random.Generator, bounds, integer: bool = False):
    """Draw from ``[lo, hi]`` (inclusive for integers); a scalar means that exact value."""
    if isinstance(bounds, (int, float)):
        return bounds
    lo, hi = bounds
    if integer:
        return int(rng.integers(int(lo), int(hi) + 1))
    return float(rng.uniform(float(lo), float(hi)))
