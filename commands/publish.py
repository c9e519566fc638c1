"""``videolake publish DIR REPO_ID``: stage a built dataset as Hub parquet with a dataset card, then
upload only what the repository does not already hold.

Staging never touches the build folder (``.map``/``.cast`` on a ``load_from_disk`` result would
write ``cache-*.arrow`` there, and an uploaded build folder then loads doubled rows). Layout:

    README.md                                   the card: configs, features and sizes; per dataset its tasks
                                                (what the model sees, a full-score completion, the reward),
                                                counts, sources and licence, audit; how to load and score;
                                                the papers the tasks come from
    data/<dataset>/<task>/<split>-NNNNN.parquet  one file per build shard and task; ``videos`` is List(Video())
    images/<dataset>/*.png                      composition chart and contact sheets

Configs: ``<dataset>`` (every task) and ``<dataset>-<task>``; ``default`` is the first dataset
staged into the folder, so several recipes share one repository as separate configs (the folder
remembers what it holds in a dot-file that is never uploaded).

Uploading sends the data and pictures first (huggingface_hub's ``upload_folder``: Xet when
``hf_xet`` is installed, else LFS), then one commit with the card and the deletion of files the
staged datasets no longer have, so the card never names a file the repository lacks; rerunning an
interrupted publish sends only what the repository does not hold.

What staging refuses, in one line each: a repository id huggingface_hub would refuse (``..`` would
stage outside the folder); a recipe without ``license``, or with ``license: other`` and no
``sources`` note; a staging folder inside the build, or holding it; a different dataset
of the same name as one the folder already holds (the same build folder, rebuilt, replaces its own
files, and none of its old parquet stays behind); a dataset without records (curation can drop
every sample: nothing would load). Recipe text reaches the card escaped: YAML dumped by
``yaml.safe_dump``, Markdown with every punctuation character backslash-escaped (so no HTML, link,
heading or table cell can be injected) and code spans fenced by a backtick run the text lacks.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from videolake import VideolakeError
from videolake.commands.audit import card_lines, dataset_rows
from videolake.generators import TASKS
from videolake.pipeline.audit import audit_rows
from videolake.pipeline.dataset import open_dataset, read_json, refuse_output_inside, split_composition_key
from videolake.pipeline.shards import atomic_write_bytes

CARD = "README.md"
FRONT_MATTER = "---\n"
COLUMNS = [
    "id",
    "task",
    "subtype",
    "tier",
    "split",
    "source_id",
    "system",
    "question",
    "answer",
    "reasoning",
    "videos",
    "fps",
    "meta",
]
CONTACT_SHEETS = 3


def checked_repo_id(repo_id: str) -> str:
    """``repo_id`` when huggingface_hub accepts it (its own validator), else one line."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise VideolakeError(f"invalid repository id {repo_id!r}: {err}") from err
    return repo_id


def checked_config_name(name: str) -> str:
    """A dataset name ``datasets`` accepts as a config name; it refuses to load any other, so the
    published dataset could not be loaded."""
    from datasets.naming import INVALID_WINDOWS_CHARACTERS_IN_PATH

    if any(character in name for character in INVALID_WINDOWS_CHARACTERS_IN_PATH):
        raise VideolakeError(
            f"dataset name {name!r} cannot be a Hub config name (datasets refuses any of {INVALID_WINDOWS_CHARACTERS_IN_PATH}): rename the recipe and rebuild before publishing"
        )
    return name


MARKDOWN_PUNCTUATION = re.compile(
    r"([!-/:-@\[-`{-~])"
)  # every ASCII punctuation character, which CommonMark lets a backslash escape


def markdown_text(text: str) -> str:
    """``text`` as literal Markdown on one line: no HTML, link, emphasis, heading or table cell survives."""
    return MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(str(text).splitlines()))


def markdown_code(text: str) -> str:
    """``text`` as one inline code span, fenced by a longer backtick run than any inside it."""
    text = " ".join(str(text).splitlines())
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def features():
    from datasets import Features, List, Value, Video

    string = Value("string")
    columns = dict.fromkeys(COLUMNS, string)
    return Features({**columns, "videos": List(Video()), "fps": Value("float64")})


