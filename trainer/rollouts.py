"""``videolake rollouts DIR --model M --k 8 --out ROLLOUTS.jsonl``: k sampled completions per record
with transformers generation, one JSON line each (``{"id", "completion"}``), what
``videolake curate`` reads. Any other engine (vLLM, SGLang, ...) can write the same lines instead.
"""

from __future__ import annotations

import json
from pathlib import Path

from videolake.pipeline.dataset import open_dataset
from videolake.trainer.data import prompt_messages, videos


def rollouts(
    dataset_dir: Path,
    model_name: str,
    out: Path,
    k: int = 8,
    split: str = "train",
    max_new_tokens: int = 256,
    temperature: float = 1.0,
) -> Path:
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    records = open_dataset(dataset_dir).hf_split(split)  # only shards whose sha256 matches the manifest
    model = AutoModelForImageTextToText.from_pretrained(model_name)
    processor = AutoProcessor.from_pretrained(model_name)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as handle, torch.no_grad():
        for record in records:
            clips = videos(record)
            text = processor.apply_chat_template(prompt_messages(record), add_generation_prompt=True, tokenize=False)
            inputs = processor(
                text=[text],
                videos=[clip.tensor() for clip in clips] or None,
                videos_kwargs={"video_metadata": [clip.metadata for clip in clips], "do_sample_frames": False},
                return_tensors="pt",
            ).to(model.device)
            generated = model.generate(
                **inputs, do_sample=True, temperature=temperature, num_return_sequences=k, max_new_tokens=max_new_tokens
            )
            for completion in processor.batch_decode(
                generated[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True
            ):
                handle.write(json.dumps({"id": record["id"], "completion": completion}) + "\n")
    return out
