"""Pictures of a built dataset: one contact sheet per sampled record, and the composition chart.

Every sheet says what its answer means without the prompt beside it: each thumbnail carries its time
in the video, the title the whole answer (wrapped, never cut), SynRL's strips the question with every
option and the true one ticked. Each picture is built as a matplotlib figure first (``*_figure``) and
saved apart, so the tests read what a sheet says from the figure's own texts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from videolake import VideolakeError
from videolake.commands.figures import pyplot, save_figure
from videolake.generators import TASKS
from videolake.generators.synthetic.qa import LETTERS
from videolake.pipeline.dataset import Manifest, open_dataset, reading_record, record_meta, split_composition_key
from videolake.pipeline.encode import decode_mp4
from videolake.pipeline.jsonio import jsonl_values
from videolake.trainer import METRICS_FILE

THUMB_WIDTH = 120
CELL_PAD = 3  # white pixels around each thumbnail
CAPTION = 13  # pixels under each thumbnail for its time
COLUMNS = 8
MAX_THUMBNAILS = 48
KEY_FRAMES = 10  # frames a SynRL strip shows
HIGHLIGHT = {"inside": (230, 40, 40), "shapes": (40, 200, 60)}
TRUTH = "#1a7f37"  # the true option's colour
DPI = 100  # sheets are drawn one image pixel to one PNG pixel
TITLE_POINTS = 9
TITLE_LINE = 0.19  # inches per title line at TITLE_POINTS
CHARS_PER_INCH = 12  # of TITLE_POINTS text, digits and brackets included: where titles wrap
MAX_ANSWER_LINES = 6


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


def _mosaic(rows: list[list[np.ndarray]]) -> tuple[np.ndarray, tuple[int, int]]:
    """Thumbnails in a grid, each cell with a white band under it for its caption; returns the image
    and the cell's (height, width) in pixels."""
    thumb_height = max(t.shape[0] for row in rows for t in row)
    cell_height, cell_width = thumb_height + 2 * CELL_PAD + CAPTION, THUMB_WIDTH + 2 * CELL_PAD
    mosaic = np.full((cell_height * len(rows), cell_width * max(len(r) for r in rows), 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for k, thumb in enumerate(row):
            top, left = r * cell_height + CELL_PAD, k * cell_width + CELL_PAD
            mosaic[top : top + thumb.shape[0], left : left + THUMB_WIDTH] = thumb
    return mosaic, (cell_height, cell_width)


def seconds(frame: int, fps: float) -> str:
    """A frame's time in its video, precise enough that neighbouring frames differ (tracking's
    8 frames at under 2 fps, rendered scenes at 30 fps)."""
    return f"{frame / fps:.2f}s" if fps > 10 else f"{frame / fps:.1f}s"


def _wrapped(text: str, width_in: float, max_lines: int | None = None) -> list[str]:
    lines = textwrap.wrap(text, max(20, int(width_in * CHARS_PER_INCH)), break_on_hyphens=False) or [""]
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [lines[max_lines - 1][:-2] + " …"]
    return lines


def _grid_figure(header: list[str], mosaic: np.ndarray, cell: tuple[int, int], captions, left_in, below_in=0.1):
    """A figure holding ``mosaic`` at one pixel per pixel under ``header`` (title lines), each
    thumbnail's caption drawn in its band; ``left_in`` inches are kept free for row labels and
    ``below_in`` under the mosaic. Returns the figure, the mosaic's axes and the figure's size."""
    plt = pyplot()

    height_in, width_in = mosaic.shape[0] / DPI, mosaic.shape[1] / DPI
    header_in = 0.15 + TITLE_LINE * len(header)
    figure_w, figure_h = left_in + width_in + 0.15, header_in + height_in + below_in
    figure = plt.figure(figsize=(figure_w, figure_h), dpi=DPI)
    axes = figure.add_axes(
        [left_in / figure_w, below_in / figure_h, width_in / figure_w, height_in / figure_h], label="frames"
    )
    axes.imshow(mosaic, interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)
    cell_height, cell_width = cell
    for r, row in enumerate(captions):
        for k, caption in enumerate(row):
            centre = ((k + 0.5) * cell_width, (r + 1) * cell_height - CAPTION / 2 - 1)
            axes.text(*centre, caption, ha="center", va="center", fontsize=7, gid="frame time")
    figure.text(0.5, 1 - 0.08 / figure_h, "\n".join(header), ha="center", va="top", fontsize=TITLE_POINTS, gid="title")
    return figure, axes, (figure_w, figure_h)


def _header(record: dict, width_in: float, note: str | None = None) -> list[str]:
    tier = "" if record["tier"] in ("default", record["subtype"]) else f" ({record['tier']})"
    lines = [f"{record['id']}  {record['task']}/{record['subtype']}{tier}"]
    if note is not None:  # the strip shows its answer among the options, not here
        # A list of boxes breaks between boxes, never inside one (textwrap breaks at ASCII spaces only).
        answer = record["answer"].replace(", ", ",\u00a0").replace("],\u00a0[", "], [")
        lines += _wrapped(f"answer: {answer}", width_in, MAX_ANSWER_LINES) + _wrapped(note, width_in)
    return lines


def _key_frames(meta: dict, limit: int = KEY_FRAMES) -> list[int]:
    """The first and last frame, logged event frames and the middle of each operation (where its
    motion shows), thinned evenly to ``limit``; with fewer, evenly spaced frames fill the largest
    gaps (a short-term scene logs only its start and end)."""
    last = meta["num_frames"] - 1
    middles = {(op["start_frame"] + op["end_frame"]) // 2 for op in meta.get("operations", [])}
    events = sorted({0, last} | middles | {min(e["frame"], last) for e in meta["events"] if e["type"] != "operation"})
    if len(events) >= limit:
        return [events[round(i)] for i in np.linspace(0, len(events) - 1, limit)]
    chosen = set(events)
    for candidate in sorted(
        {round(x) for x in np.linspace(0, last, limit)} - chosen,
        key=lambda f: (-min(abs(f - c) for c in events), f),
    ):
        if len(chosen) == min(limit, last + 1):
            break
        chosen.add(candidate)
    return sorted(chosen)


def question_lines(record: dict, meta: dict) -> list[tuple[str, bool]]:
    """The SynRL question as shown: (line, is the true answer), the true option ticked; an open
    question gets its answer as a last line."""
    query = meta["query"]
    options = query["options"]
    known = options is not None and record["answer"] in LETTERS[: len(options)]
    truth = f"{record['answer']}. {options[LETTERS.index(record['answer'])]}" if known else None
    lines = [(f"✓ {line}   (answer)", True) if line == truth else (line, False) for line in query["text"].splitlines()]
    if options is None:
        lines.append((f"✓ answer: {record['answer']}", True))
    elif not any(marked for _, marked in lines):
        raise VideolakeError(f"{record['id']}: answer {record['answer']!r} is none of the options shown")
    return lines


def synthetic_figure(record: dict):
    """Key frames of a video with an event log in a row, its event timeline under them, and the
    question with its options, the true one ticked."""
    meta = record_meta(record)
    frames = decode_mp4(record["videos"][0])
    keys = _key_frames(meta)
    fps, duration = record["fps"], meta["num_frames"] / record["fps"]
    mosaic, cell = _mosaic([[_thumbnail(frames[k], None) for k in keys]])
    if mosaic.shape[1] < 8 * DPI:  # room for the question's lines
        mosaic = np.pad(mosaic, ((0, 0), (0, 8 * DPI - mosaic.shape[1]), (0, 0)), constant_values=255)
    width_in = mosaic.shape[1] / DPI
    question = [
        (wrapped, marked) for line, marked in question_lines(record, meta) for wrapped in _wrapped(line, width_in)
    ]
    timeline_in, line_in = 1.0, 0.17  # the timeline's top sits 0.3 in under the frames, its axis label under it
    below_in = timeline_in + 0.5 + line_in * len(question)
    figure, _, (figure_w, figure_h) = _grid_figure(
        _header(record, width_in), mosaic, cell, [[seconds(k, fps) for k in keys]], 0.15, below_in
    )
    timeline = figure.add_axes(
        [0.15 / figure_w, (below_in - timeline_in) / figure_h, width_in / figure_w, 0.7 / figure_h], label="timeline"
    )
    for phase, (start, end) in meta.get("reveal", {}).items():
        shown = meta["shown"] == phase
        timeline.axvspan(start / fps, end / fps, color="tab:green" if shown else "lightgrey", alpha=0.5)
        label = f"{phase} {'shown' if shown else 'hidden'}"
        timeline.text((start + end) / 2 / fps, 0.85, label, ha="center", fontsize=6)
    for op in meta.get("operations", []):
        timeline.axvspan(op["start_frame"] / fps, op["end_frame"] / fps, color="tab:orange", alpha=0.35)
        label = f"op {op['index']}"
        timeline.text((op["start_frame"] + op["end_frame"]) / 2 / fps, 0.45, label, ha="center", fontsize=6)
    for event in meta["events"]:
        if event["type"] not in ("operation", "reveal"):
            timeline.axvline(event["ms"] / 1000, color="tab:red", linewidth=1)
            timeline.text(event["ms"] / 1000, 0.12, event["type"], rotation=90, fontsize=6, va="bottom")
    for frame in keys:
        timeline.plot(frame / fps, 0.0, marker="^", color="black", markersize=4)
    timeline.set_xlim(0, duration)
    timeline.set_ylim(0, 1)
    timeline.set_yticks([])
    timeline.tick_params(labelsize=7)
    timeline.set_xlabel("seconds (triangles: frames shown above; red: logged events)", fontsize=7)
    top = below_in - timeline_in - 0.4
    for k, (line, marked) in enumerate(question):
        figure.text(
            0.15 / figure_w,
            (top - k * line_in) / figure_h,
            line,
            va="top",
            fontsize=8,
            color=TRUTH if marked else "black",
            fontweight="bold" if marked else "normal",
            gid="truth" if marked else "question",
        )
    return figure


def contact_figure(record: dict):
    """All frames of the record (every stride-th of a long one), each with its time, what the answer
    depends on marked, the answer and the task's note in the title; SynRL: ``synthetic_figure``."""
    task = TASKS.get(record["task"])
    if task is None or task.contact is None:
        return synthetic_figure(record)
    marks = task.contact(record_meta(record))
    videos = [decode_mp4(v) for v in record["videos"]]
    for frame, box in (marks.boxes or {}).items():
        videos[0][frame] = _draw_box(videos[0][frame], box)
    fps, note = record["fps"], marks.note
    if marks.video_labels is not None:  # one row per video: each thumbnail's time is within its video
        rows = [[_thumbnail(f, HIGHLIGHT.get(marks.marked.get(i))) for i, f in enumerate(clip)] for clip in videos]
        captions = [[seconds(i, fps) for i in range(len(clip))] for clip in videos]
    else:
        # Long videos (rendered scenes run at 30 fps) show every stride-th frame; a thumbnail is
        # marked when any frame it stands for is.
        stride = -(-len(videos[0]) // MAX_THUMBNAILS)
        shown = list(range(0, len(videos[0]), stride))
        thumbs = [
            _thumbnail(
                videos[0][i],
                HIGHLIGHT.get(next((marks.marked[j] for j in range(i, i + stride) if j in marks.marked), None)),
            )
            for i in shown
        ]
        rows = [thumbs[i : i + COLUMNS] for i in range(0, len(thumbs), COLUMNS)]
        captions = [[seconds(i, fps) for i in shown[k : k + COLUMNS]] for k in range(0, len(shown), COLUMNS)]
        if stride > 1:
            note += f" (every {stride}th frame)"
    mosaic, cell = _mosaic(rows)
    left_in = 1.6 if marks.video_labels is not None else 0.15
    header = _header(record, left_in + mosaic.shape[1] / DPI, note)
    figure, axes, _ = _grid_figure(header, mosaic, cell, captions, left_in)
    if marks.video_labels is not None:
        axes.set_yticks([(r + 0.5) * cell[0] for r in range(len(rows))], marks.video_labels, fontsize=7)
    return figure


def contact_sheet(record: dict, path: Path) -> Path:
    return save_figure(contact_figure(record), path)


def synthetic_strip(record: dict, path: Path) -> Path:
    return save_figure(synthetic_figure(record), path)


def _task_colours(tasks: list[str]) -> dict[str, tuple]:
    """One hue per task of this dataset (tab10's ten, then their light twins), in TASKS' order so
    the same dataset always draws the same colours."""
    plt = pyplot()

    palette = list(plt.cm.tab10.colors) + [plt.cm.tab20.colors[2 * k + 1] for k in range(10)]
    order = list(TASKS)
    ranked = sorted(tasks, key=lambda t: (order.index(t) if t in order else len(order), t))
    return {task: palette[k % len(palette)] for k, task in enumerate(ranked)}


def _lighter(colour, share: float) -> tuple:
    return tuple(c + (1 - c) * share for c in colour[:3])


def composition_figure(dataset: str, splits: dict[str, dict[str, int]]):
    """Figure 4 of the paper for this dataset, one ring per split: tasks inside, their subtypes
    (shades of the task's colour) outside, and a thin outer band whose grey says the tier. The
    legend sits under its ring, clear of every label. ``splits``: split -> composition key -> records."""
    from matplotlib.patches import Patch

    plt = pyplot()

    keys = {key: split_composition_key(key) for counts in splits.values() for key in counts}
    colours = _task_colours(sorted({task for task, _, _ in keys.values()}))
    tiers = sorted({tier for _, _, tier in keys.values()}, key=lambda t: (t != "default", t))
    greys = {tier: str(0.85 - 0.7 * k / max(1, len(tiers) - 1)) for k, tier in enumerate(tiers)}
    figure, axes = plt.subplots(1, len(splits), figsize=(6.5 * len(splits), 6.5), squeeze=False)
    for axis, (split, counts) in zip(axes[0], splits.items()):
        by_task: dict[str, list[tuple[str, str, int]]] = {}
        for key, value in sorted(counts.items(), key=lambda kv: (list(colours).index(keys[kv[0]][0]), kv[0])):
            task, subtype, tier = keys[key]
            by_task.setdefault(task, []).append((subtype, tier, value))
        total = sum(value for entries in by_task.values() for _, _, value in entries)
        axis.set_title(f"{dataset} / {split}: {total} samples", fontsize=10)
        if not total:  # a split that curation emptied: say so where its ring would be
            axis.text(0.5, 0.5, "no samples", ha="center", va="center", fontsize=12, transform=axis.transAxes)
            axis.axis("off")
            continue
        inner = {task: sum(value for _, _, value in entries) for task, entries in by_task.items()}
        outer, labels, shades, bands = [], [], [], []
        for task, entries in by_task.items():
            for k, (subtype, tier, value) in enumerate(entries):
                outer.append(value)
                labels.append(f"{subtype if tier in ('default', subtype) else f'{subtype}/{tier}'} ({value})")
                shades.append(_lighter(colours[task], 0.6 * k / max(1, len(entries))))
                bands.append(tier)
        edge = {"edgecolor": "white", "linewidth": 1}
        tasks, _ = axis.pie(
            list(inner.values()), radius=0.6, colors=[colours[t] for t in inner], wedgeprops={"width": 0.3, **edge}
        )
        axis.pie(outer, radius=0.92, colors=shades, wedgeprops={"width": 0.3, **edge})
        band, _ = axis.pie(
            outer,
            radius=1.0,
            colors=[greys[tier] for tier in bands],
            labels=labels,
            labeldistance=1.06,
            wedgeprops={"width": 0.07, **edge},
            textprops={"fontsize": 7},
        )
        for wedge, name in [*zip(tasks, inner), *zip(band, (f"tier {tier}" for tier in bands))]:
            wedge.set_gid(name)  # what each wedge stands for, for the tests
        handles = [Patch(color=colours[t], label=f"{t} {v / total:.0%}") for t, v in inner.items()]
        present = sorted({tier for entries in by_task.values() for _, tier, _ in entries}, key=tiers.index)
        if present != ["default"]:
            handles += [Patch(facecolor=greys[t], edgecolor="black", linewidth=0.5, label=f"tier {t}") for t in present]
        axis.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=2,
            fontsize=8,
            frameon=False,
        )
    figure.subplots_adjust(wspace=0.45)
    return figure


def composition_chart(manifest: Manifest, path: Path) -> Path:
    return save_figure(composition_figure(manifest.dataset, manifest.counts), path, dpi=DPI, bbox_inches="tight")


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