def hub_table(table: pa.Table) -> pa.Table:
    """Record columns with ``videos`` as the Video feature's storage (bytes, path), no copy of the bytes."""
    videos = table.column("videos").combine_chunks()
    items = pa.StructArray.from_arrays(
        [videos.values, pa.nulls(len(videos.values), pa.string())], names=["bytes", "path"]
    )
    as_video = pa.ListArray.from_arrays(videos.offsets, items)
    columns = {name: (as_video if name == "videos" else table.column(name)) for name in COLUMNS}
    return pa.table(columns, schema=features().arrow_schema)


def parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def stage_data(opened, staging: Path, progress: bool = False) -> tuple[dict[str, dict[str, dict[str, int]]], set[Path]]:
    """Write the parquet files of the opened dataset; return per task and split what the card's
    ``dataset_info`` states (``num_examples``, ``num_bytes`` as Arrow holds the rows,
    ``download_size`` of the parquet files), and the files written."""
    from tqdm import tqdm

    splits: dict[str, dict[str, dict[str, int]]] = {}
    written: set[Path] = set()
    total = sum(shard.rows for shard in opened.shards)
    bar = tqdm(total=total, desc=f"staging {opened.name}", unit="sample", disable=None if progress else True)
    with bar:  # disable=None: drawn on a terminal only, so logs and one-line errors stay clean
        for shard in opened.shards:
            table = opened.table(shard)
            for task in sorted(set(table.column("task").to_pylist())):
                part = hub_table(table.filter(pc.equal(table.column("task"), task)))
                path = staging / "data" / opened.name / task / f"{shard.split}-{shard.number:05d}.parquet"
                data = parquet_bytes(part)
                atomic_write_bytes(path, data)
                written.add(path)
                sizes = splits.setdefault(task, {}).setdefault(shard.split, dict.fromkeys(SIZE_FIELDS, 0))
                for field, value in zip(SIZE_FIELDS, (part.num_rows, part.nbytes, len(data))):
                    sizes[field] += value
            bar.update(table.num_rows)
    return splits, written


SIZE_FIELDS = ("num_examples", "num_bytes", "download_size")


def summed(sizes: list[dict[str, int]]) -> dict[str, int]:
    return {field: sum(size[field] for size in sizes) for field in SIZE_FIELDS}


def config(config_name: str, pattern: str, splits: dict[str, dict[str, int]]) -> tuple[dict, dict]:
    """The card's ``configs`` entry and ``dataset_info`` entry of one config."""
    from datasets import DatasetInfo, SplitDict, SplitInfo

    files = {
        "config_name": config_name,
        "data_files": [{"split": split, "path": pattern.format(split=split)} for split in sorted(splits)],
    }
    whole = summed(list(splits.values()))
    info = DatasetInfo(
        features=features(),
        splits=SplitDict(
            {
                split: SplitInfo(split, num_examples=size["num_examples"], num_bytes=size["num_bytes"])
                for split, size in sorted(splits.items())
            }
        ),
        download_size=whole["download_size"],
        dataset_size=whole["num_bytes"],
    )
    return files, {"config_name": config_name, **info._to_yaml_dict()}


