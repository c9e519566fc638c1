"""Hostile annotation files and recipes: every bad row is a reported row and the build goes on, every
bad file is one ``error:`` line, never a traceback; annotation files resolve inside ``--sources``.

The property tests generate hostile content for each format (wrong JSON types, not JSON, deep
nests, huge numbers, strings where numbers go, null, NaN) and check the whole path a row takes in
a build: the reader, then the task's ``generate`` on a clip, which may only refuse a row with
``CannotGenerate``."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers.cli import assert_one_line_error, run_cli
from tests.helpers.clips import make_clip
from videolake import VideolakeError
from videolake.generators import TASKS, CannotGenerate
from videolake.pipeline.annotations import (
    SourcesRoot,
    annotated_samples,
    digest,
    read_activitynet,
    read_charades_sta,
    read_got10k,
    read_llava_video,
    read_nextgqa,
)
from videolake.pipeline.ingest import SourceRef
from videolake.pipeline.recipes import MAX_VALUES, RecipeError, load_recipe, parse_recipe
from videolake.pipeline.sampling import SourceError, sample_image_sequence

VIDEOS = [SourceRef(f"videos/{name}.mp4", f"/nowhere/{name}.mp4") for name in ("clip", "other")]
# (task, subtype) of every entry reading each format, as a recipe would name them.
READERS = {
    "charades_sta": [("temporal_grounding", "charades_sta"), ("multi_segment_grounding", "charades_sta")],
    "activitynet": [("temporal_grounding", "activitynet"), ("multi_segment_grounding", "activitynet")],
    "nextgqa": [("grounding_qa", "nextgqa"), ("multiple_choice", "nextgqa")],
    "llava_video": [("multiple_choice", "llava_video"), ("open_ended_qa", "llava_video")],
    "got10k": [("object_tracking", "got10k")],
}
FILES = {
    "charades_sta": ["charades.txt"],
    "activitynet": ["anet.json"],
    "nextgqa": ["val.csv", "gsub.json"],
    "llava_video": ["qa.json"],
    "got10k": ["got"],
}

JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 10**400, 1e308, -1e308]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["clip", "other", "3.5", "", "  ", "nan", "A.", "human", "gpt"]),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["video", "from", "value", "duration", "timestamps", "sentences", "x"]), inner, max_size=4
        )
    ),
    max_leaves=12,
)


def one_line(err: BaseException) -> bool:
    return "\n" not in str(err) and len(str(err)) > 0


def samples_or_error(fmt: str, root: Path, outside_allowed: bool = False):
    """Every entry's samples from the files in ``root``, each pushed through its task's ``generate``:
    a row is made into a sample or refused with CannotGenerate (a GOT-10k sequence's frames, as the
    build samples them, may also be a SourceError). Returns (samples, skipped), or the
    VideolakeError of a file that is not of its format."""
    made, skipped = [], []
    for task_name, subtype in READERS[fmt]:
        task = TASKS[task_name]
        try:
            samples, bad = annotated_samples(
                fmt,
                FILES[fmt][: 1 if (task_name, subtype) == ("multiple_choice", "nextgqa") else None],
                SourcesRoot(root, outside_allowed),
                VIDEOS,
                task.select_annotations,
            )
        except VideolakeError as err:
            assert one_line(err), str(err)
            return err
        digest(samples)  # what the fingerprint records: JSON-able rows
        skipped += bad
        for sample in samples:
            row = dict(sample.annotation)
            try:
                clip = (
                    sample_image_sequence(sample.source.container, row["frames"], 12, (64, 64), row["fps"])
                    if fmt == "got10k"
                    else dataclasses.replace(make_clip(n=12, h=32, w=48), source_size=(48, 32))
                )
                task.generate(clip, subtype, {}, np.random.default_rng(0), None, annotation=row)
                made.append(sample)
            except (CannotGenerate, SourceError) as err:
                assert one_line(err), str(err)
    assert all(one_line(Exception(s.reason)) and s.source_id for s in skipped)
    return made, skipped


def reasons(skipped) -> dict[str, str]:
    return {s.source_id: s.reason for s in skipped}


# --- the cases the issue names ----------------------------------------------------------------


def test_activitynet_sentence_of_the_wrong_type_is_a_reported_row(tmp_path):
    document = {
        "v_clip": {"duration": 6.0, "timestamps": [[1.0, 2.0], [3.0, 4.0]], "sentences": [5, "A person waves."]},
        "v_other": {"duration": "6", "timestamps": [], "sentences": []},
    }
    (tmp_path / "anet.json").write_text(json.dumps(document))
    rows, skipped = read_activitynet(tmp_path / "anet.json", "anet.json")
    assert [(r["query"], r["start"], r["end"]) for r in rows] == [("a person waves", 3.0, 4.0)]
    assert reasons(skipped) == {
        "anet.json:v_clip[0]": "unreadable sentence: sentences[0] must be a string, got a number",
        "anet.json:v_other": "unreadable entry: duration must be a number, got a string",
    }


def write_csv(path: Path, rows: list[list]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "video",
                "frame_count",
                "width",
                "height",
                "question",
                "answer",
                "qid",
                "type",
                "a0",
                "a1",
                "a2",
                "a3",
                "a4",
            ]
        )
        writer.writerows(rows)


GOOD_QUESTION = ["clip", 100, 640, 360, "what happens", 2, "q1", "CW", "a", "b", "c", "d", "e"]


def test_a_short_nextqa_row_is_a_reported_row(tmp_path):
    write_csv(tmp_path / "val.csv", [GOOD_QUESTION, ["clip", 100, 640, 360, "cut short", 1, "q2", "CW", "a"]])
    rows, skipped = read_nextgqa([tmp_path / "val.csv"], ["val.csv"])
    assert [r["qid"] for r in rows] == ["q1"]
    assert reasons(skipped) == {"val.csv:3": "unreadable question: short row: no value for 'a1'"}


def test_a_nextgqa_grounding_file_that_is_a_list_is_reported_and_the_questions_are_read(tmp_path):
    write_csv(tmp_path / "val.csv", [GOOD_QUESTION])
    (tmp_path / "gsub.json").write_text(json.dumps([{"clip": {"duration": 6.0}}]))
    rows, skipped = read_nextgqa([tmp_path / "val.csv", tmp_path / "gsub.json"], ["val.csv", "gsub.json"])
    assert [r["qid"] for r in rows] == ["q1"] and "segments" not in rows[0]
    assert reasons(skipped) == {
        "gsub.json": "expected a JSON object of videos, got an array: its questions are read without grounding"
    }


def test_nextgqa_grounding_of_the_wrong_shape_reports_its_question(tmp_path):
    write_csv(
        tmp_path / "val.csv",
        [GOOD_QUESTION, ["other", 100, 640, 360, "what else", 0, "q2", "CW", "a", "b", "c", "d", "e"]],
    )
    grounding = {
        "clip": {"duration": 6.0, "location": {"q1": [[1.0, "2"]]}},
        "other": {"duration": 6.0, "location": {"q2": [[1.0, 2.0]]}},
    }
    (tmp_path / "gsub.json").write_text(json.dumps(grounding))
    rows, skipped = read_nextgqa([tmp_path / "val.csv", tmp_path / "gsub.json"], ["val.csv", "gsub.json"])
    assert [(r["qid"], r["segments"]) for r in rows] == [("q2", [[1.0, 2.0]])]
    assert reasons(skipped) == {"val.csv:2": "unreadable question: segment 0 end must be a number, got a string"}


def test_a_llava_turn_without_a_value_reports_its_item(tmp_path):
    items = [
        {
            "video": "videos/clip.mp4",
            "conversations": [
                {"from": "human", "value": "What?"},
                {"from": "gpt", "value": "A."},
                {"from": "human", "value": "And?"},
                {"from": "gpt", "value": None},
            ],
        },
        {
            "video": "videos/other.mp4",
            "conversations": [{"from": "human", "value": "<image>\nWhat moves?"}, {"from": "gpt", "value": "A car."}],
        },
    ]
    (tmp_path / "qa.json").write_text(json.dumps(items))
    rows, skipped = read_llava_video(tmp_path / "qa.json", "qa.json")
    assert [(r["where"], r["answer_text"]) for r in rows] == [
        ("qa.json[1].0", "A car.")
    ]  # item 0 is reported whole, its good first turn too
    assert reasons(skipped) == {"qa.json[0]": "unreadable item: turn 3 value must be a string, got null"}


def test_charades_numbers_that_are_not_finite_are_reported(tmp_path):
    (tmp_path / "charades.txt").write_text("clip nan 2.0##a\nclip 1.0 1e999##b\nclip 1.0 2.0##c\n")
    rows, skipped = read_charades_sta(tmp_path / "charades.txt", "charades.txt")
    assert [r["query"] for r in rows] == ["c"]
    assert reasons(skipped) == {
        "charades.txt:1": "start is not a finite number: 'nan'",
        "charades.txt:2": "end is not a finite number: '1e999'",
    }


def test_got10k_groundtruth_not_utf8_or_empty_is_reported(tmp_path):
    for name, truth in (("a", b"\xff\xfe1,2,3,4\n"), ("b", b"")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "groundtruth.txt").write_bytes(truth)
        (tmp_path / name / "00000001.jpg").write_bytes(b"")
    rows, skipped = read_got10k(tmp_path, "got")
    assert rows == [] and set(reasons(skipped)) == {"got/a", "got/b"}
    assert reasons(skipped)["got/b"] == "groundtruth.txt: no boxes"


@pytest.mark.parametrize("text", ["[" * 100_000, "{" * 100_000, '{"a": ' * 100_000, "not json", "\ufeff{}", "\x00\x01"])
def test_json_that_cannot_be_read_is_one_line(tmp_path, text):
    (tmp_path / "anet.json").write_text(text, encoding="utf-8")
    with pytest.raises(VideolakeError, match=r"^anet\.json: ") as caught:
        read_activitynet(tmp_path / "anet.json", "anet.json")
    assert one_line(caught.value)


def test_a_csv_without_the_nextqa_columns_or_with_a_huge_field_is_one_line(tmp_path):
    (tmp_path / "val.csv").write_text("video,question\nclip,what\n")
    with pytest.raises(VideolakeError, match="no column 'answer'"):
        read_nextgqa([tmp_path / "val.csv"], ["val.csv"])
    write_csv(
        tmp_path / "val.csv", [GOOD_QUESTION, ["clip", 1, 1, 1, "x" * 200_000, 1, "q2", "CW", "a", "b", "c", "d", "e"]]
    )
    with pytest.raises(
        VideolakeError, match=r"^val\.csv: line 3: not readable as CSV \(field larger than field limit"
    ) as caught:
        read_nextgqa([tmp_path / "val.csv"], ["val.csv"])
    assert one_line(caught.value)


# --- paths resolve inside --sources ---------------------------------------------------------------


@pytest.fixture
def jail(tmp_path) -> tuple[Path, Path]:
    """(sources root, a folder beside it) each holding a Charades-STA file."""
    root, outside = tmp_path / "sources", tmp_path / "outside"
    for folder in (root, outside):
        folder.mkdir()
        (folder / "charades.txt").write_text("clip 1.0 2.0##a person waves\n")
    return root, outside


@pytest.mark.parametrize("name", ["../outside/charades.txt", "sub/../../outside/charades.txt", "ABSOLUTE"])
def test_annotation_files_outside_the_sources_are_refused(jail, name):
    root, outside = jail
    name = str(outside / "charades.txt") if name == "ABSOLUTE" else name
    with pytest.raises(VideolakeError, match="is outside --sources .*--annotations-outside-sources") as caught:
        annotated_samples("charades_sta", [name], SourcesRoot(root), VIDEOS)
    assert one_line(caught.value)


def test_a_symlink_out_of_the_sources_is_refused(jail):
    root, outside = jail
    os.symlink(outside / "charades.txt", root / "linked.txt")
    os.symlink(outside, root / "linked_folder")
    for name in ("linked.txt", "linked_folder/charades.txt"):
        with pytest.raises(VideolakeError, match=r"leads outside --sources \(.*\) through a symlink"):
            annotated_samples("charades_sta", [name], SourcesRoot(root), VIDEOS)
    os.symlink(root / "charades.txt", root / "inside.txt")  # a symlink that stays inside is fine
    samples, _ = annotated_samples("charades_sta", ["inside.txt"], SourcesRoot(root), VIDEOS)
    assert [s.annotation["where"] for s in samples] == ["inside.txt:1"]


def test_reading_outside_needs_the_flag_and_never_records_a_path_of_the_machine(jail):
    root, outside = jail
    samples, _ = annotated_samples(
        "charades_sta", [str(outside / "charades.txt")], SourcesRoot(root, outside_allowed=True), VIDEOS
    )
    assert [s.annotation["where"] for s in samples] == ["charades.txt:1"]
    write_got10k_sequence(outside / "got" / "seq1")
    samples, skipped = annotated_samples(
        "got10k", [str(outside / "got")], SourcesRoot(root, outside_allowed=True), VIDEOS
    )
    assert (
        skipped == []
        and [s.source.source_id for s in samples] == ["got/seq1"]
        and not samples[0].annotation["where"].startswith("/")
    )


def write_got10k_sequence(folder: Path, truth: str = "1,2,10,8\n1,2,10,8\n", frames: int = 2) -> None:
    from PIL import Image

    folder.mkdir(parents=True)
    for i in range(frames):
        Image.new("RGB", (48, 32), (40, 40, 40)).save(folder / f"{i + 1:08d}.jpg")
    (folder / "groundtruth.txt").write_text(truth)


def test_a_got10k_sequence_whose_groundtruth_links_out_is_refused(jail):
    root, outside = jail
    write_got10k_sequence(root / "got" / "seq1")
    (root / "got" / "seq1" / "groundtruth.txt").unlink()
    (outside / "truth.txt").write_text("1,2,10,8\n1,2,10,8\n")
    os.symlink(outside / "truth.txt", root / "got" / "seq1" / "groundtruth.txt")
    with pytest.raises(VideolakeError, match=r"got/seq1/groundtruth\.txt leads outside --sources"):
        annotated_samples("got10k", ["got"], SourcesRoot(root), VIDEOS)


def test_a_hub_snapshots_links_into_its_own_blobs_count_as_inside(tmp_path):
    repo = tmp_path / "hub" / "datasets--owner--name"
    (repo / "blobs").mkdir(parents=True)
    (repo / "snapshots" / "abc123").mkdir(parents=True)
    (repo / "blobs" / "f00d").write_text("clip 1.0 2.0##a person waves\n")
    os.symlink("../../blobs/f00d", repo / "snapshots" / "abc123" / "charades.txt")
    samples, _ = annotated_samples("charades_sta", ["charades.txt"], SourcesRoot(repo / "snapshots" / "abc123"), VIDEOS)
    assert [s.annotation["where"] for s in samples] == ["charades.txt:1"]
    plain = tmp_path / "plain"  # a folder that is not a snapshot has no such exception
    plain.mkdir()
    os.symlink(repo / "blobs" / "f00d", plain / "charades.txt")
    with pytest.raises(VideolakeError, match="leads outside --sources"):
        annotated_samples("charades_sta", ["charades.txt"], SourcesRoot(plain), VIDEOS)


def test_a_symlink_loop_is_a_missing_file_not_a_traceback(jail):
    root, _ = jail
    os.symlink(root / "loop", root / "loop")
    with pytest.raises(VideolakeError, match="annotation file not found: loop"):
        annotated_samples("charades_sta", ["loop"], SourcesRoot(root), VIDEOS)
    with pytest.raises(VideolakeError, match="is not a file"):
        annotated_samples("charades_sta", ["."], SourcesRoot(root), VIDEOS)


# --- the generated hostile corpus -----------------------------------------------------------------

HYPOTHESIS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def fresh(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@HYPOTHESIS
@given(
    videos=st.dictionaries(st.sampled_from(["v_clip", "other", "x"]), JSON_VALUES, max_size=3),
    whole=st.none() | JSON_VALUES,
)
def test_hostile_activitynet_files(tmp_path_factory, videos, whole):
    root = fresh(tmp_path_factory)
    (root / "anet.json").write_text(json.dumps(videos if whole is None else whole))
    samples_or_error("activitynet", root)


def mostly(good, hostile):
    """``good`` two times in three, else ``hostile`` (``good | hostile`` would flatten into a uniform
    choice among hostile's many branches, and almost never make a sample)."""
    return st.integers(0, 2).flatmap(lambda k: hostile if k == 0 else good)


# Values that make a sample on the 1.5 s test clip, mixed with hostile ones, so both paths run.
GOOD_INTERVAL = st.tuples(st.sampled_from([0, 0.5, 1, 1.4]), st.sampled_from([0.5, 1.2, 1.5, 1.9])).map(list)
GOOD_TEXT = st.sampled_from(["A person waves.", "x", " y "])
ACTIVITYNET_ENTRY = st.fixed_dictionaries(
    {
        "duration": mostly(st.sampled_from([1.5, 6]), JSON_LEAVES),
        "timestamps": st.lists(mostly(GOOD_INTERVAL, st.lists(JSON_LEAVES, max_size=3) | JSON_LEAVES), max_size=3),
        "sentences": st.lists(mostly(GOOD_TEXT, JSON_LEAVES), max_size=3),
    }
)


@HYPOTHESIS
@given(entries=st.lists(ACTIVITYNET_ENTRY, min_size=1, max_size=3))
def test_hostile_activitynet_entries_of_the_right_shape(tmp_path_factory, entries):
    root = fresh(tmp_path_factory)
    (root / "anet.json").write_text(json.dumps(dict(zip(["v_clip", "other", "clip"], entries))))
    samples_or_error("activitynet", root)


NUMBER_TEXT = st.sampled_from(
    ["1", "2.5", "-1", "0", "nan", "inf", "1e999", "9" * 400, "x", "", "3,4", "1e-320"]
) | st.floats().map(str)
GOOD_NUMBER_TEXT = st.sampled_from(["0", "0.5", "1", "1.4"])


@HYPOTHESIS
@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from(["clip", "other", "", "a b"]),
            mostly(GOOD_NUMBER_TEXT, NUMBER_TEXT),
            mostly(GOOD_NUMBER_TEXT, NUMBER_TEXT),
            mostly(GOOD_TEXT, st.text(max_size=6)),
            st.sampled_from(["##", "##", "#", ""]),
        ),
        max_size=6,
    ),
    noise=st.text(max_size=30),
)
def test_hostile_charades_files(tmp_path_factory, lines, noise):
    root = fresh(tmp_path_factory)
    (root / "charades.txt").write_text(
        "".join(f"{v} {s} {e}{sep}{q}\n" for v, s, e, q, sep in lines) + noise, encoding="utf-8", errors="surrogatepass"
    )
    samples_or_error("charades_sta", root)


