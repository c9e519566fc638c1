"""Tiny video-language models with random weights, built from a config with a tokenizer made here:
no download, forward and backward on the CPU in about a second. ``--model tiny`` on ``videolake
train`` and ``videolake rollouts`` (a smoke run of the whole path), and the tests' model.

One builder per model family, named in ``TINY_MODELS``; each returns ``(model, processor)``."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for p in m['content'] %}"
    "{% if p['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>{% else %}{{ p['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|video_pad|>",
    "<|image_pad|>",
]


def char_tokenizer():
    """A tokenizer with one token per character and the Qwen special tokens, and its vocabulary."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate([*SPECIAL, "[UNK]", *map(chr, range(32, 127)), "\n"])}
    words = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    words.pre_tokenizer = pre_tokenizers.Split("", "isolated")  # one token per character
    words.decoder = decoders.Fuse()  # and decoding joins them back without spaces
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=words,
        unk_token="[UNK]",
        pad_token="<|endoftext|>",
        eos_token="<|im_end|>",
        additional_special_tokens=SPECIAL,
    )
    tokenizer.image_token, tokenizer.video_token = "<|image_pad|>", "<|video_pad|>"
    return tokenizer, vocab


def tiny_qwen2_5_vl(seed: int = 0):
    """Qwen2.5-VL: time in ``second_per_grid_ts`` (its rotary positions), patches of 14 pixels."""
    import torch
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
    )
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    tokenizer, vocab = char_tokenizer()
    processor = Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(),
        # Qwen2.5-VL-7B-Instruct's own bounds: the frame budget is the trainer's (and verl's, LLaMA-Factory's)
        video_processor=Qwen2VLVideoProcessor(min_pixels=56 * 56, max_pixels=28 * 28 * 16384),
        tokenizer=tokenizer,
        chat_template=CHAT_TEMPLATE,
    )
    config = Qwen2_5_VLConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "rope_scaling": {"type": "mrope", "mrope_section": [1, 1, 2]},
            # the text model's ids: its defaults are Qwen's, outside this vocabulary
            "bos_token_id": vocab["<|endoftext|>"],
            "eos_token_id": vocab["<|im_end|>"],
            "pad_token_id": vocab["<|endoftext|>"],
        },
        vision_config={
            "depth": 1,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 32,
            "fullatt_block_indexes": [0],
            "window_size": 112,
        },
        image_token_id=vocab["<|image_pad|>"],
        video_token_id=vocab["<|video_pad|>"],
        vision_start_token_id=vocab["<|vision_start|>"],
    )
    torch.manual_seed(seed)
    return Qwen2_5_VLForConditionalGeneration(config), processor


def tiny_qwen3_vl(seed: int = 0):
    """Qwen3-VL: time as text, a ``<t seconds>`` marker per temporal patch, patches of 16 pixels, and
    vision features fed to the first text layers (deepstack)."""
    import torch
    from transformers import Qwen2VLImageProcessor, Qwen3VLConfig, Qwen3VLForConditionalGeneration, Qwen3VLProcessor
    from transformers.models.qwen3_vl.video_processing_qwen3_vl import Qwen3VLVideoProcessor

    tokenizer, vocab = char_tokenizer()
    processor = Qwen3VLProcessor(
        image_processor=Qwen2VLImageProcessor(patch_size=16),
        # Qwen3-VL-8B-Instruct's own bounds (pixels of the whole video): the frame budget is the trainer's
        video_processor=Qwen3VLVideoProcessor(size={"shortest_edge": 4096, "longest_edge": 32 * 32 * 768 * 32}),
        tokenizer=tokenizer,
        chat_template=CHAT_TEMPLATE,
    )
    config = Qwen3VLConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 8,
            "rope_parameters": {
                "rope_type": "default",
                "rope_theta": 10000.0,
                "mrope_section": [1, 1, 2],
                "mrope_interleaved": True,
            },
        },
        vision_config={
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 2,
            "out_hidden_size": 32,
            "num_position_embeddings": 64,
            "deepstack_visual_indexes": [1],
        },
        image_token_id=vocab["<|image_pad|>"],
        video_token_id=vocab["<|video_pad|>"],
        vision_start_token_id=vocab["<|vision_start|>"],
        vision_end_token_id=vocab["<|vision_end|>"],
        tie_word_embeddings=False,
    )
    config.text_config.bos_token_id = config.text_config.pad_token_id = vocab["<|endoftext|>"]
    config.text_config.eos_token_id = vocab["<|im_end|>"]
    torch.manual_seed(seed)
    return Qwen3VLForConditionalGeneration(config), processor


# the --model name -> its builder
TINY_MODELS = {"tiny": tiny_qwen2_5_vl, "tiny-qwen3-vl": tiny_qwen3_vl}

# What a tiny run on the CPU needs instead of a paper's sizes: under these, a step takes seconds.
CPU_BUDGET = {"video_min_pixels": 56 * 56, "video_max_pixels": 112 * 112}  # a few merged patches a frame
CPU_SETTINGS = {
    "grpo": {  # one prompt and its two completions per optimizer step, whatever a preset asked for
        "per_device_train_batch_size": 2,
        "num_generations": 2,
        "global_batch_size": 1,
        "max_completion_length": 16,
        **CPU_BUDGET,
    },
    "sft": {"per_device_train_batch_size": 2, **CPU_BUDGET},
}
CPU_ROLLOUT_TOKENS = 16  # the default completion length of rollouts from a tiny model


@contextmanager
def loadable(model_name: str) -> Iterator[str]:
    """What ``from_pretrained`` takes for ``model_name``: a Hub id or folder as it is, a tiny model built
    and saved in a temporary folder for as long as it is used (TRL loads GRPO's reference model from a path)."""
    if model_name not in TINY_MODELS:
        yield model_name
        return
    from transformers.utils import logging

    with tempfile.TemporaryDirectory(prefix=f"videolake-{model_name}-") as folder:
        model, processor = TINY_MODELS[model_name]()
        shown = logging.is_progress_bar_enabled()
        logging.disable_progress_bar()  # a bar for writing a 1 MB model would be the run's first line
        try:
            model.save_pretrained(folder)
        finally:
            if shown:
                logging.enable_progress_bar()
        processor.save_pretrained(folder)
        yield folder
