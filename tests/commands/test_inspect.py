"""What `videolake inspect` draws says what the answer means: read from the figures' own texts and
patches (what the PNG is drawn from), not from pixels."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.text
import pytest
import yaml

from videolake import VideolakeError
from videolake.commands.figures import pyplot
from videolake.commands.inspect import (
    TRUTH,
    composition_figure,
    contact_figure,
    inspect,
    question_lines,
    seconds,
    synthetic_figure,
)
from videolake.generators import TASKS
from videolake.pipeline.dataset import open_dataset, record_meta
from videolake.pipeline.graph import build
from videolake.pipeline.recipes import load_recipe

RECIPE = {
    "name": "sheets",
    "shard_size": 8,
    "max_size": [160, 160],
    "holdout_fraction": 0,
    "splits": {
        "train": [
            {"task": "object_counting", "tier": "easy", "count": 1},
            {"task": "object_tracking", "subtype": "overlay", "count": 1},
            {"task": "temporal_jigsaw", "tier": "easy", "count": 1},
            {"task": "synrl", "subtype": "direction", "count": 1, "params": {"size": 64}},
            {"task": "synrl", "subtype": "collision_count", "count": 1, "params": {"size": 64}},
        ]
    },
}


@pytest.fixture(scope="module")
def built(tmp_path_factory, clips_dir) -> Path:
    out = tmp_path_factory.mktemp("sheets")
    sources = out / "sources"
    sources.mkdir()
    for name in ("bikes.mp4", "testMovie.mp4"):
        (sources / name).symlink_to(clips_dir / name)
    (out / "sheets.yaml").write_text(yaml.safe_dump(RECIPE))
    return build(load_recipe(str(out / "sheets.yaml")), str(sources), out / "out", workers=1, progress=False)


@pytest.fixture(scope="module")
def records(built) -> dict[tuple[str, str], dict]:
    """By task and subtype (each pair occurs once in the recipe)."""
    return {(record["task"], record["subtype"]): record for _, record in open_dataset(built).records()}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    pyplot().close("all")


def texts(figure, gid: str | None = None) -> list[matplotlib.text.Text]:
    return [t for t in figure.findobj(matplotlib.text.Text) if t.get_text() and (gid is None or t.get_gid() == gid)]


def title(figure) -> str:
    """The figure's title lines as one line, wrapping undone."""
    (heading,) = texts(figure, "title")
    return heading.get_text().replace("\n", " ").replace("\u00a0", " ")


def test_a_synrl_strip_shows_every_option_and_ticks_only_the_true_one(records):
    record = records["synrl", "direction"]
    options = record_meta(record)["query"]["options"]
    figure = synthetic_figure(record)
    shown = [t.get_text() for t in texts(figure, "question") + texts(figure, "truth")]
    letters = "ABCDEFGH"
    for k, option in enumerate(options):
        assert any(f"{letters[k]}. {option}" in line for line in shown), option
    (truth,) = texts(figure, "truth")
    assert f"{record['answer']}. {options[letters.index(record['answer'])]}" in truth.get_text()
    assert truth.get_text().startswith("✓") and truth.get_color() == TRUTH and truth.get_fontweight() == "bold"


def test_an_open_synrl_question_shows_its_number_as_the_answer(records):
    record = records["synrl", "collision_count"]
    (truth,) = texts(synthetic_figure(record), "truth")
    assert truth.get_text() == f"✓ answer: {record['answer']}"


def test_a_synrl_answer_that_is_none_of_the_options_is_one_error(records):
    record = dict(records["synrl", "direction"], answer="H")
    with pytest.raises(VideolakeError, match="none of the options"):
        question_lines(record, record_meta(record))


def test_a_counting_sheet_names_the_shape_of_each_count(records):
    record = records["object_counting", "easy"]
    circles, squares, triangles = record["answer"].split(",")
    heading = title(contact_figure(record))
    for count, shape in ((circles, "circle"), (squares, "square"), (triangles, "triangle")):
        assert re.search(rf"\b{count} {shape}{'' if count == '1' else 's'}\b", heading), (count, shape, heading)


def test_tracking_frames_carry_their_real_times_and_the_whole_box_list_fits(records):
    record = records["object_tracking", "overlay"]
    figure = contact_figure(record)
    times = [t.get_text() for t in texts(figure, "frame time")]
    assert times == [f"{i / record['fps']:.1f}s" for i in range(8)] and len(set(times)) == 8
    assert f"answer: {record['answer']}" in title(figure)
    figure.canvas.draw()
    page = figure.bbox
    for text in texts(figure):
        box = text.get_window_extent()
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1, text.get_text()


def test_jigsaw_rows_are_labelled_and_each_frame_timed_within_its_clip(records):
    record = records["temporal_jigsaw", "easy"]
    figure = contact_figure(record)
    (frames,) = [axes for axes in figure.axes if axes.get_label() == "frames"]
    labels = [t.get_text() for t in frames.get_yticklabels()]
    assert len(labels) == len(record["videos"]) and all(label.startswith("clip ") for label in labels)
    times = [t.get_text() for t in texts(figure, "frame time")]
    assert times.count(seconds(0, record["fps"])) == len(record["videos"])  # every clip starts at its own 0


def composition_of_every_task() -> dict[str, dict[str, int]]:
    """Every registered task, three subtypes each, the first of them in two tiers."""
    train = {}
    for k, task in enumerate(TASKS):
        for s, subtype in enumerate((TASKS[task].subtypes or ("easy", "hard", "swarm"))[:3]):
            train[f"{task}/{subtype}/default"] = 5 + k + s
        train[f"{task}/{(TASKS[task].subtypes or ('easy',))[0]}/hard"] = 3
    test = [key for key in train if key.endswith("/hard")][:3] + list(train)[::5]  # fewer tasks, both tiers
    return {"test": dict.fromkeys(test, 2), "train": train}


def test_the_composition_chart_gives_each_task_its_own_colour_and_shows_tiers():
    splits = composition_of_every_task()
    figure = composition_figure("every", splits)
    colours_by_split = []
    for axes in figure.axes:
        wedges = {w.get_gid(): w.get_facecolor() for w in axes.patches if w.get_gid()}
        tasks = {gid: colour for gid, colour in wedges.items() if not gid.startswith("tier ")}
        assert len(set(tasks.values())) == len(tasks)
        tiers = {gid: colour for gid, colour in wedges.items() if gid.startswith("tier ")}
        assert set(tiers) == {"tier default", "tier hard"} and len(set(tiers.values())) == 2
        legend = [t.get_text() for t in axes.get_legend().get_texts()]
        assert "tier hard" in legend and all(any(e.startswith(task) for e in legend) for task in tasks)
        colours_by_split.append(tasks)
    test, train = colours_by_split
    assert len(train) == len(TASKS) and all(train[task] == colour for task, colour in test.items())


def test_the_composition_legend_covers_no_label_and_no_ring():
    figure = composition_figure("every", composition_of_every_task())
    figure.canvas.draw()
    for axes in figure.axes:
        legend = axes.get_legend().get_window_extent()
        covered = [t.get_text() for t in axes.texts if t.get_window_extent().overlaps(legend)]
        covered += [w.get_gid() for w in axes.patches if w.get_window_extent().overlaps(legend)]
        assert not covered


def test_inspect_writes_the_chart_and_one_sheet_per_sampled_record(built, tmp_path):
    paths = inspect(built, tmp_path, samples=5)
    assert [p.name for p in paths[:1]] == ["composition.png"] and len(paths) == 6
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in paths)
    assert not list(tmp_path.glob(".*.tmp"))  # written whole, through a temporary name
