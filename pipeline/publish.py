"""``videolake publish DIR REPO_ID``: stage a built dataset as Hub parquet with a dataset card, then
upload only what the repository does not already hold.

Staging never touches the build folder (``.map``/``.cast`` on a ``load_from_disk`` result would
write ``cache-*.arrow`` there, and an uploaded build folder then loads doubled rows). Layout:

    README.md                                   the card: configs, features, counts, how to load and score
    data/<dataset>/<task>/<split>-NNNNN.parquet  one file per build shard and task; ``videos`` is List(Video())
    images/<dataset>/*.png                      composition chart and contact sheets

Configs: ``<dataset>`` (every task) and ``<dataset>-<task>``; ``default`` is the first dataset
staged into the folder, so several recipes share one repository as separate configs (the folder
remembers what it holds in a dot-file that is never uploaded).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from videolake import VideolakeError
from videolake.pipeline.shards import atomic_write_bytes, read_shard
from videolake.pipeline.validate import load_manifest

CARD = "README.md"
FRONT_MATTER = "---\n"
COLUMNS = ["id", "task", "subtype", "tier", "split", "source_id", "system", "question", "answer", "reasoning", "videos", "fps", "meta"]
CONTACT_SHEETS = 3


def features():
    from datasets import Features, List, Value, Video

    string = Value("string")
    columns = dict.fromkeys(COLUMNS, string)
    return Features({**columns, "videos": List(Video()), "fps": Value("float64")})


def hub_table(table: pa.Table) -> pa.Table:
    """Record columns with ``videos`` as the Video feature's storage (bytes, path), no copy of the bytes."""
    videos = table.column("videos").combine_chunks()
    items = pa.StructArray.from_arrays([videos.values, pa.nulls(len(videos.values), pa.string())], names=["bytes", "path"])
    as_video = pa.ListArray.from_arrays(videos.offsets, items)
    columns = {name: (as_video if name == "videos" else table.column(name)) for name in COLUMNS}
    return pa.table(columns, schema=features().arrow_schema)


def parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def stage_data(dataset_dir: Path, staging: Path, manifest: dict) -> dict[str, dict[str, int]]:
    """Write the parquet files; return rows per task and split."""
    name = manifest["dataset"]
    rows: dict[str, dict[str, int]] = {}
    for key in sorted(manifest["shards"]):
        split, filename = key.split("/", 1)
        index = filename.split("-")[1]
        table = read_shard(dataset_dir / key)
        for task in sorted(set(table.column("task").to_pylist())):
            part = table.filter(pc.equal(table.column("task"), task))
            atomic_write_bytes(staging / "data" / name / task / f"{split}-{index}.parquet", parquet_bytes(hub_table(part)))
            rows.setdefault(task, {}).setdefault(split, 0)
            rows[task][split] += part.num_rows
    return rows


def config(config_name: str, pattern: str, splits: dict[str, int]) -> tuple[dict, dict]:
    """The card's ``configs`` entry and ``dataset_info`` entry of one config."""
    from datasets import DatasetInfo, SplitDict, SplitInfo

    files = {"config_name": config_name, "data_files": [{"split": split, "path": pattern.format(split=split)} for split in sorted(splits)]}
    info = DatasetInfo(features=features(), splits=SplitDict({split: SplitInfo(split, num_examples=count) for split, count in sorted(splits.items())}))
    return files, {"config_name": config_name, **info._to_yaml_dict()}


