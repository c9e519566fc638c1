"""The smoke run as a newcomer types it: ``--model tiny`` through the command line on a tiny build,
no download, CPU sizes by default, a run folder without TRL's placeholder card, and rollouts."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.helpers.cli import assert_one_line_error, run_cli
from videolake.trainer.tiny import CPU_SETTINGS

pytestmark = pytest.mark.slow  # a build of several tasks or a model trained: `make check` skips it


def logged_steps(run) -> list[int]:
    return [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("algorithm", ["grpo", "sft"])
def test_a_tiny_run_trains_at_cpu_sizes_for_max_steps(lake, tmp_path, algorithm):
    run = tmp_path / "run"
    result = run_cli("train", algorithm, lake, "--model", "tiny", "--out", run, "--max-steps", "3")
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(set(logged_steps(run))) == [1, 2, 3]
    config = json.loads((run / "train_config.json").read_text())
    assert config["model"] == "tiny" and config["max_steps"] == 3 and config["algorithm"] == algorithm
    assert CPU_SETTINGS[algorithm].items() <= config.items()
    assert (run / "final" / "config.json").exists() and (run / "final" / "processor_config.json").exists()
    assert not list(run.rglob("README.md")), "a placeholder model card was written"
    before = (run / "final" / "model.safetensors").read_bytes()
    again = run_cli("train", algorithm, lake, "--model", "tiny", "--out", run, "--max-steps", "3")
    assert_one_line_error(again, "holds a finished run")  # never trained over from scratch
    assert (run / "final" / "model.safetensors").read_bytes() == before


def test_tiny_rollouts_write_k_completions_per_record(lake, records, tmp_path):
    out = tmp_path / "rollouts.jsonl"
    result = run_cli("rollouts", lake, "--model", "tiny", "--k", "3", "--max-new-tokens", "4", "--out", out)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "rollouts: 100%" in result.stderr  # the progress bar
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(isinstance(line["completion"], str) for line in lines)
    assert Counter(line["id"] for line in lines) == dict.fromkeys(records["id"], 3)
    assert [p.name for p in tmp_path.iterdir()] == ["rollouts.jsonl"]  # no partial file left
    again = run_cli("rollouts", lake, "--model", "tiny", "--k", "3", "--out", out)
    assert_one_line_error(again, "exists: choose a new --out")
