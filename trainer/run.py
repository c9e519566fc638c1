"""``videolake train grpo|sft DIR --model NAME_OR_PATH --out RUN [--preset NAME] [--config train.yaml] [--max-steps N]``.

``--model tiny`` trains a tiny random model built here (trainer/tiny.py) at CPU sizes: a smoke run
of the whole path in minutes, with no download.

Also runnable as ``python -m videolake.trainer.run ...`` under ``accelerate launch`` (multi-GPU,
multi-node, DeepSpeed: trainer/configs/). A run folder holds TRL/transformers checkpoints (a rerun
of the same command resumes from the last one), ``train_config.json`` (the resolved settings) and
``metrics.jsonl`` (one line per logging step: loss, rewards, ...), which ``videolake inspect RUN``
plots.
"""

from __future__ import annotations

import json
import math
import os
import sys
from importlib import resources
from pathlib import Path

import yaml
from transformers import AutoModelForImageTextToText, AutoProcessor, TrainerCallback

from videolake import VideolakeError
from videolake.rewards import accuracy_reward, format_reward
from videolake.trainer import METRICS_FILE
from videolake.trainer.data import FrameBudget, check_frames_per_sample
from videolake.trainer.tiny import CPU_SETTINGS, TINY_MODELS, loadable

ALGORITHMS = ("grpo", "sft")
# everything else goes to the trainer's arguments
OWN_KEYS = {
    "algorithm",
    "rewards",
    "global_batch_size",
    "split",
    "video_min_pixels",  # the frame budget (data.FrameBudget)
    "video_max_pixels",
    "video_frames",  # frames per sample the paper trained on: the lake is checked for it
    "paper_model",  # the model the paper trained: a record (--model says what this run trains)
}
REWARD_FUNCTIONS = {"accuracy": accuracy_reward, "format": format_reward}
CONFIG_FILE = "train_config.json"


def presets() -> dict:
    return yaml.safe_load(resources.files("videolake.trainer").joinpath("presets.yaml").read_text())


def resolve_config(
    algorithm: str,
    preset: str | None,
    config_file: Path | None,
    model_name: str | None = None,
    max_steps: int | None = None,
) -> dict:
    """Preset, then a tiny model's CPU sizes, then the user's YAML, then ``--max-steps`` on top; the
    algorithm must agree with the preset's."""
    settings: dict = {"algorithm": algorithm, "split": "train", "rewards": ["accuracy"]}
    if preset is not None:
        known = presets()
        if preset not in known:
            raise VideolakeError(f"no training preset {preset!r} (known: {', '.join(known)})")
        if known[preset]["algorithm"] != algorithm:
            raise VideolakeError(f"preset {preset} is for {known[preset]['algorithm']}, not {algorithm}")
        settings.update(known[preset])
    if model_name in TINY_MODELS:
        import torch

        settings.update(CPU_SETTINGS[algorithm])
        if not torch.cuda.is_available():  # and in float32: TRL's bf16 autocast makes the CPU's Conv3d backward crawl
            settings.update(use_cpu=True, bf16=False)
    if config_file is not None:
        document = yaml.safe_load(Path(config_file).read_text(encoding="utf-8")) or {}
        if not isinstance(document, dict):
            raise VideolakeError(f"{config_file}: expected a mapping of training settings")
        settings.update(document)
    if max_steps is not None:
        settings["max_steps"] = max_steps
    unknown = sorted(set(settings["rewards"]) - set(REWARD_FUNCTIONS))
    if unknown:
        raise VideolakeError(f"unknown reward {unknown[0]!r} (known: {', '.join(REWARD_FUNCTIONS)})")
    return settings


class MetricsLog(TrainerCallback):
    """Every logged step as one JSON line in the run folder (main process only)."""

    def __init__(self, path: Path):
        self.path = path

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"step": state.global_step, **logs}) + "\n")


def trainer_arguments(settings: dict, out: Path) -> dict:
    arguments = {key: value for key, value in settings.items() if key not in OWN_KEYS}
    arguments.setdefault("report_to", [])
    arguments.setdefault("logging_steps", 1)
    arguments.setdefault("save_steps", 100)
    if settings["algorithm"] == "grpo":
        arguments.setdefault("remove_unused_columns", False)
        if "global_batch_size" in settings:  # prompts per optimizer step -> completions per device and accumulation
            per_device = arguments.setdefault("per_device_train_batch_size", 8)
            world = int(os.environ.get("WORLD_SIZE", "1"))
            completions = settings["global_batch_size"] * arguments.get("num_generations", 8)
            arguments["gradient_accumulation_steps"] = max(1, math.ceil(completions / (per_device * world)))
    return {"output_dir": str(out), **arguments}


