"""Proof that the video is in the loss, for each model family: every frame at the record's clock and
within the frame budget, gradients reach the vision tower, the loss depends on the frames, and a
batch without its video tensors is caught (the silent failure TRL's trainers have)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.trainer.clock import BUDGET, FAMILIES, assert_on_the_clock, contract_blocks, video_blocks
from videolake.trainer.collate import IGNORE_INDEX, SFTCollator
from videolake.trainer.data import videos
from videolake.trainer.sft import sft_trainer

pytestmark = pytest.mark.slow  # a build of several tasks or a model trained: `make check` skips it

VIDEO_KEYS = ("pixel_values_videos", "video_grid_thw", "second_per_grid_ts")


def vision_gradient(model) -> float:
    return sum(float(p.grad.abs().sum()) for p in model.model.visual.parameters() if p.grad is not None)


@pytest.mark.parametrize("family", FAMILIES)
def test_the_batch_carries_every_frame_at_the_records_clock_within_the_budget(records, family):
    model, processor = FAMILIES[family]()
    patch = processor.video_processor.patch_size
    for record in records:
        batch = SFTCollator(processor, BUDGET)([record])
        clips = videos(record)
        grids = batch["video_grid_thw"].tolist()
        told = video_blocks(processor.tokenizer, batch["input_ids"][0])
        assert told == contract_blocks(family, grids, [len(clip.frames) for clip in clips], record["fps"])
        assert_on_the_clock(family, batch.get("second_per_grid_ts", torch.empty(0)).tolist(), record["fps"])
        for _, h, w in grids:
            assert BUDGET.min_pixels <= h * w * patch**2 <= BUDGET.max_pixels
        answer_tokens = (batch["labels"] != IGNORE_INDEX).sum()
        assert 0 < answer_tokens < batch["attention_mask"].sum()  # only the assistant turn is learnt


@pytest.mark.parametrize("family", FAMILIES)
def test_gradients_reach_the_vision_tower_and_the_loss_sees_the_frames(records, family):
    model, processor = FAMILIES[family]()
    batch = SFTCollator(processor, BUDGET)(list(records))
    loss = model(**batch).loss
    loss.backward()
    assert vision_gradient(model) > 0

    noisy = dict(batch, pixel_values_videos=torch.randn_like(batch["pixel_values_videos"]))
    with torch.no_grad():
        assert abs(float(model(**noisy).loss) - float(loss)) > 1e-6

    # What TRL does silently: the video tokens stay, the video tensors are dropped. The check fails.
    model.zero_grad()
    dropped = {k: v for k, v in batch.items() if k not in VIDEO_KEYS}
    model(**dropped).loss.backward()
    assert vision_gradient(model) == 0


def test_one_sft_step_updates_the_vision_tower(records, tmp_path):
    model, processor = FAMILIES["qwen3-vl"]()
    before = [p.detach().clone() for p in model.model.visual.parameters()]
    trainer = sft_trainer(
        model,
        processor,
        records,
        tmp_path,
        BUDGET,
        max_steps=1,
        learning_rate=1e-2,
        per_device_train_batch_size=2,
        use_cpu=True,
    )
    result = trainer.train()
    assert np.isfinite(result.training_loss)
    changed = sum(not torch.equal(a, b) for a, b in zip(before, model.model.visual.parameters(), strict=True))
    assert changed > 0
