"""GRPO on TRL's ``GRPOTrainer`` with the video in every pass, not only in generation.

TRL 1.16 hands video tensors to ``generate`` only: the old-policy, reference and loss forwards see
the video tokens but no ``pixel_values_videos``, never run the vision tower, and raise nothing.
``VideoGRPOTrainer`` makes each sample's video tensors travel with it:

1. ``_tokenize_prompts``: each prompt goes through the processor with its decoded videos at the
   clip's own clock and within the frame budget (``data.model_inputs``; the rows carry the MP4 bytes
   and fps), once per distinct prompt of the batch; the per-sample tensors are kept. Qwen3-VL's
   clock is text (a ``<t seconds>`` marker per temporal patch) and so travels in the prompt ids;
   Qwen2.5-VL's is ``second_per_grid_ts``, one of the tensors;
2. ``_generate_and_score_completions``: the per-sample tensors join the batch as one list entry
   per sample, which TRL shuffles and splits into micro-batches in unison with everything else;
3. ``_get_per_token_logps_and_entropies`` (old, reference and loss passes): the model is called
   through a wrapper that adds the video tensors of exactly the rows in each chunk.

A completion must never hold a vision token (``<|video_pad|>``, ``<|image_pad|>``, ``<|vision_start|>``
...): the model counts every ``<|video_pad|>`` of the sequence as a placeholder, so one sampled token
makes the loss forward fail (tokens 3042, features 3040). Generation suppresses them, and
``_generate`` replaces any that still come back (vLLM, a custom rollout function) with padding that
the loss does not count.

The TRL versions whose internals this relies on are pinned (``SUPPORTED_TRL``); a test checks the
signatures, so an upgrade that changes them fails loudly instead of training without video.
"""

from __future__ import annotations

import torch
import trl
from packaging.version import Version
from trl import GRPOTrainer

from videolake.trainer.data import FrameBudget, model_inputs, prompt_messages, videos

SUPPORTED_TRL = (Version("1.16"), Version("1.17"))  # [low, high)
VIDEO_KEYS = ("pixel_values_videos", "video_grid_thw", "second_per_grid_ts")  # those the processor returns
VIDEO_COLUMN = "video_inputs"  # per-sample video tensors in TRL's batch
VISION_TOKENS = (
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<|image|>",
    "<|video|>",
)
VISION_TOKEN_ID_KEYS = (
    "image_token_id",
    "video_token_id",
    "vision_start_token_id",
    "vision_end_token_id",
    "image_token_index",
    "video_token_index",
)


def check_trl_version(version: str = trl.__version__) -> None:
    low, high = SUPPORTED_TRL
    if not low <= Version(version) < high:
        raise RuntimeError(
            f"videolake's GRPO trainer carries video tensors through TRL internals checked for TRL >= {low}, < {high}; this is TRL {version}. Install a supported TRL."
        )


def vision_token_ids(config, processor) -> list[int]:
    """The ids the model or its processor read as part of an image or a video: the model's config,
    the processor's placeholder ids and the tokenizer's vision tokens, within the vocabulary."""
    tokenizer = getattr(processor, "tokenizer", processor)
    candidates = [getattr(config, key, None) for key in VISION_TOKEN_ID_KEYS]
    candidates += [getattr(processor, key, None) for key in VISION_TOKEN_ID_KEYS]
    added = tokenizer.get_added_vocab()
    candidates += [added[token] for token in VISION_TOKENS if token in added]
    vocabulary = config.get_text_config().vocab_size
    return sorted({token for token in candidates if isinstance(token, int) and 0 <= token < vocabulary})


def without_vision_tokens(
    completion_ids: list[list[int]], tool_mask: list[list[int]] | None, vision_ids: list[int], replacement: int
):
    """Completions with every model-generated vision token replaced by ``replacement``, and the loss
    mask (TRL's ``tool_mask``: 1 counts) that leaves those positions out; tokens a tool inserted
    (mask 0) stay as they are."""
    forbidden = set(vision_ids)
    if not any(token in forbidden for ids in completion_ids for token in ids):
        return completion_ids, tool_mask
    masks = tool_mask if tool_mask is not None else [[1] * len(ids) for ids in completion_ids]
    cleaned_ids, cleaned_masks = [], []
    for ids, mask in zip(completion_ids, masks, strict=True):
        replaced = [bool(kept) and token in forbidden for token, kept in zip(ids, mask, strict=True)]
        cleaned_ids.append([replacement if hit else token for token, hit in zip(ids, replaced, strict=True)])
        cleaned_masks.append([0 if hit else kept for kept, hit in zip(mask, replaced, strict=True)])
    return cleaned_ids, cleaned_masks


def with_prompts(records):
    """A lake split as GRPO rows: chat messages are built at load time (Arrow would corrupt mixed
    content parts if they were stored), the other columns pass through (task and answer feed the
    rewards; videos and fps feed the processor)."""

    def add_prompts(batch: dict) -> dict:
        rows = [dict(zip(batch, values, strict=True)) for values in zip(*batch.values(), strict=True)]
        return {**batch, "prompt": [prompt_messages(row) for row in rows]}

    return records.with_transform(add_prompts)