def size_category(total: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if total < limit:
            return label
    return "1M<n<10M"


PAPERS = {
    "he2026videossr": """@inproceedings{he2026videossr,
  title = {{VideoSSR}: Video Self-Supervised Reinforcement Learning},
  author = {He, Zefeng and Qu, Xiaoye and Li, Yafu and Huang, Siyuan and Liu, Daizong and Cheng, Yu},
  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
  year = {2026},
  eprint = {2511.06281},
  archivePrefix = {arXiv}
}""",
    "jiang2026synrl": """@misc{jiang2026synrl,
  title = {Learning Transferable Temporal Primitives for Video Reasoning via Synthetic Videos},
  author = {Jiang, Songtao and Song, Sibo and Zhou, Chenyi and Wang, Yuan and Chen, Ruizhe and Guan, Tongkun and Luo, Ruilin and Zhang, Yan and Tang, Zhihang and Sun, Yuchong and Zhang, Hang and Yang, Zhibo and Bai, Shuai and Lin, Junyang and Liu, Zuozhu},
  note = {SynRL; code: https://github.com/jiangsongtao/Synthetic-Video}
}""",
    "li2025videochatr1": """@article{li2025videochatr1,
  title = {{VideoChat-R1}: Enhancing Spatio-Temporal Perception via Reinforcement Fine-Tuning},
  author = {Li, Xinhao and Yan, Ziang and Meng, Desen and Dong, Lu and Zeng, Xiangyu and He, Yinan and Wang, Yali and Qiao, Yu and Wang, Yi and Wang, Limin},
  journal = {arXiv preprint arXiv:2504.06958},
  year = {2025}
}""",
    "luo2025museg": """@article{luo2025museg,
  title = {{MUSEG}: Reinforcing Video Temporal Understanding via Timestamp-Aware Multi-Segment Grounding},
  author = {Luo, Fuwen and Lou, Shengfeng and Chen, Chi and Wang, Ziyue and Li, Chenliang and Shen, Weizhou and Guo, Jiyue and Li, Peng and Yan, Ming and Zhang, Ji and Huang, Fei and Liu, Yang},
  journal = {arXiv preprint arXiv:2505.20715},
  year = {2025}
}""",
}
PAPER_TITLES = {
    "he2026videossr": "VideoSSR",
    "jiang2026synrl": "SynRL",
    "li2025videochatr1": "VideoChat-R1",
    "luo2025museg": "MUSEG",
}


def task_lines(rows: list[dict]) -> list[str]:
    """One line per task of ``rows``: what the model sees, a completion that scores the reward's
    maximum (written from the task's first row), the reward and its range."""
    from videolake.rewards import REWARDS, ideal_completion

    first = {}
    for row in sorted(rows, key=lambda row: row["id"]):
        first.setdefault(row["task"], row)
    lines = [
        "| task (paper) | the model sees | a completion that scores the maximum | reward (`compute_score`) |",
        "| --- | --- | --- | --- |",
    ]
    for task, row in sorted(first.items()):
        card = TASKS[task]
        example = ideal_completion(task, row["answer"], "…")
        reward = f"{REWARDS[task].described}, 0–{REWARDS[task].maximum:g}"
        cells = [f"{markdown_code(task)} ({markdown_text(PAPER_TITLES[card.paper])})", markdown_text(card.shows)]
        code = markdown_code(example).replace("|", "\\|")  # GFM splits cells at a pipe, even in code
        lines.append("| " + " | ".join([*cells, code, markdown_text(reward)]) + " |")
    return lines + [""]


def load_snippet(repo_id: str, name: str) -> list[str]:
    """Python that runs on a stock install: ``Video(decode=False)`` keeps the MP4 bytes (decoding
    would need torchcodec and a system FFmpeg) and PyAV, which bundles FFmpeg, decodes them."""
    return [
        "```python",
        "import io",
        "",
        "import av  # PyAV bundles its own FFmpeg",
        "import datasets",
        "",
        f"ds = datasets.load_dataset({json.dumps(repo_id)}, {json.dumps(name)})",  # JSON strings are Python literals
        'ds = ds.cast_column("videos", datasets.List(datasets.Video(decode=False)))  # MP4 bytes, no torchcodec',
        'row = ds["train"][0]  # question with one <video> per entry of videos; answer; meta proves it',
        'with av.open(io.BytesIO(row["videos"][0]["bytes"])) as video:',
        '    frames = [frame.to_ndarray(format="rgb24") for frame in video.decode(video=0)]  # frame i at i / row["fps"] s',
        "```",
    ]


def body_section(
    manifest: dict, rows: list[dict], tasks: list[str], images: list[str], repo_id: str, audit: dict | None = None
) -> str:
    """``rows``: the dataset's records (the audit's columns); ``tasks``: the tasks staged;
    ``audit``: the blind-baseline audit of the dataset (``videolake audit``), shown as a table."""
    name, recipe = manifest["dataset"], manifest["recipe"]
    lines = [
        f"## {markdown_text(name)}",
        "",
        *(f"{markdown_text(line)}\n" for line in recipe.get("description", "").splitlines()),
        *task_lines(rows),
        "| task | subtype | tier | split | samples |",
        "| --- | --- | --- | --- | --- |",
    ]
    for split, counts in sorted(manifest["counts"].items()):
        for key, count in sorted(counts.items()):
            cells = [*split_composition_key(key), split, str(count)]
            lines.append("| " + " | ".join(map(markdown_text, cells)) + " |")
    holdout = manifest["holdout"]
    sources = f" Sources: {markdown_text(recipe['sources'])}." if recipe.get("sources") else ""
    lines += [
        "",
        f"Recipe {markdown_code(name)}, seed {manifest['seed']}, built by videolake {markdown_text(manifest['versions'].get('videolake', '?'))} from {manifest['sources']['count']} source clips "
        f"(sources digest {markdown_code(manifest['sources']['digest'][:16])}); encoder {markdown_text(manifest['encoder']['codec'])} {markdown_code(json.dumps(manifest['encoder']['options']))}.",
        f"Benchmark holdout: {markdown_text(holdout.get('rule', '?'))} (fraction {markdown_text(holdout.get('fraction', '?'))}: {len(holdout['benchmark_source_ids'])} benchmark and {len(holdout['train_source_ids'])} training sources, disjoint).",
        f"Licence of the sources, as the recipe states it: {markdown_code(recipe['license'])}.{sources}",
        "",
        *[f"![{markdown_text(Path(image).stem)}]({quote(image)})" for image in images],
        "",
        *(card_lines(audit, markdown_text) if audit else []),
        "Load it (every task, or one: " + ", ".join(markdown_code(f"{name}-{task}") for task in sorted(tasks)) + "):",
        "",
        *load_snippet(repo_id, name),
        "",
        "Score a model's output with the rewards the answers were built for (videolake is installed from its source repository, `pip install -e .`; it is not on PyPI):",
        "",
        "```python",
        "from videolake.rewards import compute_score, ideal_completion",
        'model_output = ideal_completion(row["task"], row["answer"], "")  # your model\'s completion for row',
        'compute_score(row["task"], model_output, row["answer"], {"meta": row["meta"]})["score"]  # as training scores it',
        "```",
    ]
    return "\n".join(lines) + "\n"


STATE = ".videolake-publish.json"  # what is staged, so the card can list every dataset; never uploaded


def literal_in_pattern(name: str) -> str:
    """``name`` matched literally by a data_files glob (``[``, ``*``, ``?`` escaped) and kept by
    ``str.format`` (braces doubled)."""
    return glob.escape(name).replace("{", "{{").replace("}", "}}")


def card_text(state: dict) -> str:
    """The card, from every dataset staged into the folder: front matter, one section each, then
    the papers their tasks come from."""
    configs, infos, licences, total, papers = [], [], set(), 0, set()
    for name, staged in state["datasets"].items():
        by_split: dict[str, list[dict[str, int]]] = {}
        for per_split in staged["splits"].values():
            for split, size in per_split.items():
                by_split.setdefault(split, []).append(size)
        totals = {split: summed(sizes) for split, sizes in by_split.items()}
        total += sum(size["num_examples"] for size in totals.values())
        licences.add(staged["license"])
        papers |= {TASKS[task].paper for task in staged["splits"]}
        folder = literal_in_pattern(name)
        entries = [config(name, f"data/{folder}/*/{{split}}-*.parquet", totals)]
        entries += [
            config(f"{name}-{task}", f"data/{folder}/{literal_in_pattern(task)}/{{split}}-*.parquet", per_split)
            for task, per_split in sorted(staged["splits"].items())
        ]
        if name == state["default"]:
            entries.insert(0, config("default", f"data/{folder}/*/{{split}}-*.parquet", totals))
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
    cited = [PAPERS[key] for key in PAPERS if key in papers]
    citations = "\n## Citations\n\nThe tasks come from these papers:\n\n```bibtex\n" + "\n\n".join(cited) + "\n```\n"
    return (
        FRONT_MATTER
        + yaml.safe_dump(front, sort_keys=False, allow_unicode=True)
        + FRONT_MATTER
        + intro
        + sections
        + citations
    )


STAGED_FIELDS = {"splits", "license", "section", "source", "manifest_sha256"}


def read_state(path: Path) -> dict:
    """What the staging folder holds, or one line when the dot-file is not one videolake wrote."""
    if not os.path.lexists(path):
        return {}
    state = read_json(path)
    datasets = state.get("datasets") if isinstance(state, dict) else None
    if not (
        isinstance(datasets, dict)
        and isinstance(state.get("default"), str)
        and state["default"] in datasets
        and all(staged_shape(staged) for staged in datasets.values())
    ):
        raise VideolakeError(
            f"{path}: not the state of a videolake staging folder (or one staged by an older videolake): remove the staging folder and publish again"
        )
    return state


def staged_shape(staged) -> bool:
    """One dataset's entry as ``stage`` writes it: texts, and sizes per known task and split."""

    def sizes(value) -> bool:
        return (
            isinstance(value, dict)
            and set(value) == set(SIZE_FIELDS)
            and all(type(number) is int and number >= 0 for number in value.values())
        )

    return (
        isinstance(staged, dict)
        and set(staged) == STAGED_FIELDS
        and all(isinstance(staged[field], str) for field in STAGED_FIELDS - {"splits"})
        and isinstance(staged["splits"], dict)
        and all(
            task in TASKS and isinstance(per_split, dict) and all(map(sizes, per_split.values()))
            for task, per_split in staged["splits"].items()
        )
    )


def remove_unwritten(folder: Path, written: set[Path]) -> None:
    """What an earlier staging of the same dataset left in ``folder`` that this one did not write
    (a smaller rebuild's stale parquet would load as rows that are not there)."""
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and path not in written:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def stage(dataset_dir: Path, staging: Path, repo_id: str, *, progress: bool = False) -> Path:
    """Stage ``dataset_dir`` into ``staging`` (created, or extended with another dataset);
    ``progress``: a bar over the samples staged."""
    from videolake.commands.inspect import inspect

    checked_repo_id(repo_id)
    dataset_dir = Path(dataset_dir)
    refuse_output_inside(staging, dataset_dir)
    opened = open_dataset(dataset_dir)  # every shard checked before anything is staged
    manifest = opened.manifest.to_dict()
    name, recipe = manifest["dataset"], manifest["recipe"]
    if not recipe.get("license"):
        raise VideolakeError(
            f"recipe {name} states no licence for its sources: add `license: <SPDX id, or other>` to the recipe and rebuild before publishing"
        )
    if recipe["license"] == "other" and not recipe.get("sources"):
        raise VideolakeError(
            f"recipe {name} says `license: other` without naming its sources: add `sources: <where the clips come from and their licences>` to the recipe and rebuild before publishing"
        )
    checked_config_name(name)
    if not sum(shard.rows for shard in opened.shards):
        raise VideolakeError(
            f"{dataset_dir} holds no records (curation can drop every sample): there is nothing to publish"
        )
    state_path = staging / STATE
    state = read_state(state_path) or {"default": name, "datasets": {}}
    identity = {"source": str(dataset_dir.resolve()), "manifest_sha256": opened.manifest_sha256}
    held = state["datasets"].get(name)
    if held and held["source"] != identity["source"] and held["manifest_sha256"] != identity["manifest_sha256"]:
        raise VideolakeError(
            f"{staging} already holds a different dataset named {name!r} (staged from {held['source']}): stage {dataset_dir} into another --staging folder"
        )
    splits, written = stage_data(opened, staging, progress)
    pictures = inspect(dataset_dir, staging / "images" / name, samples=CONTACT_SHEETS, seed=0)
    remove_unwritten(staging / "data" / name, written)
    remove_unwritten(staging / "images" / name, set(pictures))
    images = [path.relative_to(staging).as_posix() for path in pictures]
    rows = dataset_rows(dataset_dir)
    state["datasets"][name] = {
        "splits": splits,
        "license": recipe["license"],
        "section": body_section(manifest, rows, sorted(splits), images, repo_id, audit_rows(rows)),
        **identity,
    }
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
        return {
            e.path: (e.lfs.sha256 if getattr(e, "lfs", None) else e.blob_id) for e in entries if hasattr(e, "blob_id")
        }
    except RepositoryNotFoundError:
        return {}


def upload_plan(staging: Path, remote: dict[str, str]) -> list[str]:
    """The staged files the repository does not hold byte for byte."""
    return [path for path, hashes in local_files(staging).items() if remote.get(path) not in hashes]


def stale_remote_files(staging: Path, remote: dict[str, str]) -> list[str]:
    """Files of the datasets staged here that the repository holds and the staging no longer does
    (a rebuild with fewer shards or tasks): left there, the card's globs would load them."""
    owned = tuple(
        f"{area}/{name}/" for name in read_state(staging / STATE).get("datasets", {}) for area in ("data", "images")
    )
    local = local_files(staging)
    return sorted(path for path in remote if path.startswith(owned) and path not in local)


def upload(staging: Path, repo_id: str, private: bool, api=None) -> list[str]:
    """Create the repository if needed, upload what the plan says, then commit the card with the
    deletion of the staged datasets' stale files: the card changes only once every file it names is
    there. An interrupted upload resumes by running it again (what the repository holds is not sent
    again). The token comes from ``hf auth login`` or ``HF_TOKEN``; it is never written anywhere."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    checked_repo_id(repo_id)
    api = api or HfApi()
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        remote = remote_files(api, repo_id)
        plan = upload_plan(staging, remote)
        files = [path for path in plan if path != CARD]
        if files:  # patterns, so each path is escaped to match only itself
            api.upload_folder(
                repo_id=repo_id,
                folder_path=str(staging),
                repo_type="dataset",
                allow_patterns=[glob.escape(path) for path in files],
                commit_message="videolake: staged data and pictures",
            )
        operations = [CommitOperationDelete(path_in_repo=path) for path in stale_remote_files(staging, remote)]
        if CARD in plan:
            operations.append(CommitOperationAdd(path_in_repo=CARD, path_or_fileobj=str(staging / CARD)))
        if operations:
            api.create_commit(
                repo_id,
                operations,
                commit_message="videolake: the card, without files no longer staged",
                repo_type="dataset",
            )
    except (HfHubHTTPError, OSError, RuntimeError, ValueError) as err:  # what huggingface_hub raises for a failed call
        if getattr(getattr(err, "response", None), "status_code", None) == 401:
            raise VideolakeError(
                f"the Hub refused the token for {repo_id} (401): log in with `hf auth login` or set HF_TOKEN"
            ) from err
        cause = str(err.__cause__ or "")  # RuntimeError("Error while uploading x") carries the reason there
        reason = " ".join(f"{err} {cause if cause not in str(err) else ''}".split())
        raise VideolakeError(
            f"upload to {repo_id} failed ({type(err).__name__}: {reason}): run the same publish again to resume"
        ) from err
    return plan


def repo_url(repo_id: str) -> str:
    """The dataset's page on the Hub that ``HF_ENDPOINT`` selects."""
    from huggingface_hub import constants

    return f"{constants.ENDPOINT}/datasets/{repo_id}"


def default_staging(dataset_dir: Path, repo_id: str) -> Path:
    """Beside the dataset, one folder per repository (so datasets published together share it)."""
    return Path(dataset_dir).parent / ".videolake-publish" / checked_repo_id(repo_id).replace("/", "--")
