"""Supervised fine-tuning (the SynRL cold start on reasoning traces, or any answers) on a built lake.

A Hugging Face ``Trainer`` with the video-carrying collator: TRL's SFTTrainer has no video path,
and nothing here needs more than a collator that hands the model its video tensors.
"""

from __future__ import annotations

from pathlib import Path

from transformers import Trainer, TrainingArguments

from videolake.trainer.collate import SFTCollator
from videolake.trainer.data import FrameBudget


def sft_trainer(model, processor, records, output_dir: Path, budget: FrameBudget, **arguments) -> Trainer:
    """``records``: a ``datasets.Dataset`` of lake records (``load_from_disk(DIR)[split]``); every frame
    within ``budget``."""
    settings = {"per_device_train_batch_size": 1, "report_to": [], "save_strategy": "no", **arguments}
    args = TrainingArguments(output_dir=str(output_dir), remove_unused_columns=False, **settings)
    return Trainer(model=model, args=args, train_dataset=records, data_collator=SFTCollator(processor, budget))
