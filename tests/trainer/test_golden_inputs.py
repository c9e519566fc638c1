"""The clock and the budget are one contract in three trainers (docs/models.md): for the same
record, videolake's trainer, verl's dataset path (qwen-vl-utils) and LLaMA-Factory's template hand
the processor the same video tokens (Qwen3-VL's ``<t seconds>`` markers included), the same grid
and the same seconds per temporal patch, and those are what the contract says: frame i at i / fps,
every frame, each within the frame budget. One consumers' subprocess per model family."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.consumers import run_in_consumers_env
from tests.trainer.clock import BUDGET, FAMILIES, TINY_NAME, assert_on_the_clock, contract_blocks, video_blocks
from videolake.commands.exports import exporter, frame_counts
from videolake.pipeline.graph import build
from videolake.pipeline.recipes import load_recipe
from videolake.trainer.data import model_inputs, prompt_messages, videos

pytestmark = pytest.mark.slow  # a build of several tasks or a model trained: `make check` skips it

RECIPE = {
    "name": "golden",
    "max_size": [128, 128],  # frames above Qwen2.5-VL's processor minimum (56x56), below the budget's maximum
    "holdout_fraction": 0,
    "splits": {
        "train": [
            {"task": "anomaly_grounding", "subtype": "channel_swap", "count": 1},  # a real clip at its own fps
            {"task": "temporal_jigsaw", "tier": "easy", "count": 1},  # six videos in one prompt
            {"task": "synrl", "subtype": "card_pile", "count": 1, "params": {"size": 64, "fps": 10}},
        ]
    },
}


@pytest.fixture(scope="module")
def golden_lake(tmp_path_factory, clips_dir) -> Path:
    out = tmp_path_factory.mktemp("golden")
    (out / "sources").mkdir()
    (out / "sources" / "bikes.mp4").symlink_to(clips_dir / "bikes.mp4")
    (out / "r.yaml").write_text(yaml.safe_dump(RECIPE))
    return build(load_recipe(str(out / "r.yaml")), str(out / "sources"), out / "out", workers=1, progress=False)


def told(tokenizer, inputs: dict) -> dict:
    """What one path tells the model about a record's videos."""
    return {
        "blocks": video_blocks(tokenizer, inputs["input_ids"]),
        "grid": [list(map(int, grid)) for grid in inputs["video_grid_thw"]],
        "seconds_per_patch": [round(float(x), 6) for x in inputs["second_per_grid_ts"]],  # float32 or not
    }


@pytest.mark.consumers
@pytest.mark.parametrize("family", FAMILIES)
def test_the_trainer_verl_and_llamafactory_tell_the_model_the_same_clock_at_the_same_budget(
    golden_lake, family, tmp_path
):
    import datasets

    records = list(datasets.load_from_disk(str(golden_lake))["train"])
    (parquet,) = exporter("verl")(golden_lake, tmp_path, None, BUDGET.min_pixels, BUDGET.max_pixels)
    exporter("llamafactory")(golden_lake, tmp_path, None)
    out = tmp_path / "seen.json"
    fastest = max(record["fps"] for record in records)  # LLaMA-Factory samples every frame at or above a clip's rate
    run_in_consumers_env(
        "golden_inputs.py",
        TINY_NAME[family],
        parquet,
        tmp_path / "llamafactory",
        "golden_train",
        fastest,
        BUDGET.min_pixels,
        BUDGET.max_pixels,
        out,
        cwd=tmp_path,
    )
    seen = json.loads(out.read_text())
    llamafactory = {Path(item["videos"][0]).stem: item for item in seen["llamafactory"]}  # files named by sha256
    _, processor = FAMILIES[family]()
    patch = processor.video_processor.patch_size
    assert len(seen["verl"]) == len(llamafactory) == len(records)
    for record in records:
        text = processor.apply_chat_template(prompt_messages(record), add_generation_prompt=True, tokenize=False)
        ours = dict(model_inputs(processor, [text], videos(record), BUDGET))
        ours = {**ours, "input_ids": ours["input_ids"][0], "second_per_grid_ts": ours.get("second_per_grid_ts", [])}
        paths = {
            "videolake": told(processor.tokenizer, ours),
            "verl": told(processor.tokenizer, seen["verl"][record["id"]]),
            "llamafactory": told(processor.tokenizer, llamafactory[hashlib.sha256(record["videos"][0]).hexdigest()]),
        }
        assert paths["verl"] == paths["videolake"] == paths["llamafactory"], record["id"]
        grid = paths["videolake"]["grid"]
        assert paths["videolake"]["blocks"] == contract_blocks(family, grid, frame_counts(record), record["fps"])
        assert_on_the_clock(family, paths["videolake"]["seconds_per_patch"], record["fps"])
        for _, h, w in grid:
            assert BUDGET.min_pixels <= h * w * patch**2 <= BUDGET.max_pixels


def test_the_videossr_preset_trains_on_48_frames_a_sample(golden_lake, tmp_path):
    assert_one_line_error(
        run_cli("train", "grpo", golden_lake, "--model", "tiny-qwen3-vl", "--out", tmp_path, "--preset", "videossr"),
        "the preset trains on 48 per sample",
    )


def test_a_frame_budget_on_an_export_without_one_is_refused(golden_lake, tmp_path):
    assert_one_line_error(
        run_cli("export", "llamafactory", golden_lake, "--out", tmp_path, "--max-pixels", "65536"),
        "video_max_pixels in its training YAML",
    )
    assert not (tmp_path / "llamafactory").exists()
