"""TRL: parquet with flat columns, one file per split (``EXPORT/trl/<dataset>/<split>.parquet``).

- ``prompt``: conversational (system + user messages, ``<video>`` placeholders in the user text);
- ``videos``: paths, in placeholder order; ``fps``: frame i of every video is at i / fps;
- ``task``, ``answer`` and ``meta``: the columns ``videolake.rewards.accuracy_reward`` reads (meta
  carries reward options such as MUSEG's stage);
- ``completion``: the assistant turn for SFT, in the format the record's prompt asks for (``sft_target``).
Content parts (text and video mixed in one column) are not stored: Arrow corrupts them, so the
trainer's adapter builds them from these flat columns at load time.
"""

from __future__ import annotations

from pathlib import Path

from videolake.commands.exports import chat_prompt, exporting, records, sft_target, video_path, write_parquet


def row(record: dict, export_dir: Path) -> dict:
    return {
        "id": record["id"],
        "prompt": chat_prompt(record),
        "completion": [{"role": "assistant", "content": sft_target(record)}],
        "videos": [str(video_path(export_dir, data)) for data in record["videos"]],
        "fps": record["fps"],
        "task": record["task"],
        "subtype": record["subtype"],
        "tier": record["tier"],
        "answer": record["answer"],
        "meta": record["meta"],
    }


def export(dataset_dir: Path, export_dir: Path, split: str | None = None) -> list[Path]:
    with exporting(dataset_dir, export_dir, "trl", split) as session:
        targets = {name: session.claim(f"trl/{Path(dataset_dir).name}/{name}.parquet") for name in session.splits}
        rows: dict[str, list[dict]] = {}
        for name, record in records(dataset_dir, split):
            rows.setdefault(name, []).append(row(record, session.root))
        return [write_parquet(targets[name], split_rows) for name, split_rows in rows.items()]
