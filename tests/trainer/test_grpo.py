"""GRPO whose loss sees the video: one step on a tiny random Qwen2.5-VL or Qwen3-VL moves the vision
tower, and the same step with the video dropped from the loss (TRL's own behaviour) does not; and no
vision token of a completion ever reaches the loss forward (generation cannot sample one, and one
that comes back anyway is replaced and left out of the loss)."""

from __future__ import annotations

import inspect

import pytest
import torch
import trl
from hypothesis import given, settings
from hypothesis import strategies as st
from trl import GRPOConfig, GRPOTrainer

from tests.trainer.clock import BUDGET, FAMILIES
from videolake.rewards import accuracy_reward
from videolake.trainer.grpo import (
    SUPPORTED_TRL,
    VIDEO_COLUMN,
    VideoGRPOTrainer,
    check_trl_version,
    vision_token_ids,
    with_prompts,
    without_vision_tokens,
)
from videolake.trainer.tiny import tiny_qwen2_5_vl

pytestmark = pytest.mark.slow  # a build of several tasks or a model trained: `make check` skips it


def length_reward(prompts, completions, **columns):
    """Differs between the rollouts of a prompt, so advantages (and gradients) are not zero."""
    return [
        float(len(completion if isinstance(completion, str) else completion[-1]["content"]))
        for completion in completions
    ]


def one_step(records, tmp_path, trainer_class, family: str) -> int:
    """Vision-tower tensors changed by one GRPO step."""
    model, processor = FAMILIES[family]()
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
    trainer = trainer_class(
        model=str(tmp_path / "model"),
        processing_class=processor,
        reward_funcs=[length_reward, accuracy_reward],
        args=config,
        train_dataset=with_prompts(records),
        budget=BUDGET,
    )
    visual = trainer.model.model.visual
    before = [p.detach().clone() for p in visual.parameters()]
    trainer.train()
    return sum(not torch.equal(a, b) for a, b in zip(before, visual.parameters(), strict=True))


@pytest.mark.parametrize("family", FAMILIES)
def test_one_grpo_step_moves_the_vision_tower(records, tmp_path, monkeypatch, family):
    from videolake.trainer import grpo

    decoded, tokenized = [], []
    original_videos, original_tokenize = grpo.videos, VideoGRPOTrainer._tokenize_prompts
    monkeypatch.setattr(grpo, "videos", lambda row: decoded.append(row["id"]) or original_videos(row))
    monkeypatch.setattr(
        VideoGRPOTrainer,
        "_tokenize_prompts",
        lambda self, prompts: tokenized.extend(prompts) or original_tokenize(self, prompts),
    )
    assert one_step(records, tmp_path, VideoGRPOTrainer, family) > 0
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


@pytest.mark.parametrize("family", FAMILIES)
def test_the_same_step_without_video_in_the_loss_leaves_the_vision_tower_alone(records, tmp_path, family):
    assert one_step(records, tmp_path, VideoOnlyInGeneration, family) == 0


def test_trl_internals_the_trainer_relies_on_are_the_ones_it_was_written_for():
    check_trl_version()
    with pytest.raises(RuntimeError, match="Install a supported TRL"):
        check_trl_version(str(SUPPORTED_TRL[1]))
    parameters = inspect.signature(GRPOTrainer._get_per_token_logps_and_entropies).parameters
    assert list(parameters)[:5] == ["self", "model", "input_ids", "attention_mask", "logits_to_keep"], (
        f"TRL {trl.__version__} changed _get_per_token_logps_and_entropies"
    )
    assert list(inspect.signature(GRPOTrainer._tokenize_prompts).parameters) == ["self", "prompts"]
    assert list(inspect.signature(GRPOTrainer._compute_loss).parameters) == ["self", "model", "inputs"]
    assert list(inspect.signature(GRPOTrainer._generate_and_score_completions).parameters) == ["self", "inputs"]
    assert list(inspect.signature(GRPOTrainer._generate).parameters) == ["self", "prompts"]
    assert "return prompt_ids, completion_ids, tool_mask," in inspect.getsource(GRPOTrainer._generate), (
        "TRL's _generate no longer returns (prompt_ids, completion_ids, tool_mask, ...)"
    )
    source = inspect.getsource(GRPOTrainer._get_per_token_logps_and_entropies)
    assert "model(**model_inputs" in source, "TRL no longer calls the model with keyword inputs per chunk"


def vision_ids(processor) -> list[int]:
    added = processor.tokenizer.get_added_vocab()
    return [added[token] for token in ("<|vision_start|>", "<|vision_end|>", "<|video_pad|>", "<|image_pad|>")]


def test_every_vision_token_of_the_tiny_model_is_found():
    model, processor = tiny_qwen2_5_vl()
    # the config's vision_end_token_id (151653, Qwen's) lies outside the tiny vocabulary and is left out
    assert vision_token_ids(model.config, processor) == sorted(vision_ids(processor)) == [3, 4, 5, 6]


