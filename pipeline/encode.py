"""Encode frames to in-memory H.264 MP4 at a constant frame rate (frame i at i / fps).

One place for codec settings. libx264 runs single-threaded with fixed options so that the
bytes depend only on the frames, never on the machine or the number of workers.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from videolake import VideolakeError


@dataclass(frozen=True)
class Encoder:
    codec: str
    options: dict = field(default_factory=dict)

    def describe(self) -> dict:
        return {"codec": self.codec, "options": dict(self.options), "pix_fmt": "yuv420p", "container": "mp4"}


ENCODERS = {
    "libx264": Encoder("libx264", {"preset": "veryfast", "crf": "23", "threads": "1"}),
    "h264_nvenc": Encoder("h264_nvenc", {"preset": "p4", "cq": "23", "rc": "vbr"}),
}


# BT.601 limited range in 8-bit fixed point (x 256), the matrix decoders assume for untagged
# streams. Offsets include rounding and, for chroma, a bias that keeps uint16 sums non-negative.
YCBCR_WEIGHTS = ((66, 129, 25), (-38, -74, 112), (112, -94, -18))
YCBCR_BIAS = (16 * 256 + 128, 128 * 256 + 128, 128 * 256 + 128)


def rgb_to_yuv420p(frames: np.ndarray) -> np.ndarray:
    """RGB frames as planar yuv420p images [T, H * 3 / 2, W] (the layout PyAV's from_ndarray takes).

    Done here rather than by swscale inside the encoder because swscale's SIMD paths are not
    bit-exact across CPUs, while this integer arithmetic is. uint16 arithmetic wraps, but every final value lies in [0, 65535], so the result is exact.
    Chroma is computed from the rounded mean of each 2x2 block. Frames are converted a pair at a
    time: the temporaries then stay in cache (5-7x faster than whole-video passes, same bytes).
    """
    t, h, w, _ = frames.shape
    planes = np.empty((t, h * 3 // 2, w), np.uint8)
    for start in range(0, t, CONVERT_FRAMES):
        _convert(frames[start : start + CONVERT_FRAMES], planes[start : start + CONVERT_FRAMES])
    return planes


CONVERT_FRAMES = 2


def _convert(frames: np.ndarray, planes: np.ndarray) -> None:
    t, h, w, _ = frames.shape
    r, g, b = np.moveaxis(frames, -1, 0).astype(np.uint16)
    quads = []
    for plane in (r, g, b):
        total = plane[:, 0::2, 0::2] + plane[:, 1::2, 0::2]
        total += plane[:, 0::2, 1::2]
        total += plane[:, 1::2, 1::2]
        total += 2
        quads.append(total >> 2)
    chroma = planes[:, h:].reshape(t, 2, h // 2, w // 2)
    for (wr, wg, wb), bias, (pr, pg, pb), target in zip(
        YCBCR_WEIGHTS, YCBCR_BIAS, ((r, g, b), quads, quads), (planes[:, :h], chroma[:, 0], chroma[:, 1])
    ):
        value = pr * np.uint16(wr % 65536)
        value += pg * np.uint16(wg % 65536)
        value += pb * np.uint16(wb % 65536)
        value += np.uint16(bias)
        target[:] = value >> 8


# x264's AVX-512 code gave different bytes for the same frames on a 16-core Xeon (the first
# veryfast encode in a process differed from later ones); every other instruction set, and C,
# gave identical bytes. x264's assembly is bit-exact with its C code, so leaving AVX-512 out
# changes speed only, never the output: the bytes stay the same on every host.
X264_WITHOUT_AVX512 = "SSE2,SSE2Fast,LZCNT,SSE3,SSSE3,SSE4.2,AVX,FMA3,BMI1,BMI2,AVX2,Cache64"


@cache
def host_has_avx512() -> bool:
    try:
        with open("/proc/cpuinfo") as handle:
            return any(line.startswith("flags") and " avx512f" in line for line in handle)
    except OSError:
        return False


def codec_options(encoder: Encoder) -> dict:
    """The encoder's options plus the per-host settings that keep its output host-independent."""
    options = dict(encoder.options)
    if encoder.codec == "libx264" and host_has_avx512():
        options["x264-params"] = f"asm={X264_WITHOUT_AVX512}"
    return options


def paletted_to_yuv420p(index_frames: Iterable[np.ndarray], palette: np.ndarray) -> Iterator[np.ndarray]:
    """yuv420p planes of palette-index frames, identical to ``rgb_to_yuv420p(palette[frames])``.

    A rendered frame differs from the previous one only around what moved, so after the first
    frame only the even-aligned boxes around the changed pixels are converted again, in place:
    each yielded array is valid until the next one is requested (the encoder copies it at once).
    """
    previous = planes = None
    for index in index_frames:
        height, width = index.shape
        if previous is None:
            boxes = [(0, height, 0, width)]
            planes = np.empty((height * 3 // 2, width), np.uint8)
        else:
            boxes = _changed_boxes(index != previous)
        chroma = planes[height:].reshape(2, height // 2, width // 2)
        for top, bottom, left, right in boxes:
            box = rgb_to_yuv420p(palette[index[None, top:bottom, left:right]])[0]
            planes[top:bottom, left:right] = box[: bottom - top]
            chroma[:, top // 2 : bottom // 2, left // 2 : right // 2] = box[bottom - top :].reshape(
                2, (bottom - top) // 2, (right - left) // 2
            )
        previous = index
        yield planes


def _changed_boxes(changed: np.ndarray, gap: int = 8) -> list[tuple[int, int, int, int]]:
    """Even-aligned (top, bottom, left, right) boxes covering the changed pixels, one per band of
    changed rows (objects in separate lanes get separate small boxes)."""
    rows = np.flatnonzero(changed.any(axis=1))
    if rows.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(rows) > gap)
    boxes = []
    for first, last in zip(np.r_[rows[0], rows[breaks + 1]], np.r_[rows[breaks], rows[-1]]):
        top, bottom = first & ~1, (last + 2) & ~1
        cols = np.flatnonzero(changed[top:bottom].any(axis=0))
        boxes.append((top, bottom, cols[0] & ~1, (cols[-1] + 2) & ~1))
    return boxes


def encode_yuv420p(
    planes: Iterable[np.ndarray], width: int, height: int, fps: Fraction, encoder: Encoder = ENCODERS["libx264"]
) -> bytes:
    """In-memory MP4 of planar yuv420p images [H * 3 / 2, W], frame i at i / fps."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream(encoder.codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = codec_options(encoder)
        for index, image in enumerate(planes):
            frame = av.VideoFrame.from_ndarray(image, format="yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def encode_mp4(video, fps: Fraction, encoder: Encoder = ENCODERS["libx264"], repeat_last: int = 0) -> bytes:
    """``video``: [T, H, W, 3] uint8 RGB with even H and W, or a paletted video (``index_frames()``
    and ``palette``, see generators/synthetic/render.py), which encodes to the same bytes as its
    RGB frames would. ``repeat_last``: copies of the last frame appended (the builder's even frame
    counts, pipeline/records.py)."""
    height, width = video.shape[1:3]
    if hasattr(video, "index_frames"):
        planes = paletted_to_yuv420p(video.index_frames(), video.palette)
    else:
        planes = rgb_to_yuv420p(video)
    return encode_yuv420p(_repeat_last(planes, repeat_last), width, height, fps, encoder)


def _repeat_last(planes: Iterable[np.ndarray], copies: int) -> Iterator[np.ndarray]:
    image = None
    for image in planes:
        yield image
    for _ in range(copies):
        yield image


def decode_mp4(data: bytes) -> np.ndarray:
    """All frames of an encoded video as [T, H, W, 3] uint8 (validation, inspection, the trainer).

    One swscale context for the whole video, on this thread: ``to_ndarray(format="rgb24")`` builds
    a new one (and its thread pool) per frame, which made this 7x slower. Same pixels."""
    reformatter = VideoReformatter()
    with av.open(io.BytesIO(data)) as container:
        return np.stack(
            [reformatter.reformat(f, format="rgb24", threads=1).to_ndarray() for f in container.decode(video=0)]
        )


@cache
def nvenc_works() -> bool:
    """True when this host can open and run h264_nvenc (a GPU with a working driver)."""
    try:
        encode_mp4(np.zeros((2, 64, 64, 3), np.uint8), Fraction(30), ENCODERS["h264_nvenc"])
        return True
    except Exception:
        return False


def with_options(encoder: Encoder, x264: dict) -> Encoder:
    """A recipe's x264 settings (preset, crf) on libx264; NVENC has its own and ignores them."""
    return (
        Encoder(encoder.codec, {**encoder.options, **{k: str(v) for k, v in x264.items()}})
        if x264 and encoder.codec == "libx264"
        else encoder
    )


def choose_encoder(name: str = "auto") -> Encoder:
    if name == "auto":
        return ENCODERS["h264_nvenc"] if nvenc_works() else ENCODERS["libx264"]
    if name not in ENCODERS:
        raise VideolakeError(f"unknown encoder {name!r}; choose auto, {', '.join(ENCODERS)}")
    if name == "h264_nvenc" and not nvenc_works():
        raise VideolakeError("h264_nvenc is not usable on this host (no GPU or driver); use --encoder libx264")
    return ENCODERS[name]