def train(
    algorithm: str,
    dataset_dir: Path,
    model_name: str,
    out: Path,
    preset: str | None = None,
    config_file: Path | None = None,
    max_steps: int | None = None,
):
    from videolake.pipeline.dataset import open_dataset, refuse_output_inside

    if algorithm not in ALGORITHMS:
        raise VideolakeError(f"unknown algorithm {algorithm!r} (known: {', '.join(ALGORITHMS)})")
    settings = resolve_config(algorithm, preset, config_file, model_name, max_steps)
    refuse_output_inside(out, dataset_dir)
    refuse_other_content(out)
    records = open_dataset(dataset_dir).hf_split(settings["split"])  # only shards whose sha256 matches the manifest
    if "video_frames" in settings:
        check_frames_per_sample(records, settings["video_frames"])
    out.mkdir(parents=True, exist_ok=True)
    with loadable(model_name) as source:
        processor = AutoProcessor.from_pretrained(source)
        budget = FrameBudget.of(processor, settings.get("video_min_pixels"), settings.get("video_max_pixels"))
        settings = {**settings, **budget.settings()}
        config = json.dumps({"dataset": str(dataset_dir), "model": model_name, "preset": preset, **settings}, indent=2)
        claim_run(out, config + "\n")
        trainer = make_trainer(algorithm, settings, source, processor, budget, records, out)
        trainer.add_callback(MetricsLog(out / METRICS_FILE))
        resume = any(out.glob("checkpoint-*"))
        trainer.train(resume_from_checkpoint=True if resume else None)
        trainer.save_model(str(out / "final"))
        processor.save_pretrained(str(out / "final"))
    return out


def refuse_other_content(out: Path) -> None:
    """A run folder is new, empty, or a run of ours (its ``train_config.json``): never files of another's."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / CONFIG_FILE).is_file())):
        raise VideolakeError(f"{out} holds files that are not a videolake run: choose a new or empty --out")


def claim_run(out: Path, config: str) -> None:
    """Start a run in ``out``, or go on with the same one: a rerun with the same settings resumes from
    the last checkpoint, a finished run continues only to a larger ``--max-steps`` and from a
    checkpoint; other settings, or a finished run rerun as it was, are refused (never retrained over)."""
    written = out / CONFIG_FILE
    if written.is_file():
        stored, wanted = json.loads(written.read_text(encoding="utf-8")), json.loads(config)
        stored_steps, wanted_steps = stored.pop("max_steps", None), wanted.pop("max_steps", None)
        if stored != wanted:
            raise VideolakeError(
                f"{out} holds a run with other settings ({CONFIG_FILE}): choose a new --out, "
                "or rerun with the same settings to resume"
            )
        checkpoints = sorted(out.glob("checkpoint-*"), key=lambda path: int(path.name.rsplit("-", 1)[-1]))
        longer = wanted_steps is not None and (stored_steps is None or wanted_steps > stored_steps)
        if (out / "final").exists() and not (checkpoints and longer):
            raise VideolakeError(
                f"{out} holds a finished run (final/): choose a new --out, "
                "or a larger --max-steps to continue it from its last checkpoint"
            )
        print(
            f"resuming {out} from {checkpoints[-1].name}" if checkpoints else f"restarting {out}: no checkpoint yet",
            file=sys.stderr,
        )
    written.write_text(config, encoding="utf-8")


def make_trainer(algorithm: str, settings: dict, source: str, processor, budget: FrameBudget, records, out: Path):
    """The trainer for ``source``, a Hub id or a model folder."""
    arguments = trainer_arguments(settings, out)
    if algorithm == "grpo":
        from trl import GRPOConfig

        from videolake.trainer.grpo import VideoGRPOTrainer, with_prompts

        rewards = [REWARD_FUNCTIONS[name] for name in settings["rewards"]]
        trainer = VideoGRPOTrainer(
            model=source,
            processing_class=processor,
            reward_funcs=rewards,
            args=GRPOConfig(**arguments),
            train_dataset=with_prompts(records),
            budget=budget,
        )
    else:
        from videolake.trainer.sft import sft_trainer

        model = AutoModelForImageTextToText.from_pretrained(source)
        trainer = sft_trainer(
            model, processor, records, out, budget, **{k: v for k, v in arguments.items() if k != "output_dir"}
        )
    return trainer


def main(argv=None) -> None:
    """Entry point for ``accelerate launch -m videolake.trainer.run``: the same arguments as the CLI."""
    from videolake.commands.cli import main as cli_main

    cli_main(["train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