CSV_FIELD = st.sampled_from(["clip", "other", "0", "4", "5", "-1", "1.5", "9" * 50, "", " ", "a"]) | st.text(max_size=5)


@HYPOTHESIS
@given(
    rows=st.lists(st.lists(CSV_FIELD, max_size=15), max_size=5),
    grounding=JSON_VALUES,
    located=st.dictionaries(
        st.sampled_from(["clip", "other"]),
        st.fixed_dictionaries(
            {"duration": JSON_LEAVES, "location": st.dictionaries(st.sampled_from(["q1", "0", "4"]), JSON_VALUES)}
        ),
        max_size=2,
    ),
)
def test_hostile_nextgqa_files(tmp_path_factory, rows, grounding, located):
    root = fresh(tmp_path_factory)
    write_csv(root / "val.csv", [GOOD_QUESTION, *rows])
    (root / "gsub.json").write_text(json.dumps(located or grounding))
    samples_or_error("nextgqa", root)


TURN = st.fixed_dictionaries(
    {
        "from": st.sampled_from(["human", "gpt", "system"]) | JSON_LEAVES,
        "value": st.sampled_from(["What?\nA. yes\nB. no", "A.", "B", "<video>", ""]) | JSON_LEAVES,
    }
)
QUESTION_TEXT = st.sampled_from(["What?\nA. yes\nB. no", "<image>\nDescribe it.", "<video>", "Which?\nA. a\nC. c"])
ANSWER_TEXT = st.sampled_from(["A.", "B", "A car.", "(C)", " "])
CONVERSATION = st.lists(
    st.tuples(mostly(QUESTION_TEXT, JSON_LEAVES), mostly(ANSWER_TEXT, JSON_LEAVES)), min_size=1, max_size=2
).map(lambda pairs: [turn for q, a in pairs for turn in ({"from": "human", "value": q}, {"from": "gpt", "value": a})])


