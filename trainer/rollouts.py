"""``videolake rollouts DIR --model M --k 8 --out ROLLOUTS.jsonl``: k sampled completions per record
with transformers generation, one JSON line each (``{"id", "completion"}``), what
``videolake curate`` reads. Any other engine (vLLM, SGLang, ...) can write the same lines instead.
``--model tiny`` samples from the tiny random model (trainer/tiny.py), no download.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from videolake import VideolakeError
from videolake.pipeline.dataset import open_dataset, refuse_output_inside
from videolake.trainer.data import FrameBudget, model_inputs, prompt_messages, videos
from videolake.trainer.tiny import CPU_BUDGET, CPU_ROLLOUT_TOKENS, TINY_MODELS, loadable

DEFAULT_TOKENS = 256


def rollouts(
    dataset_dir: Path,
    model_name: str,
    out: Path,
    k: int = 8,
    split: str = "train",
    max_new_tokens: int | None = None,
    temperature: float = 1.0,
    seed: int = 0,
    progress: bool = True,
) -> Path:
    """``max_new_tokens`` defaults to 256, or 16 for a tiny model; frames are sized as in training
    (qwen-vl-utils' budget, a tiny model's CPU one). The file appears only once complete."""
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForImageTextToText, AutoProcessor

    tiny = model_name in TINY_MODELS
    if max_new_tokens is None:
        max_new_tokens = CPU_ROLLOUT_TOKENS if tiny else DEFAULT_TOKENS
    refuse_output_inside(out, dataset_dir)
    if out.exists():
        raise VideolakeError(f"{out} exists: choose a new --out (rollouts never replace a file)")
    records = open_dataset(dataset_dir).hf_split(split)  # only shards whose sha256 matches the manifest
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with loadable(model_name) as source, open(partial, "w", encoding="utf-8") as handle, torch.no_grad():
        model = AutoModelForImageTextToText.from_pretrained(source).to("cuda" if torch.cuda.is_available() else "cpu")
        processor = AutoProcessor.from_pretrained(source)
        bounds = (CPU_BUDGET["video_min_pixels"], CPU_BUDGET["video_max_pixels"]) if tiny else ()
        budget = FrameBudget.of(processor, *bounds)
        torch.manual_seed(seed)
        for record in tqdm(records, desc="rollouts", unit="record", disable=not progress):
            for completion in sampled(model, processor, budget, record, k, max_new_tokens, temperature):
                handle.write(json.dumps({"id": record["id"], "completion": completion}) + "\n")
    os.replace(partial, out)
    return out


def sampled(model, processor, budget, record: dict, k: int, max_new_tokens: int, temperature: float) -> list[str]:
    """k completions of one record's prompt, its videos at their real frame times."""
    text = processor.apply_chat_template(prompt_messages(record), add_generation_prompt=True, tokenize=False)
    inputs = model_inputs(processor, [text], videos(record), budget).to(model.device)
    generated = model.generate(
        **inputs, do_sample=True, temperature=temperature, num_return_sequences=k, max_new_tokens=max_new_tokens
    )
    return processor.batch_decode(generated[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
