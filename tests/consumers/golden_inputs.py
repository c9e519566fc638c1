"""Runs inside the consumers' environment (see verl_reads_export.py): what verl's dataset path and
LLaMA-Factory's template hand one model family's processor for every record of an export (the
token ids, Qwen3-VL's ``<t seconds>`` markers among them, the grid, Qwen2.5-VL's seconds per
temporal patch), for tests/trainer/test_golden_inputs.py to compare with videolake's trainer.

usage: python golden_inputs.py MODEL VERL.parquet LLAMAFACTORY_DIR DATASET_NAME VIDEO_FPS MIN_PIXELS MAX_PIXELS OUT.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from llamafactory_reads_export import seen_items
from verl_reads_export import read_rows

from videolake.trainer.tiny import TINY_MODELS


def main(model, parquet, lf_dir, lf_name, video_fps, min_pixels, max_pixels, out) -> None:
    _, processor = TINY_MODELS[model]()
    verl, _ = read_rows(parquet, processor)  # the export carries the budget in each video entry
    budget = {"video_min_pixels": int(min_pixels), "video_max_pixels": int(max_pixels)}
    llamafactory, _ = seen_items(model, lf_dir, lf_name, float(video_fps), budget)
    keys = ("input_ids", "video_grid_thw", "second_per_grid_ts")
    Path(out).write_text(
        json.dumps(
            {
                "verl": {row["id"]: {key: row[key] for key in keys} for row in verl},
                "llamafactory": [{key: item[key] for key in ("videos", *keys)} for item in llamafactory],
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