@HYPOTHESIS
@given(
    items=st.lists(
        st.fixed_dictionaries(
            {
                "video": mostly(st.sampled_from(["videos/clip.mp4", "other", "../x.mp4"]), JSON_LEAVES),
                "conversations": mostly(CONVERSATION, st.lists(TURN, max_size=4) | JSON_VALUES),
            }
        )
        | JSON_VALUES,
        max_size=4,
    )
)
def test_hostile_llava_files(tmp_path_factory, items):
    root = fresh(tmp_path_factory)
    (root / "qa.json").write_text(json.dumps(items))
    samples_or_error("llava_video", root)


GOOD_BOX = st.tuples(
    *[st.sampled_from(["0", "1", "2.5", "5"])] * 2, *[st.sampled_from(["10", "20"])] * 2
)  # inside the 48x32 frames
BAD_BOX = st.lists(NUMBER_TEXT, min_size=3, max_size=5)


@HYPOTHESIS
@given(
    boxes=st.lists(GOOD_BOX, min_size=6, max_size=12),
    bad=st.none() | st.tuples(st.integers(0, 12), BAD_BOX),
    extra_frames=st.sampled_from([0, 0, 0, 1, -1]),
    object_class=st.text(max_size=10),
)
def test_hostile_got10k_sequences(tmp_path_factory, boxes, bad, extra_frames, object_class):
    """Mostly sequences of boxes inside their frames, some with one hostile line (outside, empty, not numbers) or a frame too many or too few."""
    if bad is not None:
        boxes.insert(bad[0], bad[1])
    root = fresh(tmp_path_factory)
    write_got10k_sequence(
        root / "got" / "seq", "".join(",".join(box) + "\n" for box in boxes), max(0, len(boxes) + extra_frames)
    )
    (root / "got" / "seq" / "meta_info.ini").write_text(
        f"object_class: {object_class}\n", encoding="utf-8", errors="surrogatepass"
    )
    samples_or_error("got10k", root)


