"""GRPO whose loss sees the video: one step on a tiny random Qwen2.5-VL moves the vision tower,
and the same step with the video dropped from the loss (TRL's own behaviour) does not."""

from __future__ import annotations

import inspect

import pytest
import torch
import trl
from trl import GRPOConfig, GRPOTrainer

from tests.trainer.tiny import tiny_qwen2_5_vl
from videolake.rewards import accuracy_reward
from videolake.trainer.grpo import SUPPORTED_TRL, VIDEO_COLUMN, VideoGRPOTrainer, check_trl_version, with_prompts


def length_reward(prompts, completions, **columns):
    """Differs between the rollouts of a prompt, so advantages (and gradients) are not zero."""
    return [float(len(completion if isinstance(completion, str) else completion[-1]["content"])) for completion in completions]


def one_step(records, tmp_path, trainer_class) -> int:
    """Vision-tower tensors changed by one GRPO step."""
    model, processor = tiny_qwen2_5_vl()
    model.save_pretrained(tmp_path / "model")  # TRL loads the reference model from a path
    config = GRPOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=2,
        num_generations=2,
        max_completion_length=6,
        max_steps=1,
        learning_rate=1e-2,
        weight_decay=0.0,  # a tensor without gradient must not move
        beta=1e-3,  # VideoSSR's KL coefficient: the reference pass runs too
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        remove_unused_columns=False,
        logging_steps=1,
    )
    trainer = trainer_class(model=str(tmp_path / "model"), processing_class=processor, reward_funcs=[length_reward, accuracy_reward], args=config, train_dataset=with_prompts(records))
    visual = trainer.model.model.visual
    before = [p.detach().clone() for p in visual.parameters()]
    trainer.train()
    return sum(not torch.equal(a, b) for a, b in zip(before, visual.parameters(), strict=True))


def test_one_grpo_step_moves_the_vision_tower(records, tmp_path, monkeypatch):
    from videolake.trainer import grpo

    decoded, tokenized = [], []
    original_videos, original_tokenize = grpo.videos, VideoGRPOTrainer._tokenize_prompts
    monkeypatch.setattr(grpo, "videos", lambda row: decoded.append(row["id"]) or original_videos(row))
    monkeypatch.setattr(VideoGRPOTrainer, "_tokenize_prompts", lambda self, prompts: tokenized.extend(prompts) or original_tokenize(self, prompts))
    assert one_step(records, tmp_path, VideoGRPOTrainer) > 0
    assert len(decoded) * 2 == len(tokenized) > 0  # each prompt's videos decoded once for its 2 rollouts


class VideoOnlyInGeneration(VideoGRPOTrainer):
    """TRL's behaviour: video tensors reach generate, the loss forward gets the video tokens only."""

    def _compute_loss(self, model, inputs):
        rows = [{key: value[:0] for key, value in row.items()} for row in inputs[VIDEO_COLUMN]]
        self._video_rows = None
        original = self._get_per_token_logps_and_entropies

        def without_video(model, input_ids, *args, **kwargs):
            return GRPOTrainer._get_per_token_logps_and_entropies(self, model, input_ids, *args, **kwargs)

        self._get_per_token_logps_and_entropies = without_video
        try:
            return GRPOTrainer._compute_loss(self, model, {**inputs, VIDEO_COLUMN: rows})
        finally:
            self._get_per_token_logps_and_entropies = original


def test_the_same_step_without_video_in_the_loss_leaves_the_vision_tower_alone(records, tmp_path):
    assert one_step(records, tmp_path, VideoOnlyInGeneration) == 0


def test_trl_internals_the_trainer_relies_on_are_the_ones_it_was_written_for():
    check_trl_version()
    with pytest.raises(RuntimeError, match="Install a supported TRL"):
        check_trl_version(str(SUPPORTED_TRL[1]))
    parameters = inspect.signature(GRPOTrainer._get_per_token_logps_and_entropies).parameters
    assert list(parameters)[:5] == ["self", "model", "input_ids", "attention_mask", "logits_to_keep"], f"TRL {trl.__version__} changed _get_per_token_logps_and_entropies"
    assert list(inspect.signature(GRPOTrainer._tokenize_prompts).parameters) == ["self", "prompts"]
    assert list(inspect.signature(GRPOTrainer._compute_loss).parameters) == ["self", "model", "inputs"]
    assert list(inspect.signature(GRPOTrainer._generate_and_score_completions).parameters) == ["self", "inputs"]
    source = inspect.getsource(GRPOTrainer._get_per_token_logps_and_entropies)
    assert "model(**model_inputs" in source, "TRL no longer calls the model with keyword inputs per chunk"
