"""verl: parquet that ``RLHFDataset`` reads, one file per split (``EXPORT/verl/<dataset>/<split>.parquet``).

- ``prompt``: chat messages whose user text holds one ``<video>`` per entry of ``videos``;
- ``videos``: ``{"video": path, "nframes": n}`` with n the clip's own frame count, even as
  qwen-vl-utils requires (the builder pads every video to an even count), so every frame is taken.
  Not ``fps``: verl's ``fps`` is a sampling rate and would resample the clip; taking every frame
  keeps the clip's own clock, so answers in seconds stay true. With a frame budget (``--min-pixels``
  / ``--max-pixels``: a preset's ``video_min_pixels`` / ``video_max_pixels``) each entry carries
  it as qwen-vl-utils' ``min_pixels`` / ``max_pixels``, so verl resizes each frame as ``videolake
  train`` does (docs/models.md); without one, qwen-vl-utils' defaults, the trainer's too;
- ``data_source`` = the task, ``reward_model.ground_truth`` = the answer, ``extra_info`` = task,
  subtype, tier, split, id, fps and meta; these reach ``videolake.rewards.compute_score`` (verl's
  ``reward.custom_reward_function``: path = ``pkg://videolake.rewards``, name = compute_score;
  trainer/configs/verl_grpo.yaml).
"""

from __future__ import annotations

from pathlib import Path

from videolake import VideolakeError
from videolake.commands.exports import chat_prompt, exporting, frame_counts, records, video_path, write_parquet


def row(record: dict, index: int, export_dir: Path, budget: dict) -> dict:
    """``budget``: ``{"min_pixels": ..., "max_pixels": ...}`` of each frame, or empty."""
    counts = frame_counts(record)
    odd = [frames for frames in counts if frames % 2]
    if odd:
        raise VideolakeError(
            f"{record['id']}: a video of {odd[0]} frames, and qwen-vl-utils takes frames in pairs: "
            "the build predates even frame counts, rebuild it"
        )
    videos = [
        {"video": str(video_path(export_dir, data)), "nframes": frames, **budget}
        for data, frames in zip(record["videos"], counts, strict=True)
    ]
    extra = {key: record[key] for key in ("id", "task", "subtype", "tier", "split")}
    return {
        "data_source": record["task"],
        "prompt": chat_prompt(record),
        "videos": videos,
        "reward_model": {"style": "rule", "ground_truth": record["answer"]},
        "extra_info": {"index": index, **extra, "fps": record["fps"], "meta": record["meta"]},
    }


def export(
    dataset_dir: Path,
    export_dir: Path,
    split: str | None = None,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
) -> list[Path]:
    budget = {key: value for key, value in (("min_pixels", min_pixels), ("max_pixels", max_pixels)) if value}
    with exporting(dataset_dir, export_dir, "verl", split) as session:
        targets = {name: session.claim(f"verl/{Path(dataset_dir).name}/{name}.parquet") for name in session.splits}
        rows: dict[str, list[dict]] = {}
        for name, record in records(dataset_dir, split):
            rows.setdefault(name, []).append(row(record, len(rows.get(name, [])), session.root, budget))
        return [write_parquet(targets[name], split_rows) for name, split_rows in rows.items()]
