"""`videolake train` on the tiny model: presets and the order settings are taken in, a run folder
with metrics and checkpoints, resume, and `videolake inspect RUN`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.helpers.cli import assert_one_line_error, run_cli
from videolake import VideolakeError
from videolake.trainer.run import presets, resolve_config, trainer_arguments

SMALL = {"save_steps": 1, "max_completion_length": 4, "learning_rate": 1e-3, "beta": 1e-3}


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


def test_a_tiny_models_cpu_sizes_override_the_preset_and_yield_to_the_user(tmp_path):
    config = tmp_path / "mine.yaml"
    config.write_text(yaml.safe_dump({"num_generations": 4, "max_steps": 9}))
    settings = resolve_config("grpo", "videossr", config, model_name="tiny", max_steps=5)
    assert settings["learning_rate"] == 1e-6 and settings["beta"] == 1e-3  # the paper's
    assert settings["per_device_train_batch_size"] == 2 and settings["max_completion_length"] == 16  # the CPU's
    assert settings["num_generations"] == 4 and settings["max_steps"] == 5  # the user's, --max-steps last
    assert trainer_arguments(settings, Path("run"))["gradient_accumulation_steps"] == 2  # 1 prompt x 4 / 2 a device
    full = resolve_config("grpo", "videossr", None, model_name="Qwen/Qwen2.5-VL-7B-Instruct")
    assert full["num_generations"] == 8 and "use_cpu" not in full and "max_steps" not in full


@pytest.mark.slow  # minutes on 2 cores: `make check` skips it
def test_train_grpo_writes_metrics_and_checkpoints_and_resumes(lake, tmp_path):
    config = tmp_path / "small.yaml"
    config.write_text(yaml.safe_dump(SMALL))
    run = tmp_path / "run"
    result = run_cli("train", "grpo", lake, "--model", "tiny", "--out", run, "--config", config, "--max-steps", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert any("reward" in line for line in lines) and sorted({line["step"] for line in lines})[-1] == 2
    assert (run / "checkpoint-2").is_dir() and (run / "final" / "config.json").exists()
    assert json.loads((run / "train_config.json").read_text())["algorithm"] == "grpo"
    result = run_cli("train", "grpo", lake, "--model", "tiny", "--out", run, "--config", config, "--max-steps", "3")
    assert result.returncode == 0, result.stderr[-3000:]
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert 3 in steps and steps.count(1) == 1  # resumed at step 2: the first steps were not redone
    result = run_cli("inspect", run)
    assert result.returncode == 0 and (run / "inspect" / "metrics.png").exists(), result.stderr


def test_train_user_errors_are_one_line(lake, tmp_path):
    assert_one_line_error(
        run_cli("train", "grpo", lake, "--model", "tiny", "--out", tmp_path, "--preset", "nope"),
        "no training preset 'nope'",
    )


def test_a_run_never_writes_inside_its_dataset_nor_among_anothers_files(lake, tmp_path):
    """Refused before any model is loaded, and the folders are left as they were."""
    from tests.helpers.cli import tree_hashes

    before = tree_hashes(lake)
    inside = run_cli("train", "sft", lake, "--model", "tiny", "--out", lake / "run", "--max-steps", "1")
    assert_one_line_error(inside, "is inside the input")
    rollouts = run_cli("rollouts", lake, "--model", "tiny", "--k", "2", "--out", lake / "r.jsonl")
    assert_one_line_error(rollouts, "is inside the input")
    assert tree_hashes(lake) == before
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    result = run_cli("train", "sft", lake, "--model", "tiny", "--out", foreign, "--max-steps", "1")
    assert_one_line_error(result, "holds files that are not a videolake run")
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


def test_a_rerun_resumes_the_same_run_and_refuses_to_train_over_another(tmp_path, capsys):
    from videolake.trainer.run import claim_run

    config = json.dumps({"model": "tiny", "learning_rate": 1e-5, "max_steps": 3})
    run = tmp_path / "run"
    run.mkdir()
    claim_run(run, config)  # a new run
    assert capsys.readouterr().err == ""
    claim_run(run, config)  # killed before its first checkpoint: the same command starts again
    assert "restarting" in capsys.readouterr().err
    for step in (2, 10):
        (run / f"checkpoint-{step}").mkdir()
    claim_run(run, config)  # interrupted: the same command resumes from the last checkpoint
    assert f"resuming {run} from checkpoint-10" in capsys.readouterr().err
    with pytest.raises(VideolakeError, match="other settings"):
        claim_run(run, json.dumps({"model": "tiny", "learning_rate": 1e-4, "max_steps": 3}))
    (run / "final").mkdir()
    with pytest.raises(VideolakeError, match="finished run"):
        claim_run(run, config)  # finished: rerun as it was
    claim_run(run, json.dumps({"model": "tiny", "learning_rate": 1e-5, "max_steps": 5}))  # continued, longer
    assert json.loads((run / "train_config.json").read_text())["max_steps"] == 5
