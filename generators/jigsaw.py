"""Temporal jigsaw: cut the video into n equal clips, present them shuffled; answer = pi^-1 (Eq. 3)."""

from __future__ import annotations

import numpy as np

from videolake.generators.base import (
    VIDEO_PLACEHOLDER,
    CannotGenerate,
    Contact,
    Param,
    Sample,
    SampledClip,
    Task,
    fps_to_str,
    merge_settings,
)
from videolake.generators.prompts import number_word

NAME = "temporal_jigsaw"
DEFAULT_SETTINGS = {"segments": 6, "quiet_window": 1}
PARAMETERS = {
    "segments": Param(int, 2, 64),
    # k > 1: the clips come from the stillest 1/k of the video, sampled k times more densely (the
    # same number of frames): low motion leaves fewer cues to the order. 1: the whole video.
    "quiet_window": Param(int, 1, 8),
}
ORDINALS = {1: "1st", 2: "2nd", 3: "3rd"}
# The worked examples of the reference prompts (Figure 11's 6-clip and the released 8-clip wording);
# other lengths extend the 6-clip example by swapping each further pair.
REFERENCE_EXAMPLES = {6: [3, 4, 1, 5, 6, 2], 8: [5, 1, 8, 2, 7, 4, 6, 3]}


def settings_for(params: dict) -> dict:
    return merge_settings(NAME, DEFAULT_SETTINGS, PARAMETERS, params)


def reads(subtype: str) -> tuple[str, ...]:
    return tuple(PARAMETERS)


def required_density(subtype: str, params: dict) -> int:
    return settings_for(params)["quiet_window"]


def quietest_window(frames: np.ndarray, length: int) -> int:
    """Start of the run of ``length`` consecutive frames with the least change between neighbours
    (mean absolute difference of 4x-downscaled grey frames); the earliest on ties."""
    grey = frames[:, ::4, ::4].astype(np.float32).mean(axis=-1)
    change = np.abs(np.diff(grey, axis=0)).mean(axis=(1, 2))
    totals = np.convolve(change, np.ones(length - 1), mode="valid") if length > 1 else np.zeros(len(frames))
    return int(np.argmin(totals))


def answer_string(positions: list[int]) -> str:
    """Digits run together up to 9 clips; from 10 clips on, positions are comma-separated."""
    separator = "" if len(positions) <= 9 else ","
    return separator.join(str(p) for p in positions)


def _example(n: int) -> list[int]:
    if n in REFERENCE_EXAMPLES:
        return list(REFERENCE_EXAMPLES[n])
    if n < 6:
        return list(range(2, n + 1)) + [1]
    example = list(REFERENCE_EXAMPLES[6])
    for first in range(7, n + 1, 2):
        example += [first + 1, first] if first + 1 <= n else [first]
    return example


def prompt(n: int) -> str:
    """Figure 11's wording for n clips (n = 6 and n = 8 reproduce the reference prompts exactly)."""
    example = _example(n)
    steps = [
        f"the clip at position {example[0]} of this video is the true beginning (the 1st clip of the original video)"
    ]
    for rank, position in enumerate(example[1:-1], start=2):
        steps.append(f"the clip at position {position} is the {ORDINALS.get(rank, f'{rank}th')} part")
    steps.append(f"and finally the clip at position {example[-1]} is the {ORDINALS.get(n, f'{n}th')} part")
    if n <= 9:
        article = "an" if number_word(n)[0] in "aeiou" else "a"
        form = f"{article} {number_word(n)}-digit number"
    else:
        form = f"{n} comma-separated numbers"
    return (
        f"This video is presented as {n} separate clips, which are in a shuffled order. Your task is to "
        f"determine the correct chronological sequence. Please output {form} that specifies the order in "
        f"which to play the clips you are seeing (labeled 1 through {n} by their position). For example, if "
        f"you decide that {', '.join(steps)}, then your answer should be '{answer_string(example)}'."
    )


def question_for(n: int) -> str:
    clips = "\n".join(f"Clip {k}: {VIDEO_PLACEHOLDER}" for k in range(1, n + 1))
    return f"{clips}\n{prompt(n)}"


def generate(
    clip: SampledClip, subtype: str, params: dict, rng: np.random.Generator, donor=None, annotation=None
) -> Sample:
    settings = settings_for(params)
    n, window = settings["segments"], settings["quiet_window"]
    slots = clip.num_slots
    start = quietest_window(clip.frames, slots) if window > 1 else 0
    indices = np.arange(start, start + slots) if window > 1 else clip.base_indices
    frames = clip.frames[indices]
    seg_len = len(frames) // n
    if seg_len < 1:
        raise CannotGenerate(f"{len(frames)} frames cannot make {n} clips")
    while True:  # a shuffle that leaves every clip in place is no puzzle
        shown = rng.permutation(n)  # shown[j] = original clip at presentation position j (pi, 0-based)
        if not np.array_equal(shown, np.arange(n)):
            break
    clips = [frames[k * seg_len : (k + 1) * seg_len] for k in shown]
    meta = {
        "num_frames": n * seg_len,
        "fps": fps_to_str(clip.fps * window),
        "segments": n,
        "segment_frames": seg_len,
        "presented_order": [int(k) + 1 for k in shown],
        "source_times": np.round(clip.source_times[indices[: n * seg_len]], 6).tolist(),
    }
    if window > 1:
        meta["quiet_window"] = {"density": window, "start": start}
    return Sample(clips=clips, question=question_for(n), answer=derive_answer(meta), meta=meta)


def video_lengths(meta: dict) -> list[int]:
    return [meta["segment_frames"]] * meta["segments"]


def derive_answer(meta: dict) -> str:
    """k-th entry = 1-based presentation position of original clip k, i.e. pi^-1."""
    shown = meta["presented_order"]
    n = meta["segments"]
    if sorted(shown) != list(range(1, n + 1)):
        raise ValueError("presented_order is not a permutation")
    return answer_string([shown.index(k) + 1 for k in range(1, n + 1)])


def random_guess(meta: dict, fps: float, rng: np.random.Generator) -> str:
    """A uniformly random order."""
    return answer_string((rng.permutation(meta["segments"]) + 1).tolist())


def contact(meta: dict) -> Contact:
    labels = [f"clip {k + 1} (original part {part})" for k, part in enumerate(meta["presented_order"])]
    return Contact({}, "rows are clips in presentation order", labels)


TASK = Task(
    name=NAME,
    paper="he2026videossr",
    shows="n clips of one video in shuffled order; the answer gives each original clip's position",
    generate=generate,
    derive_answer=derive_answer,
    settings_for=settings_for,
    reads=reads,
    random_guess=random_guess,
    video_lengths=video_lengths,
    contact=contact,
    required_density=required_density,
)
