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
    source_size: tuple[int, int] | None = None  # the source's (width, height) before fitting to the budget

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


@dataclass(frozen=True)
class Contact:
    """What a task's contact sheet marks: frame index -> mark ("inside", "shapes"), a note for the
    title, for multi-video tasks one label per video (each drawn as a row), and boxes to draw
    (frame index -> [x1, y1, x2, y2] in the video's pixels)."""

    marked: dict[int, str]
    note: str
    video_labels: list[str] | None = None
    boxes: dict[int, list[int]] | None = None


class CannotGenerate(Exception):
    """This sample cannot be made from this clip or these settings (a crowded frame, a clip too short
    for n segments): the build skips the sample and reports why. Deliberately not a ValueError, so a
    bug in a generator stops the build instead of quietly losing samples."""


@dataclass(frozen=True)
class Param:
    """One setting a generator reads: its type and inclusive bounds. ``span`` settings also take a
    ``[low, high]`` pair, drawn per sample; ``choices`` settings are non-empty lists of those values."""

    kind: type  # int, float or bool (list-valued settings: the member type of ``choices``)
    low: float | None = None
    high: float | None = None
    span: bool = False
    even: bool = False
    choices: tuple | None = None

    def describe(self) -> str:
        if self.kind is bool:
            return "true or false"
        if self.choices is not None:
            return f"a non-empty list of {', '.join(map(str, self.choices))}"
        noun = "integer" if self.kind is int else "number"
        what = f"{'an even' if self.even else 'an' if noun == 'integer' else 'a'} {noun} in [{self.low}, {self.high}]"
        return what + (" or a [low, high] pair of them" if self.span else "")

    def _scalar_ok(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.kind is int and not isinstance(value, int):
            return False
        return self.low <= value <= self.high and (not self.even or value % 2 == 0)

    def accepts(self, value) -> bool:
        if self.kind is bool:
            return isinstance(value, bool)
        if self.choices is not None:
            return isinstance(value, list) and bool(value) and all(v in self.choices for v in value)
        if self.span and isinstance(value, list):
            return len(value) == 2 and all(self._scalar_ok(v) for v in value) and value[0] <= value[1]
        return self._scalar_ok(value)


def merge_settings(task: str, defaults: dict, declared: dict[str, Param], params: dict) -> dict:
    """A task's default settings overridden by ``params``; unknown names and values outside their
    declared type or range are errors, never ignored."""
    unknown = set(params) - set(defaults)
    if unknown:
        raise ValueError(f"unknown {task} parameter(s): {', '.join(sorted(unknown))}")
    settings = {**defaults, **params}
    for name, value in params.items():
        if not declared[name].accepts(value):
            raise ValueError(f"{task} parameter {name} must be {declared[name].describe()}, got {value!r}")
    return settings


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
