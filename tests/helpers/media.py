"""Small helpers that write test inputs: tiny videos, audio-only files, archives."""

from __future__ import annotations

import io
import tarfile
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from videolake.pipeline.encode import ENCODERS, codec_options, rgb_to_yuv420p


def write_video(
    path: Path, frames: np.ndarray, fps: int = 25, codec: str = "libx264", pix_fmt: str = "yuv420p", rotation: int = 0
) -> Path:
    """libx264 yuv420p videos are encoded exactly as the pipeline encodes (its fixed options and its
    integer RGB->yuv420p), so two files of the same frames decode to the same pixels on any CPU."""
    bit_exact = codec == "libx264" and pix_fmt == "yuv420p" and frames.shape[1] % 2 == 0 and frames.shape[2] % 2 == 0
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = pix_fmt
        if bit_exact:
            stream.options = codec_options(ENCODERS["libx264"])
        if rotation:
            stream.set_display_rotation(rotation)
        planes = rgb_to_yuv420p(frames) if bit_exact else frames
        for i, image in enumerate(planes):
            frame = av.VideoFrame.from_ndarray(image, format="yuv420p" if bit_exact else "rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def moving_frames(n: int, h: int, w: int) -> np.ndarray:
    """A bright square moving across a gradient: every frame differs."""
    ys, xs = np.mgrid[0:h, 0:w]
    base = np.stack([xs * 255 // max(w - 1, 1), ys * 255 // max(h - 1, 1), np.full_like(xs, 90)], -1).astype(np.uint8)
    frames = np.repeat(base[None], n, axis=0)
    for i in range(n):
        x = (i * 3) % max(w - 8, 1)
        frames[i, h // 3 : h // 3 + 8, x : x + 8] = 255
    return frames


def write_audio_only(path: Path, seconds: float = 2.0) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=22050)
        samples = int(22050 * seconds)
        tone = (0.2 * np.sin(np.arange(samples) * 2 * np.pi * 440 / 22050)).astype(np.float32)[None]
        for start in range(0, samples, 1024):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(tone[:, start : start + 1024]), format="fltp", layout="mono"
            )
            frame.sample_rate = 22050
            frame.pts = start
            frame.time_base = Fraction(1, 22050)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes, kind: bytes = tarfile.REGTYPE, link: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.type = kind
    info.linkname = link
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