class _ModelWithVideos:
    """Calls the model with the video tensors of the rows it is called on, in order."""

    def __init__(self, model, rows: list[dict], video_token_id: int | None):
        self.model, self.rows, self.video_token_id, self.used = model, rows, video_token_id, 0

    def __call__(self, **inputs):
        count = inputs["input_ids"].shape[0]
        chunk = self.rows[self.used : self.used + count]
        self.used += count
        device = inputs["input_ids"].device
        for key in chunk[0]:
            inputs[key] = torch.cat([row[key] for row in chunk]).to(device)
        if inputs.get("mm_token_type_ids") is None and self.video_token_id is not None:
            inputs["mm_token_type_ids"] = (inputs["input_ids"] == self.video_token_id).long() * 2
        return self.model(**inputs)

    def __getattr__(self, name):
        return getattr(self.model, name)


class VideoGRPOTrainer(GRPOTrainer):
    """``GRPOTrainer`` for rows of a videolake split (see ``with_prompts``), every frame within ``budget``."""

    def __init__(self, *args, budget: FrameBudget, **kwargs):
        check_trl_version()
        super().__init__(*args, **kwargs)
        self.budget = budget
        self._vision_token_ids = vision_token_ids(self.model.config, self.processing_class)
        if not self.use_vllm:  # vLLM samples without this list: _generate cleans what it returns
            suppressed = sorted({*(self.generation_kwargs.get("suppress_tokens") or []), *self._vision_token_ids})
            self.generation_kwargs["suppress_tokens"] = suppressed
            self.generation_config.suppress_tokens = suppressed
        self._batch_rows: list[dict] | None = None  # the dataset rows being generated for
        self._video_rows: list[dict] | None = None  # per-sample video tensors of the pass in progress

    def create_model_card(self, *args, **kwargs):
        """Writes no card: TRL's, written into the run folder at each checkpoint, is a template that
        knows neither the dataset nor the base model. The run's facts are in train_config.json."""

    def _generate_and_score_completions(self, inputs):
        self._batch_rows = inputs
        try:
            output = super()._generate_and_score_completions(inputs)
            output[VIDEO_COLUMN] = self._video_rows
        finally:
            self._batch_rows = self._video_rows = None
        return output

    def _generate(self, prompts):
        prompt_ids, completion_ids, tool_mask, *rest = super()._generate(prompts)
        completion_ids, tool_mask = without_vision_tokens(
            completion_ids, tool_mask, self._vision_token_ids, self._tokenizer.pad_token_id
        )
        return (prompt_ids, completion_ids, tool_mask, *rest)

    def _tokenize_prompts(self, prompts):
        rows = self._batch_rows
        if rows is None or len(rows) != len(prompts):
            raise RuntimeError("VideoGRPOTrainer tokenizes prompts only for the rows it is generating for")
        prompt_ids, per_sample, token_types = [], [], []
        # a batch holds each prompt num_generations times: decode and process it once
        encoded_by_id: dict[str, dict] = {}
        for row, prompt in zip(rows, prompts, strict=True):
            if row["id"] not in encoded_by_id:
                encoded_by_id[row["id"]] = self._encode(row, prompt)
            encoded = encoded_by_id[row["id"]]
            prompt_ids.append(encoded["input_ids"][0].tolist())
            per_sample.append({key: encoded[key] for key in VIDEO_KEYS if key in encoded})
            if "mm_token_type_ids" in encoded:
                token_types.append(encoded["mm_token_type_ids"][0].tolist())
        self._video_rows = per_sample
        fields = {key: torch.cat([sample[key] for sample in per_sample]) for key in per_sample[0]}
        if token_types:
            fields["mm_token_type_ids"] = token_types  # per token: TRL left-pads it with the prompt ids
        return prompt_ids, None, fields

    def _encode(self, row: dict, prompt: list[dict]):
        """The processor's output for one prompt with its videos at the clip's own clock."""
        text = self.processing_class.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
        return model_inputs(self.processing_class, [text], videos(row), self.budget)

    def _compute_loss(self, model, inputs):
        self._video_rows = inputs[VIDEO_COLUMN]
        try:
            return super()._compute_loss(model, inputs)
        finally:
            self._video_rows = None

    def _get_per_token_logps_and_entropies(self, model, input_ids, *args, **kwargs):
        if self._video_rows is None:
            raise RuntimeError("a forward pass without its video tensors: the loss would not see the video")
        wrapped = _ModelWithVideos(model, self._video_rows, getattr(self, "_video_pad_token_id", None))
        result = super()._get_per_token_logps_and_entropies(wrapped, input_ids, *args, **kwargs)
        if wrapped.used != input_ids.shape[0]:
            raise RuntimeError(f"{wrapped.used} rows of video tensors used for {input_ids.shape[0]} sequences")
        return result
