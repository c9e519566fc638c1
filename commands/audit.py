"""``videolake audit DIR``: the blind baselines of ``videolake.pipeline.audit`` on a built dataset, as
a console table, ``audit.json``, ``audit.png`` and the dataset card's section. The build runs the
same audit on its shards before they are a dataset; this is the command over a finished one."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

from videolake import VideolakeError
from videolake.pipeline.audit import COLUMNS, MARGIN, MIN_SCORED, audit_rows, strongest
from videolake.pipeline.dataset import open_dataset, refuse_output_inside


def dataset_rows(dataset_dir: Path, split: str | None = None) -> list[dict]:
    """The audit's columns of a built dataset, verified like every command's read (each shard's size
    and sha256 against the manifest: an audit of edited questions would vouch for them)."""
    dataset = open_dataset(dataset_dir)
    rows = [record for _, record in dataset.records(split, COLUMNS)]
    if not rows:
        raise VideolakeError(f"no records in {dataset_dir}" + (f" split {split}" if split else ""))
    return rows


SHORT_NAMES = {
    "central": "centr",
    "odd_one_out": "odd",
    "longest": "long",
    "shortest": "short",
    "letter_prior": "letter",
    "option_text": "optxt",
    "text_nb": "textNB",
    "frame_count": "frames",
    "majority": "major",
    "best_counts": "counts",
    "best_interval": "intvl",
    "best_box": "box",
    "first_box": "box1*",
}


def format_table(result: dict, title: str) -> str:
    """One line per group: chance, then each baseline's accuracy (! flagged, * reference, . n/a)."""
    names = [name for name in SHORT_NAMES if any(name in g["baselines"] for g in result["groups"])]
    wide = max([len("subtype")] + [len(g["subtype"]) for g in result["groups"]]) + 2
    header = f"{'task':<25}{'subtype':<{wide}}{'tier':<9}{'n':>6}{'chance':>8}" + "".join(
        f"{SHORT_NAMES[n]:>8}" for n in names
    )
    lines = [title, header]
    for group in result["groups"]:
        cells = []
        for name in names:
            baseline = group["baselines"].get(name)
            mark = "!" if baseline and baseline["flagged"] else "*" if baseline and baseline.get("reference") else " "
            cells.append(f"{'.':>8}" if baseline is None else f"{baseline['accuracy']:>7.1f}{mark}")
        chance = f"{group['chance']:>8.1f}" if group["chance"] is not None else f"{'.':>8}"
        lines.append(
            f"{group['task']:<25}{group['subtype']:<{wide}}{group['tier']:<9}{group['n_scored']:>6}{chance}"
            + "".join(cells)
        )
    lines.append(
        f"! = Wilson 95% lower bound above chance + {result['margin']:.0f} points (answerable without the video); "
        f"* = given in the question, not flagged; n = scored half (under {MIN_SCORED}: too few to flag)"
    )
    lines.append(f"flagged: {', '.join(result['flagged']) or 'none'}")
    return "\n".join(lines)


def card_lines(result: dict, escape: Callable[[str], str] = str) -> list[str]:
    """The dataset card's section: per group, chance and the strongest blind baseline (cells through ``escape``)."""
    lines = [
        f"Blind baselines (`videolake audit`): the best score a guesser reaches from the question text, the options, the frame count "
        f"and the answer prior alone, without the pixels, against chance; answerable = its Wilson 95% lower bound is above chance + {result['margin']:.0f} points.",
        "",
        "| task | subtype | tier | scored | chance | strongest blind baseline | its score (95% low) | answerable without the video |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for group in result["groups"]:
        best = strongest(group)
        cells = [
            group["task"],
            group["subtype"],
            group["tier"],
            str(group["n_scored"]),
            f"{group['chance']:.1f}" if group["chance"] is not None else "-",
        ]
        cells += [best[0], f"{best[1]['accuracy']:.1f} ({best[1]['lower']:.1f})"] if best else ["-", "-"]
        cells.append("yes" if group["flagged"] else "no")
        lines.append("| " + " | ".join(escape(cell) for cell in cells) + " |")
    return lines + [""]


def chart(result: dict, path: Path, title: str) -> Path:
    """Per group: the strongest baseline's accuracy with its 95 % lower bound, against chance + margin."""
    from videolake.commands.figures import pyplot, save_figure

    plt = pyplot()
    groups = [g for g in result["groups"] if g["chance"] is not None]
    figure, axis = plt.subplots(figsize=(max(6, 0.7 * len(groups) + 2), 4.5))
    for x, group in enumerate(groups):
        best = strongest(group)
        if best:
            axis.bar(x, best[1]["accuracy"], color="#C44E52" if group["flagged"] else "#4C72B0")
            axis.plot([x - 0.4, x + 0.4], [best[1]["lower"]] * 2, color="black", linewidth=1)
            axis.text(x, best[1]["accuracy"] + 1, best[0], ha="center", fontsize=6, rotation=90)
        axis.plot([x - 0.45, x + 0.45], [group["chance"]] * 2, color="#55A868", linewidth=2)
        axis.plot(
            [x - 0.45, x + 0.45], [group["chance"] + result["margin"]] * 2, color="#55A868", linewidth=1, linestyle="--"
        )
    axis.set_xticks(
        range(len(groups)), [f"{g['task'].split('_')[-1]}\n{g['subtype']}\n{g['tier']}" for g in groups], fontsize=6
    )
    axis.set_ylim(0, 105)
    axis.set_ylabel("score (%)")
    axis.set_title(
        f"{title}\nbar: strongest blind baseline (black: 95% low; red: flagged); green: chance, dashed: chance + margin",
        fontsize=8,
    )
    figure.tight_layout()
    return save_figure(figure, path, dpi=100)


def audit(dataset_dir: Path, out: Path, split: str | None = None, margin: float = MARGIN) -> tuple[dict, list[Path]]:
    """Audit a built dataset into ``out``: audit.json and audit.png. Inside the dataset only its
    own ``audit/`` folder is allowed (anything else there would be taken for part of the build)."""
    if not math.isfinite(margin):
        raise VideolakeError(f"--margin must be a number of points, not {margin * 100}")
    out = Path(out)
    home = Path(dataset_dir).resolve() / "audit"
    resolved = out.resolve()
    if resolved != home and home not in resolved.parents:
        refuse_output_inside(out, Path(dataset_dir))
    result = {"dataset": Path(dataset_dir).name, **audit_rows(dataset_rows(dataset_dir, split), margin)}
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "audit.json"
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    return result, [json_path, chart(result, out / "audit.png", f"blind baselines on {result['dataset']}")]
