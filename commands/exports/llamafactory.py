"""LLaMA-Factory: sharegpt JSON per split plus its ``dataset_info.json`` entries
(``EXPORT/llamafactory/<dataset>_<split>.json``; point ``dataset_dir`` at that folder).

Each item: ``messages`` (the user question with one ``<video>`` per video, then the assistant's
answer, or for records with a reasoning trace the trace in <think> and the answer in <answer>),
``system`` and ``videos`` (paths). Entries already in ``dataset_info.json`` are kept, so several
datasets can share one folder (the export lock keeps concurrent exports from losing each other's);
a ``dataset_info.json`` that is not a JSON object is refused, never replaced.
"""

from __future__ import annotations

from pathlib import Path

from videolake import VideolakeError
from videolake.commands.exports import exporting, records, sft_target, video_path, write_json
from videolake.pipeline.dataset import read_json

FOLDER = "llamafactory"


def item(record: dict, export_dir: Path) -> dict:
    return {
        "messages": [
            {"role": "user", "content": record["question"]},
            {"role": "assistant", "content": sft_target(record)},
        ],
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


INFO = "dataset_info.json"


def read_info(path: Path) -> dict:
    """The entries already there (other datasets', the user's own), or one line when it is broken."""
    if not path.exists():
        return {}
    info = read_json(path)
    if not isinstance(info, dict) or not all(isinstance(entry, dict) for entry in info.values()):
        raise VideolakeError(
            f"{path}: not LLaMA-Factory's dataset_info.json (a JSON object of dataset entries): fix or remove it"
        )
    return info


def export(dataset_dir: Path, export_dir: Path, split: str | None = None) -> list[Path]:
    dataset = Path(dataset_dir).name
    with exporting(dataset_dir, export_dir, FOLDER, split) as session:
        info_path = session.root / FOLDER / INFO
        info = read_info(info_path)
        entries = {name: f"{dataset}_{name}" for name in session.splits}
        targets = {name: session.claim(f"{FOLDER}/{entry}.json") for name, entry in entries.items()}
        for entry in entries.values():
            session.claim(f"{FOLDER}/{INFO}#{entry}", present=entry in info)
        items: dict[str, list[dict]] = {}
        for name, record in records(dataset_dir, split):
            items.setdefault(name, []).append(item(record, session.root))
        for name, split_items in items.items():
            write_json(targets[name], split_items)
        for stale in session.stale():
            info.pop(stale.removeprefix(f"{FOLDER}/{INFO}#"), None)
        info.update({entries[name]: dataset_entry(f"{entries[name]}.json") for name in items})
        write_json(info_path, info)
        return [*(targets[name] for name in items), info_path]
