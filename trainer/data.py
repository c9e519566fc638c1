"""Records of a built lake as chat messages and decoded videos, built at load time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from videolake.commands.exports import sft_target
from videolake.generators.base import VIDEO_PLACEHOLDER
from videolake.pipeline.encode import decode_mp4


@dataclass(frozen=True)
class Video:
    """Every frame of one clip, and the clock it plays at: frame i is at i / fps seconds."""

    frames: np.ndarray  # [T, H, W, 3] uint8
    fps: float

    def tensor(self):
        """[T, 3, H, W] uint8, channels first: what the video processor works on, without a copy."""
        import torch

        return torch.from_numpy(self.frames).permute(0, 3, 1, 2)

    @property
    def metadata(self) -> dict:
        """What a Hugging Face video processor needs to place the frames in time."""
        return {"fps": self.fps, "total_num_frames": len(self.frames), "duration": len(self.frames) / self.fps}


def decode(data: bytes, fps: float) -> Video:
    return Video(decode_mp4(data), fps)


def user_content(question: str) -> list[dict]:
    """The question as content parts: a video part at each ``<video>`` placeholder, text between."""
    parts: list[dict] = []
    for k, text in enumerate(question.split(VIDEO_PLACEHOLDER)):
        if k:
            parts.append({"type": "video"})
        if text.strip():
            parts.append({"type": "text", "text": text.strip("\n")})
    return parts


def prompt_messages(record: dict) -> list[dict]:
    return [
        {"role": "system", "content": [{"type": "text", "text": record["system"]}]},
        {"role": "user", "content": user_content(record["question"])},
    ]


def target_text(record: dict) -> str:
    """The assistant turn SFT trains on: the reasoning in <think> and the answer in <answer> for
    records with a trace (what their prompt asks for), else the bare answer (what VideoSSR's does)."""
    return sft_target(record) or record["answer"]


def videos(record: dict) -> list[Video]:
    return [decode(data, record["fps"]) for data in record["videos"]]
