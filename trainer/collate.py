"""Batches a Hugging Face video-language processor turns into model inputs, videos included."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from videolake.trainer.data import FrameBudget, model_inputs, prompt_messages, target_text, videos

IGNORE_INDEX = -100  # label of a token the loss does not count


@dataclass
class SFTCollator:
    """Records -> input_ids, attention_mask, labels (the assistant turn only) and the video tensors the
    model family needs (``pixel_values_videos``, ``video_grid_thw``, and Qwen2.5-VL's
    ``second_per_grid_ts`` or Qwen3-VL's ``mm_token_type_ids``), every frame of every clip at the
    clip's own clock, each frame within ``budget``."""

    processor: Any
    budget: FrameBudget

    def __call__(self, records: list[dict]) -> dict[str, torch.Tensor]:
        texts, targets, clips = [], [], []
        for record in records:
            prompt = self.processor.apply_chat_template(
                prompt_messages(record), add_generation_prompt=True, tokenize=False
            )
            targets.append(target_text(record) + self.end_of_turn)
            texts.append(prompt + targets[-1])
            clips.extend(videos(record))
        batch = model_inputs(self.processor, texts, clips, self.budget, padding=True)
        # The loss counts the assistant turn only: the last tokens of each row, padding aside.
        labels = torch.full_like(batch["input_ids"], IGNORE_INDEX)
        for row, target in enumerate(targets):
            count = len(self.processor.tokenizer(target, add_special_tokens=False)["input_ids"])
            kept = batch["attention_mask"][row].nonzero().flatten()[-count:]
            labels[row, kept] = batch["input_ids"][row, kept]
        batch["labels"] = labels
        return dict(batch)

    @property
    def end_of_turn(self) -> str:
        return getattr(self.processor.tokenizer, "eos_token", None) or ""
