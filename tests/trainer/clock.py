"""The two contracts of every model family (docs/models.md), as the tests check them.

The clock: frame i of a video is at i / fps of its record. Qwen2.5-VL is told it through
``second_per_grid_ts`` (temporal patch / fps), Qwen3-VL through a ``<t seconds>`` marker before each
temporal patch: the mean time of its two frames, printed to 0.1 s.
The budget: each frame costs at most ``FrameBudget.max_pixels`` pixels (at least ``min_pixels``).
"""

from __future__ import annotations

import re

import pytest

from videolake.trainer.data import FrameBudget
from videolake.trainer.tiny import tiny_qwen2_5_vl, tiny_qwen3_vl

FAMILIES = {"qwen2.5-vl": tiny_qwen2_5_vl, "qwen3-vl": tiny_qwen3_vl}  # each family's tiny model
TINY_NAME = {"qwen2.5-vl": "tiny", "qwen3-vl": "tiny-qwen3-vl"}  # its --model name
# One video's tokens: Qwen3-VL's marker, then the vision tokens of one temporal patch (Qwen3-VL) or
# of the whole video (Qwen2.5-VL).
BLOCK = re.compile(r"(<[0-9.]+ seconds>)?<\|vision_start\|>((?:<\|video_pad\|>)+)<\|vision_end\|>")
PAD = "<|video_pad|>"
# A few vision tokens per frame (CPU sizes); the tiny lakes' frames (at most 128x128) need no downsizing.
BUDGET = FrameBudget(min_pixels=32 * 32, max_pixels=112 * 112)


def video_blocks(tokenizer, input_ids) -> list[tuple[str | None, int]]:
    """(marker or None, vision tokens) of each video block in a prompt, in order. The tiny tokenizer
    has one token per character or special token: the blocks are the token ids, written out."""
    text = "".join(tokenizer.convert_ids_to_tokens([int(i) for i in input_ids]))
    return [(m.group(1), len(m.group(2)) // len(PAD)) for m in BLOCK.finditer(text)]


def contract_blocks(family: str, grids: list[list[int]], frames: list[int], fps: float, merge: int = 4) -> list:
    """The blocks the contract asks for: every frame of every video (grid t = half its frames, rounded
    up), and for Qwen3-VL the time of frames 2t and 2t+1 (the last one repeated) before patch t."""
    blocks = []
    for (t, h, w), count in zip(grids, frames, strict=True):
        assert t == -(-count // 2), f"{count} frames in {t} temporal patches: frames were dropped or sampled"
        if family == "qwen2.5-vl":
            blocks.append((None, t * h * w // merge))
            continue
        for patch in range(t):
            first, second = 2 * patch, min(2 * patch + 1, count - 1)
            blocks.append((f"<{(first / fps + second / fps) / 2:.1f} seconds>", h * w // merge))
    return blocks


def assert_on_the_clock(family: str, told_seconds_per_patch: list[float], fps: float) -> None:
    """Qwen2.5-VL's seconds per temporal patch: two frames at the record's fps, not 24 fps's."""
    if family == "qwen2.5-vl":
        assert told_seconds_per_patch == pytest.approx([2 / fps] * len(told_seconds_per_patch))
    else:
        assert told_seconds_per_patch == []  # Qwen3-VL is told the time in the text only
