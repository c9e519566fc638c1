"""`videolake train` end to end on the tiny model: presets, a run folder with metrics and
checkpoints, resume, and `videolake inspect RUN`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli import assert_one_line_error, run_cli
from tests.trainer.tiny import tiny_qwen2_5_vl
from videolake import VideolakeError
from videolake.trainer.run import presets, resolve_config, trainer_arguments


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-model")
    model, processor = tiny_qwen2_5_vl()
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


SMALL = {
    "max_steps": 2,
    "save_steps": 1,
    "per_device_train_batch_size": 2,
    "num_generations": 2,
    "max_completion_length": 4,
    "use_cpu": True,
    "learning_rate": 1e-3,
}


def test_presets_carry_the_papers_settings():
    known = presets()
    assert known["videossr"]["learning_rate"] == 1e-6 and known["videossr"]["beta"] == 1e-3
    assert known["videossr"]["num_generations"] == 8 and known["videossr"]["global_batch_size"] == 64
    assert known["museg"]["learning_rate"] == 1.5e-6 and known["museg"]["beta"] == 0.04
    assert known["synrl-rl"]["beta"] == 0.0 and known["synrl-rl"]["rewards"] == ["accuracy"]
    arguments = trainer_arguments(resolve_config("grpo", "videossr", None), Path("run"))
    # 64 prompts x 8 rollouts per optimizer step on one device of 8 completions: 64 accumulation steps
    assert arguments["gradient_accumulation_steps"] * arguments["per_device_train_batch_size"] == 64 * 8
    with pytest.raises(VideolakeError, match="preset videossr is for grpo, not sft"):
        resolve_config("sft", "videossr", None)


def test_train_grpo_writes_metrics_and_checkpoints_and_resumes(lake, tiny_model, tmp_path):
    config = tmp_path / "small.yaml"
    config.write_text(yaml.safe_dump({**SMALL, "beta": 1e-3}))
    run = tmp_path / "run"
    result = run_cli("train", "grpo", lake, "--model", tiny_model, "--out", run, "--config", config)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert any("reward" in line for line in lines) and sorted({line["step"] for line in lines})[-1] == 2
    assert (run / "checkpoint-2").is_dir() and (run / "final" / "config.json").exists()
    assert json.loads((run / "train_config.json").read_text())["algorithm"] == "grpo"
    config.write_text(yaml.safe_dump({**SMALL, "beta": 1e-3, "max_steps": 3}))
    result = run_cli("train", "grpo", lake, "--model", tiny_model, "--out", run, "--config", config)
    assert result.returncode == 0, result.stderr[-3000:]
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert 3 in steps and steps.count(1) == 1  # resumed at step 2: the first steps were not redone
    result = run_cli("inspect", run)
    assert result.returncode == 0 and (run / "inspect" / "metrics.png").exists(), result.stderr


def test_train_sft_runs(lake, tiny_model, tmp_path):
    config = tmp_path / "small.yaml"
    config.write_text(yaml.safe_dump({"max_steps": 1, "per_device_train_batch_size": 2, "use_cpu": True}))
    result = run_cli(
        "train",
        "sft",
        lake,
        "--model",
        tiny_model,
        "--out",
        tmp_path / "run",
        "--preset",
        "synrl-sft",
        "--config",
        config,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "run" / "final" / "config.json").exists()


def test_train_user_errors_are_one_line(lake, tiny_model, tmp_path):
    assert_one_line_error(
        run_cli("train", "grpo", lake, "--model", tiny_model, "--out", tmp_path, "--preset", "nope"),
        "no training preset 'nope'",
    )
