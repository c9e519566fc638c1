"""Pictures of a built dataset: one contact sheet per sampled record, and the composition chart."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videolake import VideolakeError
from videolake.generators import TASKS
from videolake.pipeline.dataset import open_dataset, reading_record, record_meta
from videolake.pipeline.encode import decode_mp4
from videolake.pipeline.jsonio import jsonl_values

THUMB_WIDTH = 120
COLUMNS = 8
MAX_THUMBNAILS = 48
HIGHLIGHT = {"inside": (230, 40, 40), "shapes": (40, 200, 60)}


def _thumbnail(frame: np.ndarray, border: tuple | None) -> np.ndarray:
    from PIL import Image

    h, w = frame.shape[:2]
    height = max(2, round(h * THUMB_WIDTH / w))
    thumb = np.asarray(Image.fromarray(frame).resize((THUMB_WIDTH, height), Image.BILINEAR)).copy()
    if border:
        thumb[:4], thumb[-4:], thumb[:, :4], thumb[:, -4:] = border, border, border, border
    return thumb


def _draw_box(frame: np.ndarray, box) -> np.ndarray:
    from PIL import Image, ImageDraw

    image = Image.fromarray(frame)
    ImageDraw.Draw(image).rectangle(list(box), outline=HIGHLIGHT["inside"], width=max(2, frame.shape[1] // 120))
    return np.asarray(image)


def _mosaic(rows: list[list[np.ndarray]]) -> np.ndarray:
    height = max(t.shape[0] for row in rows for t in row)
    pad = np.full((height + 6, THUMB_WIDTH + 6, 3), 255, np.uint8)
    lines = []
    for row in rows:
        cells = []
        for k in range(max(len(r) for r in rows)):
            cell = pad.copy()
            if k < len(row):
                cell[3 : 3 + row[k].shape[0], 3:-3] = row[k]
            cells.append(cell)
        lines.append(np.concatenate(cells, axis=1))
    return np.concatenate(lines, axis=0)


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend (no display on build machines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path: Path, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, **options)
    pyplot().close(figure)
    return path


def _key_frames(meta: dict, limit: int = 10) -> list[int]:
    """The first and last frame, logged event frames and the middle of each operation (where its
    motion shows), thinned evenly to ``limit``."""
    last = meta["num_frames"] - 1
    middles = {(op["start_frame"] + op["end_frame"]) // 2 for op in meta.get("operations", [])}
    events = sorted({0, last} | middles | {min(e["frame"], last) for e in meta["events"] if e["type"] != "operation"})
    if len(events) <= limit:
        return events
    return [events[round(i)] for i in np.linspace(0, len(events) - 1, limit)]


def synthetic_strip(record: dict, path: Path) -> Path:
    """Key frames of a video with an event log in a row, and its event timeline drawn under them."""
    plt = pyplot()

    meta = record_meta(record)
    frames = decode_mp4(record["videos"][0])
    keys = _key_frames(meta)
    fps, duration = record["fps"], meta["num_frames"] / record["fps"]
    figure = plt.figure(figsize=(1.5 * len(keys) + 0.4, 4.2), dpi=100)
    for k, frame in enumerate(keys):
        axes = figure.add_axes([0.02 + 0.96 * k / len(keys), 0.42, 0.96 / len(keys) - 0.005, 0.4])
        axes.imshow(frames[frame])
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_title(f"{frame / fps:.2f}s", fontsize=7)
    timeline = figure.add_axes([0.04, 0.1, 0.92, 0.2])
    for phase, (start, end) in meta.get("reveal", {}).items():
        shown = meta["shown"] == phase
        timeline.axvspan(start / fps, end / fps, color="tab:green" if shown else "lightgrey", alpha=0.5)
        timeline.text(
            (start + end) / 2 / fps, 0.85, f"{phase} {'shown' if shown else 'hidden'}", ha="center", fontsize=6
        )
    for op in meta.get("operations", []):
        timeline.axvspan(op["start_frame"] / fps, op["end_frame"] / fps, color="tab:orange", alpha=0.35)
        timeline.text(
            (op["start_frame"] + op["end_frame"]) / 2 / fps, 0.45, f"op {op['index']}", ha="center", fontsize=6
        )
    for event in meta["events"]:
        if event["type"] not in ("operation", "reveal"):
            timeline.axvline(event["ms"] / 1000, color="tab:red", linewidth=1)
            timeline.text(event["ms"] / 1000, 0.1, event["type"], rotation=90, fontsize=5, va="bottom")
    for frame in keys:
        timeline.plot(frame / fps, 0.0, marker="^", color="black", markersize=4)
    timeline.set_xlim(0, duration)
    timeline.set_ylim(0, 1)
    timeline.set_yticks([])
    timeline.set_xlabel("seconds (triangles: frames shown above; red: logged events)", fontsize=7)
    question = meta["query"]["text"].splitlines()[0]
    figure.suptitle(f"{record['id']}  {record['subtype']}  answer: {record['answer']}\n{question[:140]}", fontsize=8)
    return save_figure(figure, path)


def contact_sheet(record: dict, path: Path) -> Path:
    """All frames of the record with what the answer depends on marked, the answer in the title."""
    plt = pyplot()

    task = TASKS.get(record["task"])
    if task is None or task.contact is None:
        return synthetic_strip(record, path)
    meta = record_meta(record)
    marks = task.contact(meta)
    videos = [decode_mp4(v) for v in record["videos"]]
    for frame, box in (marks.boxes or {}).items():
        videos[0][frame] = _draw_box(videos[0][frame], box)
    note = marks.note
    if marks.video_labels is not None:
        rows = [[_thumbnail(f, HIGHLIGHT.get(marks.marked.get(i))) for i, f in enumerate(clip)] for clip in videos]
        labels = marks.video_labels
    else:
        # Long videos (rendered scenes run at 30 fps) show every stride-th frame; a thumbnail is
        # marked when any frame it stands for is.
        stride = -(-len(videos[0]) // MAX_THUMBNAILS)
        shown = range(0, len(videos[0]), stride)
        thumbs = [
            _thumbnail(
                videos[0][i],
                HIGHLIGHT.get(next((marks.marked[j] for j in range(i, i + stride) if j in marks.marked), None)),
            )
            for i in shown
        ]
        rows = [thumbs[i : i + COLUMNS] for i in range(0, len(thumbs), COLUMNS)]
        labels = [f"{shown[i] / record['fps']:.1f}s" for i in range(0, len(thumbs), COLUMNS)]
        if stride > 1:
            note += f" (every {stride}th frame)"
    mosaic = _mosaic(rows)
    figure = plt.figure(figsize=(mosaic.shape[1] / 100 + 1.6, mosaic.shape[0] / 100 + 0.9), dpi=100)
    axes = figure.add_axes([0.13, 0.02, 0.86, 0.86])
    axes.imshow(mosaic)
    axes.set_xticks([])
    axes.set_yticks([(k + 0.5) * mosaic.shape[0] / len(rows) for k in range(len(rows))], labels, fontsize=7)
    figure.suptitle(
        f"{record['id']}  {record['task']}/{record['subtype']}  answer: {record['answer']}\n{note}", fontsize=9
    )
    return save_figure(figure, path)


def composition_chart(manifest: dict, path: Path) -> Path:
    """Figure 4 of the paper for this dataset: tasks inside, subtypes outside, one ring per split."""
    plt = pyplot()

    splits = manifest["counts"]
    figure, axes = plt.subplots(1, len(splits), figsize=(5.5 * len(splits), 5.5), squeeze=False)
    maps = [plt.cm.Oranges, plt.cm.Blues, plt.cm.Greens, plt.cm.Purples, plt.cm.Reds, plt.cm.YlOrBr]
    palette = {task: maps[i % len(maps)] for i, task in enumerate(TASKS)}
    for axis, (split, counts) in zip(axes[0], splits.items()):
        by_task: dict[str, dict[str, int]] = {}
        for key, value in sorted(counts.items()):
            task, subtype, _tier = key.split("/")
            by_task.setdefault(task, {})[subtype] = by_task.setdefault(task, {}).get(subtype, 0) + value
        inner = [sum(v.values()) for v in by_task.values()]
        outer, outer_labels, outer_colours = [], [], []
        for task, subtypes in by_task.items():
            cmap = palette.get(task, plt.cm.Greys)
            for k, (subtype, value) in enumerate(subtypes.items()):
                outer.append(value)
                outer_labels.append(f"{subtype} ({value})")
                outer_colours.append(cmap(0.35 + 0.5 * k / max(1, len(subtypes))))
        total = sum(inner)
        if not total:  # a split that curation emptied: say so where its ring would be
            axis.text(0.5, 0.5, "no samples", ha="center", va="center", fontsize=12, transform=axis.transAxes)
            axis.axis("off")
            axis.set_title(f"{manifest['dataset']} / {split}: 0 samples", fontsize=10)
            continue
        wedges, _ = axis.pie(
            inner,
            radius=0.65,
            colors=[palette.get(t, plt.cm.Greys)(0.8) for t in by_task],
            wedgeprops={"width": 0.35, "edgecolor": "white"},
        )
        axis.pie(
            outer,
            radius=1.0,
            colors=outer_colours,
            labels=outer_labels,
            wedgeprops={"width": 0.33, "edgecolor": "white"},
            textprops={"fontsize": 7},
        )
        axis.legend(
            wedges,
            [f"{t} {v / total:.0%}" for t, v in zip(by_task, inner)],
            loc="lower center",
            bbox_to_anchor=(0.5, -0.12),
            fontsize=8,
            frameon=False,
        )
        axis.set_title(f"{manifest['dataset']} / {split}: {total} samples", fontsize=10)
    return save_figure(figure, path, dpi=100, bbox_inches="tight")


def inspect(dataset_dir: Path, out: Path, samples: int = 6, seed: int = 0) -> list[Path]:
    dataset = open_dataset(dataset_dir)
    paths = [composition_chart(dataset.manifest, out / "composition.png")]
    index = [(shard, row) for shard in dataset.shards for row in range(shard.rows)]
    if not index or not samples:
        return paths
    rng = np.random.default_rng(seed)
    chosen = sorted(rng.choice(len(index), size=min(samples, len(index)), replace=False).tolist())
    tables = {}
    for position in chosen:
        shard, row = index[position]
        if shard.key not in tables:
            tables[shard.key] = dataset.table(shard)
        record = tables[shard.key].slice(row, 1).to_pylist()[0]
        with reading_record(record):
            paths.append(contact_sheet(record, out / f"{record['id']}.png"))
    return paths


METRICS_FILE = "metrics.jsonl"  # written by videolake.trainer.run, one line per logging step


def plottable(value) -> bool:
    """A logged number matplotlib can draw (a hand-edited log may hold anything)."""
    return type(value) in (int, float) and abs(value) < 1e300


def metrics_chart(run_dir: Path, out: Path) -> Path:
    """The loss and every reward a training run logged, against the step."""
    plt = pyplot()

    rows = []
    for number, row in jsonl_values(run_dir / METRICS_FILE):
        if not isinstance(row, dict) or type(row.get("step")) is not int or not 0 <= row["step"] < 2**63:
            raise VideolakeError(f"{run_dir / METRICS_FILE}:{number}: expected an object with an integer step")
        rows.append(row)
    series = sorted(
        {
            key
            for row in rows
            for key, value in row.items()
            if key != "step" and plottable(value) and ("reward" in key or key == "loss")
        }
    )
    figure, axes = plt.subplots(len(series), 1, figsize=(7, 1.8 * max(1, len(series))), squeeze=False, sharex=True)
    for axis, key in zip(axes[:, 0], series, strict=True):
        points = [(row["step"], row[key]) for row in rows if plottable(row.get(key))]
        axis.plot([p[0] for p in points], [p[1] for p in points], marker=".")
        axis.set_ylabel(key, fontsize=7, rotation=0, ha="right")
    axes[-1, 0].set_xlabel("step")
    figure.suptitle(f"{run_dir.name}: {len(rows)} logged steps", fontsize=9)
    return save_figure(figure, out / "metrics.png", dpi=100, bbox_inches="tight")