@HYPOTHESIS
@given(data=st.binary(max_size=64))
def test_files_of_random_bytes(tmp_path_factory, data):
    root = fresh(tmp_path_factory)
    for names in FILES.values():
        for name in names:
            if name != "got":
                (root / name).write_bytes(data)
    (root / "got" / "seq").mkdir(parents=True)
    (root / "got" / "seq" / "groundtruth.txt").write_bytes(data)
    for fmt in READERS:
        samples_or_error(fmt, root)


# --- a build over hostile files: rows reported, sources untouched, one line at worst ---------------


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_a_build_over_hostile_rows_reports_them_and_leaves_the_sources_alone(tmp_path, clips_dir):
    root = tmp_path / "sources"
    (root / "videos").mkdir(parents=True)
    os.symlink(clips_dir / "bikes.mp4", root / "videos" / "bikes.mp4")
    (root / "anet.json").write_text(
        json.dumps(
            {
                "v_bikes": {
                    "duration": 10.0,
                    "timestamps": [[0.5, 3.0], [1, 2], [1, None]],
                    "sentences": ["A man rides.", [5], "x"],
                },
                "v_null": None,
            }
        )
    )
    (root / "qa.json").write_text(
        json.dumps(
            [
                {
                    "video": "videos/bikes.mp4",
                    "conversations": [{"from": "human", "value": "What?"}, {"from": "gpt", "value": None}],
                },
                7,
            ]
        )
    )
    recipe = {
        "name": "hostile",
        "frames": 8,
        "max_size": [64, 64],
        "holdout_fraction": 0,
        "splits": {
            "train": [
                {"task": "temporal_grounding", "subtype": "activitynet", "annotations": "anet.json", "count": 5},
                {"task": "open_ended_qa", "subtype": "llava_video", "annotations": "qa.json", "count": 5},
            ]
        },
    }
    (tmp_path / "hostile.yaml").write_text(yaml.safe_dump(recipe))
    before = tree_hashes(root)
    result = run_cli(
        "build", tmp_path / "hostile.yaml", "--sources", root, "--out", tmp_path / "out", "--workers", "1", "--quiet"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out" / "hostile" / "build_report.json").read_text())
    found = {entry["source_id"]: entry["reason"] for entry in report["skipped"]}
    assert found["anet.json:v_bikes[1]"] == "unreadable sentence: sentences[1] must be a string, got an array"
    assert found["anet.json:v_bikes[2]"] == "unreadable sentence: timestamps[2] end must be a number, got null"
    assert found["anet.json:v_null"] == "unreadable entry: the entry must be an object, got null"
    assert (
        found["qa.json[0]"] == "unreadable item: turn 1 value must be a string, got null"
        and found["qa.json[1]"] == "unreadable item: the item must be an object, got a number"
    )
    assert json.loads((tmp_path / "out" / "hostile" / "manifest.json").read_text())["counts"]["train"] == {
        "temporal_grounding/activitynet/default": 1
    }
    assert tree_hashes(root) == before
    (root / "anet.json").write_text("[" * 100_000)
    assert_one_line_error(
        run_cli(
            "build",
            tmp_path / "hostile.yaml",
            "--sources",
            root,
            "--out",
            tmp_path / "out2",
            "--workers",
            "1",
            "--quiet",
        ),
        "anet.json: not valid JSON (nested too deeply)",
    )


def test_the_build_command_refuses_outside_files_unless_told(tmp_path, clips_dir):
    root, outside = tmp_path / "sources", tmp_path / "outside"
    (root / "videos").mkdir(parents=True)
    outside.mkdir()
    os.symlink(clips_dir / "bikes.mp4", root / "videos" / "bikes.mp4")
    (outside / "charades.txt").write_text("bikes 0.5 3.2##A person rides a bike.\n")
    recipe = {
        "name": "outside",
        "frames": 8,
        "max_size": [64, 64],
        "holdout_fraction": 0,
        "splits": {
            "train": [
                {
                    "task": "temporal_grounding",
                    "subtype": "charades_sta",
                    "annotations": str(outside / "charades.txt"),
                    "count": 1,
                }
            ]
        },
    }
    (tmp_path / "outside.yaml").write_text(yaml.safe_dump(recipe))
    command = (
        "build",
        tmp_path / "outside.yaml",
        "--sources",
        root,
        "--out",
        tmp_path / "out",
        "--workers",
        "1",
        "--quiet",
    )
    assert_one_line_error(run_cli(*command), "is outside --sources", "--annotations-outside-sources")
    assert not (tmp_path / "out" / "outside" / "manifest.json").exists()
    assert run_cli(*command, "--annotations-outside-sources").returncode == 0
    import datasets

    (record,) = datasets.load_from_disk(str(tmp_path / "out" / "outside"))["train"]
    assert (
        record["source_id"] == "videos/bikes.mp4"
        and json.loads(record["meta"])["annotation"]["where"] == "charades.txt:1"
    )


# --- hostile recipes ------------------------------------------------------------------------------

ENTRY = {"task": "temporal_grounding", "subtype": "rendered", "count": 1}
BOMB = "a: &a ['x','x','x','x','x','x','x','x','x']\n" + "".join(
    f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n" for p, c in zip("abcdefgh", "bcdefghi")
)
HOSTILE_RECIPES = {
    "not yaml": "name: [unclosed\n",
    "not a mapping": "- 1\n- 2\n",
    "a number": "5\n",
    "empty": "",
    "a python tag": "name: !!python/object/apply:os.system ['true']\n",
    "a yaml bomb in the description": BOMB
    + "name: bomb\ndescription: *i\nsplits: {train: [{task: temporal_grounding, subtype: rendered, count: 1}]}\n",
    "a yaml bomb in params": BOMB
    + "name: bomb\nsplits: {train: [{task: temporal_grounding, subtype: rendered, count: 1, params: {objects: *i}}]}\n",
    "a recursive alias": "name: x\nsplits: &s {train: [*s]}\n",
    "deep nesting": "name: x\nsplits: " + "[" * 100_000 + "\n",
    "deep but parseable nesting": "name: x\nsplits: {train: [{task: temporal_grounding, count: 1, params: "
    + "[" * 200
    + "]" * 200
    + "}]}\n",
    "integer keys": "name: x\n1: 2\nsplits: {train: [{task: temporal_grounding, subtype: rendered, count: 1}]}\n",
    "mixed unknown keys": "name: x\n1: 2\nzz: 3\nsplits: {}\n",
    "a list as the tier": "name: x\nsplits: {train: [{task: temporal_grounding, tier: [1], count: 1}]}\n",
    "a list as the task": "name: x\nsplits: {train: [{task: [temporal_grounding], count: 1}]}\n",
    "a mapping as the subtype": "name: x\nsplits: {train: [{task: object_counting, subtype: {a: 1}, count: 1}]}\n",
    "a negative count": "name: x\nsplits: {train: [{task: temporal_grounding, subtype: rendered, count: -3}]}\n",
    "a huge count": "name: x\nsplits: {train: [{task: temporal_grounding, subtype: rendered, count: 1000000000000000000000}]}\n",
    "a string count": "name: x\nsplits: {train: [{task: temporal_grounding, subtype: rendered, count: '5'}]}\n",
    "a huge seed": "name: x\nseed: 100000000000000000000000000000\nsplits: {train: [{task: temporal_grounding, subtype: rendered, count: 1}]}\n",
    "a NaN holdout": "name: x\nholdout_fraction: .nan\nsplits: {train: [{task: temporal_grounding, subtype: rendered, count: 1}]}\n",
    "params a list": "name: x\nsplits: {train: [{task: temporal_grounding, subtype: rendered, count: 1, params: []}]}\n",
    "a description list": "name: x\ndescription: [1, 2]\nsplits: {train: [{task: temporal_grounding, subtype: rendered, count: 1}]}\n",
    "a NUL in an annotation path": 'name: x\nsplits: {train: [{task: temporal_grounding, subtype: charades_sta, count: 1, annotations: "a\\0b"}]}\n',
    "unknown entry keys": "name: x\nsplits: {train: [{task: temporal_grounding, subtype: rendered, count: 1, 7: x, zz: y}]}\n",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_RECIPES))
