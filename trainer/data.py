"""Records of a built lake as chat messages and decoded videos, and the one way they become model inputs.

Two contracts hold for every model family (docs/models.md):
- the clock: frame i of a video is at i / fps of its record. The processor is told the record's fps
  and every frame's index (Qwen2.5-VL turns them into ``second_per_grid_ts``, Qwen3-VL into a
  ``<t seconds>`` marker per temporal patch; without the indices Qwen3-VL's processor fails);
- the budget: each frame is resized by qwen-vl-utils' rule to ``FrameBudget``'s pixels, then the
  processor applies its own bounds: verl's video path exactly, so a video costs the same tokens as
  there (the bounds of the released checkpoints change nothing above Qwen2.5-VL's 56x56 minimum).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from videolake.commands.exports import sft_target
from videolake.generators.base import VIDEO_PLACEHOLDER
from videolake.pipeline.encode import decode_mp4

# qwen-vl-utils' defaults (vision_process.py): a frame costs 128 to 768 merged patches, and a video
# at most 90% of MODEL_SEQ_LEN's patches in all, shared by its temporal patches.
VIDEO_MIN_TOKENS, VIDEO_MAX_TOKENS, MODEL_SEQ_LEN = 128, 768, 128000


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
        """What a Hugging Face video processor needs to place the frames in time: every frame, by index."""
        count = len(self.frames)
        return {
            "fps": self.fps,
            "frames_indices": list(range(count)),
            "total_num_frames": count,
            "duration": count / self.fps,
        }


@dataclass(frozen=True)
class FrameBudget:
    """The pixels one frame may cost: qwen-vl-utils' ``min_pixels`` / ``max_pixels`` of a video entry,
    the numbers a verl export writes and LLaMA-Factory's ``video_min_pixels`` / ``video_max_pixels``."""

    min_pixels: int
    max_pixels: int

    @classmethod
    def of(cls, processor, min_pixels: int | None = None, max_pixels: int | None = None) -> FrameBudget:
        """The budget asked for, qwen-vl-utils' defaults for this processor's patch size where not."""
        factor = patch_factor(processor)
        return cls(
            min_pixels=int(min_pixels or VIDEO_MIN_TOKENS * factor**2),
            max_pixels=int(max_pixels or VIDEO_MAX_TOKENS * factor**2),
        )

    def frame_size(self, height: int, width: int, frames: int, factor: int) -> tuple[int, int]:
        """(height, width) qwen-vl-utils' ``fetch_video`` resizes such frames to (``factor``: patch
        size x spatial merge): within the budget, capped at 768 merged patches and an even share of
        the sequence, and a multiple of ``factor`` on both sides."""
        share = MODEL_SEQ_LEN * factor**2 * 0.9 / frames * 2
        ceiling = max(min(VIDEO_MAX_TOKENS * factor**2, share), int(self.min_pixels * 1.05))
        max_pixels = min(self.max_pixels, ceiling)
        if max_pixels < self.min_pixels:
            raise ValueError(f"video budget: max_pixels {max_pixels} is below min_pixels {self.min_pixels}")
        h_bar = max(factor, round(height / factor) * factor)
        w_bar = max(factor, round(width / factor) * factor)
        if h_bar * w_bar > max_pixels:
            beta = math.sqrt(height * width / max_pixels)
            h_bar = math.floor(height / beta / factor) * factor
            w_bar = math.floor(width / beta / factor) * factor
        elif h_bar * w_bar < self.min_pixels:
            beta = math.sqrt(self.min_pixels / (height * width))
            h_bar = math.ceil(height * beta / factor) * factor
            w_bar = math.ceil(width * beta / factor) * factor
        return h_bar, w_bar

    def settings(self) -> dict:
        """The budget as run settings (train_config.json), under LLaMA-Factory's names."""
        return {"video_min_pixels": self.min_pixels, "video_max_pixels": self.max_pixels}


def patch_factor(processor) -> int:
    """The side of one merged patch in pixels: 28 for Qwen2.5-VL, 32 for Qwen3-VL."""
    video = processor.video_processor
    return video.patch_size * video.merge_size


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
    """The assistant turn SFT trains on: the true answer in the format the record's prompt asks for
    (think/answer blocks for SynRL, VideoChat-R1 and MUSEG, the bare answer for VideoSSR)."""
    return sft_target(record)


def videos(record: dict) -> list[Video]:
    return [decode(data, record["fps"]) for data in record["videos"]]


def model_inputs(processor, texts: list[str], clips: list[Video], budget: FrameBudget, **kwargs):
    """The processor's output for ``texts`` and, in order, their videos: every frame, resized to
    ``budget`` (then to the processor's own bounds, as in verl), with its index and the clip's fps."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.functional import resize

    factor = patch_factor(processor)
    frames = []
    for clip in clips:
        tensor = clip.tensor()
        size = budget.frame_size(*tensor.shape[-2:], len(tensor), factor)
        frames.append(resize(tensor, list(size), interpolation=InterpolationMode.BICUBIC, antialias=True))
    return processor(
        text=texts,
        videos=frames or None,
        videos_kwargs={
            "video_metadata": [clip.metadata for clip in clips],
            "do_sample_frames": False,
            "cap_pixels_per_frame": False,  # applied above (frame_size): the processor's own bounds only, as in verl
        },
        return_tensors="pt",
        **kwargs,
    )


def check_frames_per_sample(records, frames: int) -> None:
    """Every record holds ``frames`` frames in all its videos (a preset's paper setting: the trainer
    takes every frame, so the lake must be built so); one line names the first that does not."""
    from videolake import VideolakeError
    from videolake.pipeline.dataset import record_meta
    from videolake.pipeline.records import written_lengths

    for row in records.select_columns(["id", "task", "meta"]):
        count = sum(written_lengths(row["task"], record_meta(row)))
        if count != frames:
            raise VideolakeError(
                f"{row['id']}: {count} frames, the preset trains on {frames} per sample: build the lake with frames: {frames}"
            )
