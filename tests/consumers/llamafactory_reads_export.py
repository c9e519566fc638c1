"""Runs inside the consumers' environment (see verl_reads_export.py): reads a LLaMA-Factory export
the way ``llamafactory-cli train --stage sft`` does (its argument parser, tokenizer loader, the model
family's template, ``get_dataset``), then turns each row's videos into model inputs with the
template's own multimodal plugin. Writes what LLaMA-Factory saw, for the test in the project's venv
to check.

usage: python llamafactory_reads_export.py DATASET_DIR DATASET_NAME VIDEO_FPS OUT.npz
"""

from __future__ import annotations

import json
import sys
import tempfile

import numpy as np
from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
from llamafactory.hparams import get_train_args
from llamafactory.model import load_tokenizer

from videolake.trainer.tiny import TINY_MODELS

TEMPLATES = {"tiny": "qwen2_vl", "tiny-qwen3-vl": "qwen3_vl_nothink"}  # each tiny model's LLaMA-Factory template


def seen_items(
    model_name: str, dataset_dir: str, dataset_name: str, video_fps: float, budget: dict | None = None
) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Each item as LLaMA-Factory trains on it, with ``model_name``'s tiny model and template;
    ``budget``: its ``video_min_pixels`` / ``video_max_pixels`` (LLaMA-Factory's defaults without)."""
    with tempfile.TemporaryDirectory() as scratch:
        model, processor = TINY_MODELS[model_name]()
        model.save_pretrained(scratch)
        processor.save_pretrained(scratch)
        model_args, data_args, training_args, *_ = get_train_args(
            {
                "model_name_or_path": scratch,
                "stage": "sft",
                "do_train": True,
                "finetuning_type": "full",
                "template": TEMPLATES[model_name],
                "dataset_dir": dataset_dir,
                "dataset": dataset_name,
                "cutoff_len": 1_000_000,
                "video_fps": video_fps,
                "video_maxlen": 512,
                **(budget or {}),
                "output_dir": f"{scratch}/run",
                "report_to": "none",
                "overwrite_cache": True,
            }
        )
        tokenizer_module = load_tokenizer(model_args)
        tokenizer, processor = tokenizer_module["tokenizer"], tokenizer_module["processor"]
        template = get_template_and_fix_tokenizer(tokenizer, data_args)
        examples = get_dataset(template, model_args, data_args, training_args, stage="sft", **tokenizer_module)[
            "train_dataset"
        ]
        rows, arrays = [], {}
        for i, example in enumerate(examples):
            videos = example["videos"]
            regular = template.mm_plugin._regularize_videos(
                videos,
                image_max_pixels=processor.video_max_pixels,
                image_min_pixels=processor.video_min_pixels,
                video_fps=processor.video_fps,
                video_maxlen=processor.video_maxlen,
            )
            inputs = template.mm_plugin.get_mm_inputs(
                [], videos, [], [0], [len(videos)], [0], [example["input_ids"]], processor
            )
            for k, frames in enumerate(regular["videos"]):
                arrays[f"{i}/{k}"] = np.stack([np.asarray(frame.convert("RGB")) for frame in frames])
            answer = tokenizer.decode([t for t in example["labels"] if t != -100], skip_special_tokens=True)
            rows.append(
                {
                    "videos": videos,
                    "answer": answer,
                    "input_ids": list(example["input_ids"]),
                    "fps_per_video": regular["fps_per_video"],
                    "video_grid_thw": inputs["video_grid_thw"].tolist(),
                    "second_per_grid_ts": [float(x) for x in inputs.get("second_per_grid_ts", [])],
                    "video_tokens": int(
                        np.sum(np.asarray(example["input_ids"]) == tokenizer.convert_tokens_to_ids("<|video_pad|>"))
                    ),
                }
            )
    return rows, arrays


def main(dataset_dir: str, dataset_name: str, video_fps: str, out: str) -> None:
    rows, arrays = seen_items("tiny", dataset_dir, dataset_name, float(video_fps))
    np.savez(out, rows=json.dumps(rows), **arrays)


if __name__ == "__main__":
    main(*sys.argv[1:])
