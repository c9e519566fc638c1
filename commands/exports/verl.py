"""verl: parquet that ``RLHFDataset`` reads, one file per split (``EXPORT/verl/<dataset>/<split>.parquet``).

- ``prompt``: chat messages whose user text holds one ``<video>`` per entry of ``videos``;
- ``videos``: ``{"video": path, "nframes": n}`` with n the clip's own frame count (made even, as
  qwen-vl-utils requires). Not ``fps``: verl's ``fps`` is a sampling rate and would resample the
  clip; taking every frame keeps the clip's own clock, so answers in seconds stay true;
- ``data_source`` = the task, ``reward_model.ground_truth`` = the answer, ``extra_info`` = task,
  subtype, tier, split, id, fps and meta; these reach ``videolake.rewards.compute_score`` (verl's
  ``reward.custom_reward_function``: path = ``pkg://videolake.rewards``, name = compute_score;
  trainer/configs/verl_grpo.yaml).
"""

from __future__ import annotations

from pathlib import Path

from videolake.commands.exports import chat_prompt, exporting, frame_counts, records, video_path, write_parquet


def row(record: dict, index: int, export_dir: Path) -> dict:
    videos = [
        {"video": str(video_path(export_dir, data)), "nframes": frames - frames % 2}
        for data, frames in zip(record["videos"], frame_counts(record), strict=True)
    ]
    extra = {key: record[key] for key in ("id", "task", "subtype", "tier", "split")}
    return {
        "data_source": record["task"],
        "prompt": chat_prompt(record),
        "videos": videos,
        "reward_model": {"style": "rule", "ground_truth": record["answer"]},
        "extra_info": {"index": index, **extra, "fps": record["fps"], "meta": record["meta"]},
    }


def export(dataset_dir: Path, export_dir: Path, split: str | None = None) -> list[Path]:
    with exporting(dataset_dir, export_dir, "verl", split) as session:
        targets = {name: session.claim(f"verl/{Path(dataset_dir).name}/{name}.parquet") for name in session.splits}
        rows: dict[str, list[dict]] = {}
        for name, record in records(dataset_dir, split):
            rows.setdefault(name, []).append(row(record, len(rows.get(name, [])), session.root))
        return [write_parquet(targets[name], split_rows) for name, split_rows in rows.items()]
