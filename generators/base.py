"""Types shared by every generator: what a generator is given, what it returns, and the ``Task``
record each task module declares about itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol

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


class Generate(Protocol):
    """Every task's ``generate``: ``clip`` is None for subtypes rendered from nothing, ``donor`` is set
    for subtypes that need a second clip, ``annotation`` for subtypes that read an annotated set."""

    def __call__(
        self,
        clip: SampledClip | None,
        subtype: str,
        params: dict,
        rng: np.random.Generator,
        donor: SampledClip | None = None,
        annotation: dict | None = None,
    ) -> Sample: ...


@dataclass(frozen=True)
class Task:
    """Everything the pipeline, validate, score, inspect and the exports know about a task, declared
    once in its module (``TASK = Task(...)``): a new task family is that module, its reward
    (``videolake.rewards.reward``), one line in ``videolake.generators.TASKS`` and tests."""

    name: str
    paper: str  # the source paper's BibTeX key in ``commands.publish.PAPERS`` (the card cites it)
    shows: str  # what the model is shown and asked, in one line (the card's task table)
    generate: Generate
    derive_answer: Callable[[dict], str]
    settings_for: Callable[[dict], dict]  # defaults + params, type- and range-checked
    reads: Callable[[str], tuple[str, ...]]  # the settings a subtype reads; a recipe may set no other
    random_guess: Callable[[dict, float, np.random.Generator], str]  # (meta, fps, rng): `score --baseline random`
    # None: the subtype is free (the tier name); otherwise the allowed subtypes.
    subtypes: tuple[str, ...] | None = None
    video_lengths: Callable[[dict], list[int]] = single_video_lengths  # frames of each output video, from meta
    contact: Callable[[dict], Contact] | None = None  # what `inspect` marks; None: the event-timeline strip
    trace_facts: Callable[[str], set[str]] | None = None  # what a polished reasoning trace must keep
    # The thinking of an SFT target for a sample without a reasoning trace, where the prompt asks for
    # one: a short account of the answer from meta, true by construction. None: the prompt asks for none.
    explain: Callable[[dict], str] | None = None
    interval_answers: bool = False  # `score` adds R@0.3/0.5/0.7 (the answer is scored by IoU)
    required_density: Callable[[str, dict], int] = lambda subtype, params: 1
    needs_donor: Callable[[str], bool] = lambda subtype: False
    needs_source: Callable[[str], bool] = lambda subtype: True  # False: rendered from nothing
    # The annotated set a subtype reads (pipeline.annotations.FORMATS), or None.
    annotation_format: Callable[[str], str | None] = lambda subtype: None
    # rows -> one dict per sample: grouped (every segment of a query), or only the rows the task uses
    select_annotations: Callable[[list[dict]], list[dict]] | None = None
    # The answer's form, for the guessers `audit` fits without the pixels: "exact" (a letter, number
    # or text matched whole), "counts" (per-shape counts), "interval" ("s-e"), "interval_to"
    # ("X to Y"), "segments" (MUSEG's "s-e s-e ..."), "boxes" (tracking), "letter_glue" (grounding QA).
    answer_form: str = "exact"


@dataclass(frozen=True)
class Subtype:
    """One way a task makes its samples, for tasks whose subtypes differ in more than their settings."""

    make: Callable[
        [SampledClip | None, dict, np.random.Generator, dict | None], Sample
    ]  # clip, settings, rng, annotation
    reads: tuple[str, ...]
    needs_source: bool = True  # False: rendered from nothing
    annotation_format: str | None = None


class Subtypes(dict[str, Subtype]):
    """A task's subtypes by name; its ``Task`` takes these bound methods as its per-subtype hooks."""

    def reads(self, subtype: str) -> tuple[str, ...]:
        return self[subtype].reads

    def needs_source(self, subtype: str) -> bool:
        return self[subtype].needs_source

    def annotation_format(self, subtype: str) -> str | None:
        return self[subtype].annotation_format


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