def test_hostile_recipes_are_one_line(tmp_path, case):
    path = tmp_path / "recipe.yaml"
    path.write_text(HOSTILE_RECIPES[case])
    with pytest.raises(RecipeError) as caught:
        load_recipe(str(path))
    assert one_line(caught.value) and len(str(caught.value)) < 500, str(caught.value)


def test_a_recipe_that_is_not_utf8_or_cannot_be_read_is_one_line(tmp_path):
    (tmp_path / "binary.yaml").write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(RecipeError, match="not UTF-8 text"):
        load_recipe(str(tmp_path / "binary.yaml"))
    with pytest.raises(RecipeError, match="cannot read the recipe"):
        load_recipe("a" * 5000)


def test_the_size_bound_counts_aliases_where_they_are_used():
    shared = ["x"] * 100
    document = {
        "name": "x",
        "description": "",
        "splits": {"train": [dict(ENTRY)]},
        "tiers": {"temporal_grounding": {f"t{i}": {"p": shared} for i in range(MAX_VALUES // 100)}},
    }
    with pytest.raises(RecipeError, match=f"more than {MAX_VALUES} values"):
        parse_recipe(document, "big.yaml")
    document["tiers"] = {"temporal_grounding": {"t0": {}}}
    assert parse_recipe(document, "small.yaml").name == "x"


def test_a_yaml_bomb_is_one_line_on_the_command_line(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(HOSTILE_RECIPES["a yaml bomb in the description"])
    assert_one_line_error(run_cli("build", path, "--out", tmp_path / "out", "--quiet"), "more than", "values")
    assert not (tmp_path / "out").exists()


RECIPE_VALUES = st.recursive(
    JSON_LEAVES
    | st.sampled_from(
        ["temporal_grounding", "rendered", "default", "charades_sta", "object_counting", "easy", "train"]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)
RECIPE_ENTRIES = st.fixed_dictionaries(
    {},
    optional={
        "task": st.sampled_from(list(TASKS)) | RECIPE_VALUES,
        "subtype": st.sampled_from(["rendered", "charades_sta", "got10k", "easy"]) | RECIPE_VALUES,
        "tier": st.sampled_from(["default", "hard", "easy"]) | RECIPE_VALUES,
        "count": st.integers(-5, 10**25) | RECIPE_VALUES,
        "params": st.dictionaries(
            st.sampled_from(["objects", "stage", "frames", "asked_frames", "x"]), RECIPE_VALUES, max_size=2
        )
        | RECIPE_VALUES,
        "annotations": st.sampled_from(["a.txt", "../a.txt", "/etc/passwd"]) | RECIPE_VALUES,
    },
)
RECIPES = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["ok", "", ".x", "a/b"]) | RECIPE_VALUES,
        "splits": st.dictionaries(
            st.sampled_from(["train", "test", "1x"]), st.lists(RECIPE_ENTRIES, max_size=2) | RECIPE_VALUES, max_size=2
        )
        | RECIPE_VALUES,
    },
    optional=dict.fromkeys(
        (
            "description",
            "license",
            "seed",
            "frames",
            "max_size",
            "shard_size",
            "holdout_fraction",
            "disjoint_tasks",
            "tiers",
            "x264",
            "extra",
        ),
        RECIPE_VALUES,
    ),
)


@settings(max_examples=300, deadline=None)
@given(document=RECIPES)
def test_any_recipe_document_parses_or_is_one_recipe_error(document):
    try:
        recipe = parse_recipe(document, "fuzz.yaml")
    except RecipeError as err:
        assert one_line(err), str(err)
        return
    json.dumps(recipe.document)  # what the manifest records


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("name: splits{}[]-&*!\n ,'\"#train1.x|>%@`?")), max_size=80))
def test_any_yaml_text_loads_or_is_one_recipe_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("yaml") / "r.yaml"
    path.write_text(text)
    try:
        load_recipe(str(path))
    except RecipeError as err:
        assert one_line(err), str(err)
