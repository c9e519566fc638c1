"""Frames and clips made in memory, for generator and transform tests."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from videolake.generators.base import SampledClip


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
