"""Encode frames to in-memory H.264 MP4 at a constant frame rate (frame i at i / fps).

One place for codec settings. libx264 runs single-threaded with fixed options so that the
bytes depend only on the frames, never on the machine or the number of workers.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import av
import numpy as np

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


def encode_mp4(frames: np.ndarray, fps: Fraction, encoder: Encoder = ENCODERS["libx264"]) -> bytes:
    """``frames``: [T, H, W, 3] uint8 RGB with even H and W."""
    buffer = io.BytesIO()
    height, width = frames.shape[1:3]
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream(encoder.codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = dict(encoder.options)
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return buffer.getvalue()


def decode_mp4(data: bytes) -> np.ndarray:
    """All frames of an encoded video as [T, H, W, 3] uint8 (for validation, inspection and tests)."""
    with av.open(io.BytesIO(data)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def count_frames(data: bytes) -> int:
    """Frame count from the container index, without decoding."""
    with av.open(io.BytesIO(data)) as container:
        return container.streams.video[0].frames


@lru_cache(maxsize=None)
def nvenc_works() -> bool:
    """True when this host can open and run h264_nvenc (a GPU with a working driver)."""
    try:
        encode_mp4(np.zeros((2, 64, 64, 3), np.uint8), Fraction(30), ENCODERS["h264_nvenc"])
        return True
    except Exception:
        return False


def choose_encoder(name: str = "auto") -> Encoder:
    if name == "auto":
        return ENCODERS["h264_nvenc"] if nvenc_works() else ENCODERS["libx264"]
    if name not in ENCODERS:
        raise VideolakeError(f"unknown encoder {name!r}; choose auto, {', '.join(ENCODERS)}")
    if name == "h264_nvenc" and not nvenc_works():
        raise VideolakeError("h264_nvenc is not usable on this host (no GPU or driver); use --encoder libx264")
    return ENCODERS[name]
