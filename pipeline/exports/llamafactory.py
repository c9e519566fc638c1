"""LLaMA-Factory: sharegpt JSON per split plus its ``dataset_info.json`` entries
(``EXPORT/llamafactory/<dataset>_<split>.json``; point ``dataset_dir`` at that folder).

Each item: ``messages`` (the user question with one ``<video>`` per video, then the assistant's
answer, or for records with a reasoning trace the trace in <think> and the answer in <answer>),
``system`` and ``videos`` (paths). Entries already in ``dataset_info.json`` are kept, so several
datasets can share one folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from videolake.pipeline.exports import records, sft_target, video_path, write_json

FOLDER = "llamafactory"


def item(record: dict, export_dir: Path) -> dict:
    return {
        "messages": [{"role": "user", "content": record["question"]}, {"role": "assistant", "content": sft_target(record) or record["answer"]}],
        "system": record["system"],
        "videos": [str(video_path(export_dir, data)) for data in record["videos"]],
    }


def dataset_entry(file_name: str) -> dict:
    return {
        "file_name": file_name,
        "formatting": "sharegpt",
        "columns": {"messages": "messages", "system": "system", "videos": "videos"},
        "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"},
    }


def export(dataset_dir: Path, export_dir: Path, split: str | None = None) -> list[Path]:
    items: dict[str, list[dict]] = {}
    for name, record in records(dataset_dir, split):
        items.setdefault(name, []).append(item(record, export_dir))
    folder, dataset = export_dir / FOLDER, Path(dataset_dir).name
    written = []
    for name, split_items in items.items():
        path = folder / f"{dataset}_{name}.json"
        write_json(path, split_items)
        written.append(path)
    info_path = folder / "dataset_info.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    info.update({f"{dataset}_{name}": dataset_entry(f"{dataset}_{name}.json") for name in items})
    write_json(info_path, info)
    return [*written, info_path]