def test_vision_tokens_are_replaced_and_left_out_of_the_loss():
    ids = [[10, 5, 11, 2], [3, 6, 4], [12]]
    cleaned, mask = without_vision_tokens(ids, None, [3, 4, 5, 6], replacement=0)
    assert cleaned == [[10, 0, 11, 2], [0, 0, 0], [12]]
    assert mask == [[1, 0, 1, 1], [0, 0, 0], [1]]
    # a token a tool inserted (mask 0) is not the model's: it stays
    assert without_vision_tokens([[5, 5]], [[0, 1]], [5], replacement=0) == ([[5, 0]], [[0, 0]])
    clean = [[10, 11]]
    assert without_vision_tokens(clean, None, [5], replacement=0) == (clean, None)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 12), max_size=8), min_size=1, max_size=4), st.sets(st.integers(0, 12), max_size=4)
)
def test_no_model_token_of_a_cleaned_completion_is_a_vision_token(completion_ids, vision):
    cleaned, mask = without_vision_tokens(completion_ids, None, sorted(vision), replacement=99)
    mask = mask or [[1] * len(ids) for ids in completion_ids]
    for ids, new_ids, kept in zip(completion_ids, cleaned, mask, strict=True):
        assert len(new_ids) == len(ids) == len(kept)
        for old, new, counted in zip(ids, new_ids, kept, strict=True):
            assert (old, counted) == ((new, 1) if old not in vision else (old, 0)) and new == (
                99 if old in vision else old
            )


def tiny_trainer(records, tmp_path, **overrides) -> VideoGRPOTrainer:
    model, processor = tiny_qwen2_5_vl()
    model.save_pretrained(tmp_path / "model")
    settings = {
        "per_device_train_batch_size": 2,
        "num_generations": 2,
        "max_completion_length": 6,
        "max_steps": 1,
        "beta": 1e-3,
        "logging_steps": 1,
        **overrides,
    }
    config = GRPOConfig(
        output_dir=str(tmp_path),
        use_cpu=True,
        report_to=[],
        save_strategy="no",
        remove_unused_columns=False,
        **settings,
    )
    return VideoGRPOTrainer(
        model=str(tmp_path / "model"),
        processing_class=processor,
        reward_funcs=[length_reward],
        args=config,
        train_dataset=with_prompts(records),
        budget=BUDGET,
    )


def test_generation_cannot_emit_vision_tokens(records, tmp_path):
    trainer = tiny_trainer(records, tmp_path)
    forbidden = vision_ids(trainer.processing_class)
    model = trainer.model
    # make the vision tokens by far the likeliest next tokens
    hook = model.lm_head.register_forward_hook(
        lambda module, inputs, logits: logits.index_add(
            -1, torch.tensor(forbidden), torch.full((*logits.shape[:-1], len(forbidden)), 50.0)
        )
    )
    encoded = trainer.processing_class.tokenizer(["what happens?"], return_tensors="pt")
    prompt = {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"]}
    try:
        with torch.no_grad():
            unguarded = model.generate(**prompt, do_sample=True, max_new_tokens=8, pad_token_id=0)
            guarded = model.generate(**prompt, generation_config=trainer.generation_config)
    finally:
        hook.remove()
    prompt_length = prompt["input_ids"].shape[1]
    assert torch.isin(
        unguarded[:, prompt_length:], torch.tensor(forbidden)
    ).all()  # without the guard they are all it samples
    assert (
        guarded.shape[1] > prompt_length and not torch.isin(guarded[:, prompt_length:], torch.tensor(forbidden)).any()
    )
    assert set(forbidden) <= set(trainer.generation_kwargs["suppress_tokens"])


def test_a_completion_holding_vision_tokens_trains_on_the_prompts_video_tokens_only(records, tmp_path, monkeypatch):
    """The issue's crash (``Video features and video tokens do not match``): generation returns
    completions with every vision token in them; the step runs and every forward (old policy,
    reference, loss) sees exactly the prompt's video tokens, with the replaced ones out of the loss."""
    from videolake.trainer import grpo

    trainer = tiny_trainer(records, tmp_path)
    forbidden = vision_ids(trainer.processing_class)
    video_pad = trainer.processing_class.tokenizer.convert_tokens_to_ids("<|video_pad|>")
    original_generate = GRPOTrainer._generate_single_turn

    def generate_with_vision_tokens(self, *args, **kwargs):
        completion_ids, logprobs = original_generate(self, *args, **kwargs)
        return [[*forbidden, 10, *forbidden, *ids] for ids in completion_ids], logprobs

    monkeypatch.setattr(GRPOTrainer, "_generate_single_turn", generate_with_vision_tokens)
    merge = trainer.processing_class.video_processor.merge_size**2
    seen = []
    original_call = grpo._ModelWithVideos.__call__

    def counting_call(self, **inputs):
        chunk = self.rows[self.used : self.used + inputs["input_ids"].shape[0]]
        features = [int(row["video_grid_thw"].prod(dim=-1).sum()) // merge for row in chunk]
        seen.append(((inputs["input_ids"] == video_pad).sum(dim=1).tolist(), features))
        return original_call(self, **inputs)

    monkeypatch.setattr(grpo._ModelWithVideos, "__call__", counting_call)
    captured = {}
    original_score = VideoGRPOTrainer._generate_and_score_completions

    def keep_batch(self, inputs):
        captured.update(output := original_score(self, inputs))
        return output

    monkeypatch.setattr(VideoGRPOTrainer, "_generate_and_score_completions", keep_batch)
    trainer.train()
    assert len(seen) >= 2  # the reference and the loss forward (one iteration: no separate old-policy pass)
    assert all(tokens == features for tokens, features in seen), seen
    completions, loss_mask = captured["completion_ids"], captured["tool_mask"]
    assert not torch.isin(completions, torch.tensor(forbidden)).any()
    assert (
        loss_mask[:, : 2 * len(forbidden) + 1] == torch.tensor([0] * len(forbidden) + [1] + [0] * len(forbidden))
    ).all()
