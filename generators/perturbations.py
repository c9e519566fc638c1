"""Anomaly perturbations: one pure kernel per perturbation, its parameter sampler, its prompt text.

Kernels come in three kinds:
- ``pixel``: ``apply(segment, params) -> segment`` changes the pixels of the segment's frames;
- ``temporal``: ``index_map(num_slots, start, length, params) -> dense indices`` changes which
  source frames the slots show (frame count and timestamps stay the same);
- ``donor``: the segment shows the same slots of another clip (Swap).
Samplers draw the concrete parameters from a settings dict of ranges; what they return is
stored in ``meta`` so the sample can be replayed from (source, params) alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from videolake.generators.base import Param, sample_range

SPEED_NOTE = (
    " To ensure a fair challenge, even if the video's actual speed changes (e.g., slow motion or "
    "fast forward), the timestamps for each frame have been intentionally kept evenly spaced. This "
    "creates the illusion of a constant playback speed. Therefore, you should not rely on the "
    "timestamps when judging the speed. Instead, your judgment must be based solely on the visual "
    "content. You should analyze the motion within the video itself by observing how much or how "
    "little the scene changes between consecutive frames to determine the true playback speed."
)

# Intensities from the reference code; every one can be overridden by a tier in a manifest.
DEFAULT_SETTINGS = {
    "segment_frames": [8, 16],
    "saturation_factor": 2.0,
    "noise_sigma": [35.0, 70.0],
    "blur_radius": 2.0,
    "zoom_in_scale": [1.3, 1.5],
    "zoom_out_scale": [1.2, 1.4],
    "stutter_holds": [2, 5],
    "speed_factor": 2,
}
PARAMETERS = {
    "segment_frames": Param(int, 1, 1023, span=True),  # at most frames - 1 of the recipe, clamped per clip
    "saturation_factor": Param(float, 0.0, 10.0, span=True),
    "noise_sigma": Param(float, 0.0, 255.0, span=True),
    "blur_radius": Param(float, 0.0, 50.0, span=True),
    "zoom_in_scale": Param(float, 1.0, 10.0, span=True),
    "zoom_out_scale": Param(float, 1.0, 10.0, span=True),
    "stutter_holds": Param(int, 1, 64, span=True),
    "speed_factor": Param(int, 2, 8),
}


@dataclass(frozen=True)
class Perturbation:
    name: str
    kind: str  # "pixel" | "temporal" | "donor"
    description: str
    sample: Callable[[np.random.Generator, dict, int], dict]
    apply: Callable | None = None  # pixel kernel
    index_map: Callable | None = None  # temporal kernel
    changes_speed: bool = False  # index_map counts in 1/speed_factor slots (Slow, Fast)
    reads: tuple[str, ...] = ()  # the settings its sampler reads (besides segment_frames)

    def density(self, params: dict) -> int:
        """Dense frames per slot this perturbation needs, for its settings or its applied parameters."""
        if not self.changes_speed:
            return 1
        factor = params["speed_factor"]
        if not isinstance(factor, int) or isinstance(factor, bool) or factor < 2:
            raise ValueError(f"speed_factor must be an integer >= 2, got {factor!r}")
        return factor

    def dense_indices(self, num_slots: int, start: int, length: int, params: dict, clip_density: int) -> np.ndarray:
        """Which frame of a clip sampled at ``clip_density`` each output slot shows."""
        if self.kind != "temporal":
            return np.arange(num_slots) * clip_density
        unit = self.density(params)
        if clip_density % unit:
            raise ValueError(f"a clip sampled at density {clip_density} cannot show speed factor {unit}")
        return self.index_map(num_slots, start, length, params) * (clip_density // unit)


def _no_params(rng, settings, length):
    return {}


def _per_frame(segment: np.ndarray, fn) -> np.ndarray:
    return np.stack([np.asarray(fn(Image.fromarray(frame))) for frame in segment])


def _fit_into(image: Image.Image, width: int, height: int) -> np.ndarray:
    """Scale ``image`` to fit inside width x height, centred on black."""
    scale = min(width / image.width, height / image.height)
    w, h = max(1, round(image.width * scale)), max(1, round(image.height * scale))
    canvas = Image.new("RGB", (width, height))
    canvas.paste(image.resize((w, h), Image.BILINEAR), ((width - w) // 2, (height - h) // 2))
    return np.asarray(canvas)


def saturation(segment, params):
    gray = grayscale(segment, {}).astype(np.float32)
    out = gray + params["factor"] * (segment.astype(np.float32) - gray)
    return np.clip(out, 0, 255).astype(np.uint8)


def noise(segment, params):
    rng = np.random.default_rng(params["noise_seed"])
    jitter = rng.standard_normal(segment.shape, dtype=np.float32) * params["sigma"]
    return np.clip(segment.astype(np.float32) + jitter, 0, 255).astype(np.uint8)


def blur(segment, params):
    kernel = ImageFilter.GaussianBlur(params["radius"])
    return _per_frame(segment, lambda im: im.filter(kernel))


def grayscale(segment, params):
    luma = segment.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return np.repeat(np.clip(luma + 0.5, 0, 255).astype(np.uint8)[..., None], 3, axis=-1)


def invert(segment, params):
    return 255 - segment


def channel_swap(segment, params):
    return np.ascontiguousarray(segment[..., ::-1])


def zoom_in(segment, params):
    h, w = segment.shape[1:3]
    cw, ch = w / params["scale"], h / params["scale"]
    box = ((w - cw) / 2, (h - ch) / 2, (w + cw) / 2, (h + ch) / 2)
    return _per_frame(segment, lambda im: im.resize((w, h), Image.BILINEAR, box=box))


def zoom_out(segment, params):
    h, w = segment.shape[1:3]
    sw, sh = round(w / params["scale"]), round(h / params["scale"])

    def shrink(im):
        canvas = Image.new("RGB", (w, h))
        canvas.paste(im.resize((sw, sh), Image.BILINEAR), ((w - sw) // 2, (h - sh) // 2))
        return canvas

    return _per_frame(segment, shrink)


def rotate180(segment, params):
    return np.ascontiguousarray(segment[:, ::-1, ::-1])


def mirror(segment, params):
    return np.ascontiguousarray(segment[:, :, ::-1])


def _rotate_quarter(clockwise_turns: int):
    """Quarter turns clockwise as seen on screen (np.rot90 turns counter-clockwise for positive k)."""

    def kernel(segment, params):
        h, w = segment.shape[1:3]
        rotated = np.rot90(segment, k=-clockwise_turns, axes=(1, 2))
        if rotated.shape[1:3] == (h, w):
            return np.ascontiguousarray(rotated)
        return np.stack([_fit_into(Image.fromarray(np.ascontiguousarray(f)), w, h) for f in rotated])

    return kernel


def slow_index_map(num_slots, start, length, params):
    """The segment advances one dense frame per slot, the rest ``factor`` (the normal speed)."""
    k = params["speed_factor"]
    slots = np.arange(num_slots)
    before = slots * k
    inside = start * k + (slots - start)
    after = start * k + length + k * (slots - start - length)
    return np.where(slots < start, before, np.where(slots < start + length, inside, after))


def fast_index_map(num_slots, start, length, params):
    """The segment advances ``factor`` dense frames per slot, the rest one (the normal speed)."""
    k = params["speed_factor"]
    slots = np.arange(num_slots)
    inside = start + k * (slots - start)
    after = start + k * length + (slots - start - length)
    return np.where(slots < start, slots, np.where(slots < start + length, inside, after))


def stutter_index_map(num_slots, start, length, params):
    """Hold ``holds`` evenly spaced frames of the segment, each repeated over its share of slots."""
    indices = np.arange(num_slots)
    holds = params["holds"]
    group = (np.arange(length) * holds) // length
    held = start + ((2 * group + 1) * length) // (2 * holds)  # the middle frame of each group
    indices[start : start + length] = held
    return indices


def shuffle_index_map(num_slots, start, length, params):
    indices = np.arange(num_slots)
    indices[start : start + length] = start + np.asarray(params["order"])
    return indices


def _sample_factor(rng, settings, length):
    return {"factor": float(sample_range(rng, settings["saturation_factor"]))}


def _sample_noise(rng, settings, length):
    return {"sigma": sample_range(rng, settings["noise_sigma"]), "noise_seed": int(rng.integers(2**31))}


def _sample_blur(rng, settings, length):
    return {"radius": float(sample_range(rng, settings["blur_radius"]))}


def _sampler_scale(key):
    return lambda rng, settings, length: {"scale": float(sample_range(rng, settings[key]))}


def _sample_speed(rng, settings, length):
    return {"speed_factor": int(settings["speed_factor"])}


def _sample_stutter(rng, settings, length):
    holds = sample_range(rng, settings["stutter_holds"], integer=True)
    return {"holds": int(min(holds, max(1, length // 2)))}


def _sample_shuffle(rng, settings, length):
    """A permutation that moves the first and last frame, so the anomaly spans the whole segment."""
    while True:
        order = rng.permutation(length)
        if order[0] != 0 and order[-1] != length - 1:
            return {"order": order.tolist()}


PERTURBATIONS: dict[str, Perturbation] = {
    p.name: p
    for p in [
        Perturbation(
            "saturation",
            "pixel",
            "the colors in the video become oversaturated and unnaturally vibrant.",
            _sample_factor,
            apply=saturation,
            reads=("saturation_factor",),
        ),
        Perturbation(
            "noise",
            "pixel",
            "Gaussian noise is added to the video.",
            _sample_noise,
            apply=noise,
            reads=("noise_sigma",),
        ),
        Perturbation(
            "blur",
            "pixel",
            "the video becomes blurry or out of focus.",
            _sample_blur,
            apply=blur,
            reads=("blur_radius",),
        ),
        Perturbation("grayscale", "pixel", "the video becomes black and white.", _no_params, apply=grayscale),
        Perturbation("invert", "pixel", "the colors in the video are inverted.", _no_params, apply=invert),
        Perturbation(
            "channel_swap",
            "pixel",
            "the red and blue color channels in the video are swapped.",
            _no_params,
            apply=channel_swap,
        ),
        Perturbation(
            "zoom_in",
            "pixel",
            "the video is zoomed in.",
            _sampler_scale("zoom_in_scale"),
            apply=zoom_in,
            reads=("zoom_in_scale",),
        ),
        Perturbation("rotate180", "pixel", "the video is rotated 180 degrees.", _no_params, apply=rotate180),
        Perturbation(
            "zoom_out",
            "pixel",
            "the video is zoomed out.",
            _sampler_scale("zoom_out_scale"),
            apply=zoom_out,
            reads=("zoom_out_scale",),
        ),
        Perturbation("mirror", "pixel", "The video is mirrored horizontally.", _no_params, apply=mirror),
        Perturbation(
            "rotate90",
            "pixel",
            "the video is rotated 90 degrees clockwise.",
            _no_params,
            apply=_rotate_quarter(clockwise_turns=1),
        ),
        Perturbation(
            "rotate270",
            "pixel",
            "the video is rotated 270 degrees clockwise.",
            _no_params,
            apply=_rotate_quarter(clockwise_turns=3),
        ),
        Perturbation(
            "slow",
            "temporal",
            "the video slows down, this means the action unfolds at an unusually slow pace, making movements appear "
            "prolonged." + SPEED_NOTE,
            _sample_speed,
            index_map=slow_index_map,
            changes_speed=True,
            reads=("speed_factor",),
        ),
        Perturbation(
            "fast",
            "temporal",
            "the video speeds up, this means the segment plays at a high speed, compressing the action and making "
            "movements appear jerky or rushed." + SPEED_NOTE,
            _sample_speed,
            index_map=fast_index_map,
            changes_speed=True,
            reads=("speed_factor",),
        ),
        Perturbation(
            "stutter_hold",
            "temporal",
            "the video appears to freeze and stutter on a few frames, this means instead of playing smoothly, the "
            "video repeatedly freezes on a single frame before jumping to the next.",
            _sample_stutter,
            index_map=stutter_index_map,
            reads=("stutter_holds",),
        ),
        Perturbation(
            "shuffle",
            "temporal",
            "the frames are shuffled, this means the order of events is scrambled, making the action appear "
            "illogical and chaotic.",
            _sample_shuffle,
            index_map=shuffle_index_map,
        ),
        Perturbation("swap", "donor", "the clip is replaced by a clip from another video.", _no_params),
    ]
}