def size_category(total: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if total < limit:
            return label
    return "1M<n<10M"


def body_section(manifest: dict, rows: dict[str, dict[str, int]], images: list[str], repo_id: str) -> str:
    name, recipe = manifest["dataset"], manifest["recipe"]
    lines = [f"## {name}", "", recipe.get("description", ""), ""]
    lines += ["| task | subtype | tier | split | samples |", "| --- | --- | --- | --- | --- |"]
    for split, counts in sorted(manifest["counts"].items()):
        for key, count in sorted(counts.items()):
            task, subtype, tier = key.split("/")
            lines.append(f"| {task} | {subtype} | {tier} | {split} | {count} |")
    holdout = manifest["holdout"]
    lines += [
        "",
        f"Recipe `{name}`, seed {manifest['seed']}, built by videolake {manifest['versions']['videolake']} from {manifest['sources']['count']} source clips "
        f"(sources digest `{manifest['sources']['digest'][:16]}`); encoder {manifest['encoder']['codec']} {json.dumps(manifest['encoder']['options'])}.",
        f"Benchmark holdout: {holdout['rule']} (fraction {holdout['fraction']}: {len(holdout['benchmark_source_ids'])} benchmark and {len(holdout['train_source_ids'])} training sources, disjoint).",
        f"Licence of the sources, as the recipe states it: `{recipe['license']}`.",
        "",
        *[f"![{Path(image).stem}]({image})" for image in images],
        "",
        "Load it (every task, or one: `" + "`, `".join(f"{name}-{task}" for task in sorted(rows)) + "`):",
        "",
        "```python",
        "import datasets",
        f'ds = datasets.load_dataset("{repo_id}", "{name}")',
        'row = ds["train"][0]  # question with one <video> per entry of videos; answer; meta proves it',
        "```",
        "",
        "Score a model's output with the rewards the answers were built for (`pip install videolake`):",
        "",
        "```python",
        "from videolake.rewards import compute_score",
        'compute_score(row["task"], model_output, row["answer"])["score"]',
        "```",
    ]
    return "\n".join(lines) + "\n"


STATE = ".videolake-publish.json"  # what is staged, so the card can list every dataset; never uploaded


def card_text(state: dict) -> str:
    """The card, from every dataset staged into the folder: front matter, then one section each."""
    configs, infos, licences, total = [], [], set(), 0
    for name, staged in state["datasets"].items():
        totals: dict[str, int] = {}
        for per_split in staged["rows"].values():
            for split, count in per_split.items():
                totals[split] = totals.get(split, 0) + count
        total += sum(totals.values())
        licences.add(staged["license"])
        entries = [config(name, f"data/{name}/*/{{split}}-*.parquet", totals)]
        entries += [config(f"{name}-{task}", f"data/{name}/{task}/{{split}}-*.parquet", per_split) for task, per_split in sorted(staged["rows"].items())]
        if name == state["default"]:
            entries.insert(0, config("default", f"data/{name}/*/{{split}}-*.parquet", totals))
        configs += [files for files, _ in entries]
        infos += [info for _, info in entries]
    front = {
        "license": sorted(licences)[0] if len(licences) == 1 else sorted(licences),
        "task_categories": ["video-text-to-text"],
        "tags": ["video", "rlvr", "verifiable-rewards", "videolake"],
        "size_categories": [size_category(total)],
        "pretty_name": f"videolake: {', '.join(state['datasets'])}",
        "configs": configs,
        "dataset_info": infos,
    }
    intro = "# videolake datasets\n\nVerifiable video RLVR data built with videolake: every answer can be re-derived from its `meta`.\n\n"
    sections = "\n".join(staged["section"] for staged in state["datasets"].values())
    return FRONT_MATTER + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + FRONT_MATTER + intro + sections


def stage(dataset_dir: Path, staging: Path, repo_id: str) -> Path:
    """Stage ``dataset_dir`` into ``staging`` (created, or extended with another dataset)."""
    from videolake.pipeline.inspect import inspect

    dataset_dir = Path(dataset_dir)
    manifest = load_manifest(dataset_dir)
    name, recipe = manifest["dataset"], manifest["recipe"]
    if not recipe.get("license"):
        raise VideolakeError(f"recipe {name} states no licence for its sources: add `license: <SPDX id, or other>` to the recipe and rebuild before publishing")
    rows = stage_data(dataset_dir, staging, manifest)
    pictures = inspect(dataset_dir, staging / "images" / name, samples=CONTACT_SHEETS, seed=0)
    images = [path.relative_to(staging).as_posix() for path in pictures]
    state_path = staging / STATE
    state = json.loads(state_path.read_text()) if state_path.exists() else {"default": name, "datasets": {}}
    state["datasets"][name] = {"rows": rows, "license": recipe["license"], "section": body_section(manifest, rows, images, repo_id)}
    atomic_write_bytes(state_path, json.dumps(state, indent=1, sort_keys=True).encode())
    atomic_write_bytes(staging / CARD, card_text(state).encode())
    return staging


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def local_files(staging: Path) -> dict[str, tuple[str, str]]:
    """Staged files: path -> (sha256, git blob sha1), what the Hub reports for LFS and regular files."""
    found = {}
    for path in sorted(staging.rglob("*")):
        relative = path.relative_to(staging).as_posix()
        if path.is_file() and not relative.startswith("."):
            data = path.read_bytes()
            found[relative] = (hashlib.sha256(data).hexdigest(), git_blob_sha1(data))
    return found


def remote_files(api, repo_id: str) -> dict[str, str]:
    """Files already in the repository: path -> sha256 (LFS) or git blob sha1."""
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        entries = api.list_repo_tree(repo_id, repo_type="dataset", recursive=True)
        return {e.path: (e.lfs.sha256 if getattr(e, "lfs", None) else e.blob_id) for e in entries if hasattr(e, "blob_id")}
    except RepositoryNotFoundError:
        return {}


def upload_plan(staging: Path, remote: dict[str, str]) -> list[str]:
    """The staged files the repository does not hold byte for byte."""
    return [path for path, hashes in local_files(staging).items() if remote.get(path) not in hashes]


def upload(staging: Path, repo_id: str, private: bool, api=None) -> list[str]:
    """Create the repository if needed and upload what the plan says (resumable large-folder upload).
    The token comes from ``huggingface-cli login`` or ``HF_TOKEN``; it is never written anywhere."""
    from huggingface_hub import HfApi

    api = api or HfApi()
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    plan = upload_plan(staging, remote_files(api, repo_id))
    if plan:
        api.upload_large_folder(repo_id=repo_id, folder_path=str(staging), repo_type="dataset", allow_patterns=plan, print_report=False)
    return plan


def default_staging(dataset_dir: Path, repo_id: str) -> Path:
    """Beside the dataset, one folder per repository (so datasets published together share it)."""
    return Path(dataset_dir).parent / ".videolake-publish" / repo_id.replace("/", "--")
