"""Proof that the video is in the loss: gradients reach the vision tower, the loss depends on the
frames, and a batch without its video tensors is caught (the silent failure TRL's trainers have)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.trainer.tiny import tiny_qwen2_5_vl
from videolake.trainer.collate import IGNORE_INDEX, SFTCollator
from videolake.trainer.data import videos
from videolake.trainer.sft import sft_trainer


def vision_gradient(model) -> float:
    return sum(float(p.grad.abs().sum()) for p in model.model.visual.parameters() if p.grad is not None)


def test_the_batch_carries_every_frame_at_the_clips_own_clock(records):
    model, processor = tiny_qwen2_5_vl()
    for record in records:
        batch = SFTCollator(processor)([record])
        assert {"pixel_values_videos", "video_grid_thw", "second_per_grid_ts"} <= set(batch)
        clip = videos(record)[0]
        temporal_patch = processor.video_processor.temporal_patch_size
        assert int(batch["video_grid_thw"][0, 0]) == -(
            -len(clip.frames) // temporal_patch
        )  # every frame, none sampled away
        assert float(batch["second_per_grid_ts"][0]) == pytest.approx(temporal_patch / record["fps"])  # not 24 fps
        answer_tokens = (batch["labels"] != IGNORE_INDEX).sum()
        assert 0 < answer_tokens < batch["attention_mask"].sum()  # only the assistant turn is learnt


def test_gradients_reach_the_vision_tower_and_the_loss_sees_the_frames(records):
    model, processor = tiny_qwen2_5_vl()
    batch = SFTCollator(processor)(list(records))
    loss = model(**batch).loss
    loss.backward()
    assert vision_gradient(model) > 0

    noisy = dict(batch, pixel_values_videos=torch.randn_like(batch["pixel_values_videos"]))
    with torch.no_grad():
        assert abs(float(model(**noisy).loss) - float(loss)) > 1e-6

    # What TRL does silently: the video tokens stay, the video tensors are dropped. The check fails.
    model.zero_grad()
    dropped = {
        k: v for k, v in batch.items() if k not in ("pixel_values_videos", "video_grid_thw", "second_per_grid_ts")
    }
    model(**dropped).loss.backward()
    assert vision_gradient(model) == 0


def test_one_sft_step_updates_the_vision_tower(records, tmp_path):
    model, processor = tiny_qwen2_5_vl()
    before = [p.detach().clone() for p in model.model.visual.parameters()]
    trainer = sft_trainer(
        model,
        processor,
        records,
        tmp_path,
        max_steps=1,
        learning_rate=1e-2,
        per_device_train_batch_size=2,
        use_cpu=True,
    )
    result = trainer.train()
    assert np.isfinite(result.training_loss)
    changed = sum(not torch.equal(a, b) for a, b in zip(before, model.model.visual.parameters(), strict=True))
    assert changed > 0
