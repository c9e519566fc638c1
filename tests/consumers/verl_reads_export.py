"""Runs inside the consumers' environment (``.venv-consumers``: verl and LLaMA-Factory with the
dependencies they declare, plus videolake's core install, as their users would have them; ``make
test`` makes it from ``requirements.txt``). It reads a verl export the way verl does and writes what verl saw, for
the test in the project's venv to check:

- the rows: ``RLHFDataset`` (its overlong-prompt filter decodes every video, and drops a row that
  fails to load), then each row's videos through verl's ``process_multi_modal_info`` (qwen-vl-utils)
  and the processor through verl's own ``build_multimodal_processor_inputs``;
- the reward: the shipped ``trainer/configs/verl_grpo.yaml`` composed on verl's ``ppo_trainer``
  (as ``main_ppo`` would), verl's ``load_reward_manager`` on it, and one completion per row scored by
  the manager's ``run_single`` from token ids, as the reward loop does.

usage: python verl_reads_export.py EXPORT.parquet CONFIG_DIR COMPLETIONS.json OUT.npz
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from verl import DataProto
from verl.trainer.ppo.reward import load_reward_manager
from verl.utils.dataset.rl_dataset import RLHFDataset
from verl.utils.tokenizer import build_multimodal_processor_inputs

from videolake.trainer.tiny import tiny_qwen2_5_vl


def seen_rows(parquet: str, processor, config) -> tuple[list[dict], dict[str, np.ndarray]]:
    dataset = RLHFDataset(data_files=[parquet], tokenizer=processor.tokenizer, config=config, processor=processor)
    rows, arrays = [], {}
    for i in range(len(dataset)):
        row = dataset[i]
        messages = row["raw_prompt"]
        _, videos, _ = asyncio.run(RLHFDataset.process_multi_modal_info(messages, dataset.image_patch_size, config))
        text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        inputs = build_multimodal_processor_inputs(processor, text=[text], videos=videos)
        for k, (frames, _) in enumerate(videos):
            arrays[f"{row['extra_info']['id']}/{k}"] = frames.numpy().astype(np.uint8)
        rows.append(
            {
                "id": row["extra_info"]["id"],
                "data_source": row["data_source"],
                "ground_truth": row["reward_model"]["ground_truth"],
                "extra_info": row["extra_info"],
                "metadata": [
                    {
                        "fps": float(m["fps"]),
                        "frames_indices": [int(x) for x in m["frames_indices"]],
                        "total_num_frames": int(m["total_num_frames"]),
                    }
                    for _, m in videos
                ],
                "input_ids": inputs["input_ids"][0].tolist(),
                "video_grid_thw": inputs["video_grid_thw"].tolist(),
                "second_per_grid_ts": [float(x) for x in inputs.get("second_per_grid_ts", [])],
            }
        )
    return rows, arrays


def verl_rewards(
    rows: list[dict], completions: dict[str, str], config_dir: str, parquet: str, tokenizer
) -> dict[str, float]:
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        config = compose(config_name="verl_grpo", overrides=[f"data.train_files={parquet}"])
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    manager = load_reward_manager(config, tokenizer)
    scores = {}
    for row in rows:
        prompt = tokenizer("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
        response = tokenizer(completions[row["id"]], add_special_tokens=False)["input_ids"]
        data = DataProto.from_dict(
            tensors={
                "prompts": torch.tensor([prompt]),
                "responses": torch.tensor([response]),
                "attention_mask": torch.ones(1, len(prompt) + len(response), dtype=torch.long),
            },
            non_tensors={
                key: np.array(
                    [row[key] if key != "reward_model" else {"ground_truth": row["ground_truth"]}], dtype=object
                )
                for key in ("data_source", "reward_model", "extra_info")
            },
        )
        scores[row["id"]] = float(loop.run_until_complete(manager.run_single(data))["reward_score"])
    return scores


def read_rows(parquet: str, processor) -> tuple[list[dict], dict[str, np.ndarray]]:
    """``seen_rows`` under a dataset config that keeps every row a video can load."""
    with tempfile.TemporaryDirectory() as cache:
        config = OmegaConf.create({"cache_dir": cache, "max_prompt_length": 1_000_000, "filter_overlong_prompts": True})
        return seen_rows(parquet, processor, config)


def main(parquet: str, config_dir: str, completions_file: str, out: str) -> None:
    _, processor = tiny_qwen2_5_vl()
    rows, arrays = read_rows(parquet, processor)
    scores = verl_rewards(
        rows, json.loads(Path(completions_file).read_text()), config_dir, parquet, processor.tokenizer
    )
    np.savez(out, rows=json.dumps(rows), scores=json.dumps(scores), **arrays)


if __name__ == "__main__":
    main(*sys.argv[1:])
