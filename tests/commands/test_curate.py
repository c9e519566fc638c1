"""Pass-rate curation on a rollouts file whose pass rates are known, and on real rollouts from the
tiny model."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest
import yaml

from tests.helpers.cli import assert_one_line_error, run_cli, tree_hashes
from videolake.commands.curate import curate
from videolake.commands.harden import harden
from videolake.commands.validate import validate
from videolake.pipeline.graph import build
from videolake.pipeline.recipes import load_recipe


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("curate")
    recipe = {
        "name": "pool",
        "shard_size": 2,
        "splits": {"train": [{"task": "synrl", "subtype": "chip_cups", "count": 6, "params": {"size": 64}}]},
    }
    (folder / "r.yaml").write_text(yaml.safe_dump(recipe))
    return build(load_recipe(str(folder / "r.yaml")), None, folder / "out", workers=1, progress=False)


def known_rollouts(built, path, k=4):
    """Sample 0 and 1: every rollout right; 2: every rollout wrong; 3: 1 of 4 right; 4: 3 of 4; 5: none given."""
    import datasets

    rows = datasets.load_from_disk(str(built))["train"]
    right_counts = {0: k, 1: k, 2: 0, 3: 1, 4: 3}
    lines = []
    for index, row in enumerate(rows):
        if index not in right_counts:
            continue
        wrong = next(letter for letter in "ABCDEFGH" if letter != row["answer"])
        for attempt in range(k):
            answer = row["answer"] if attempt < right_counts[index] else wrong
            lines.append(json.dumps({"id": row["id"], "completion": f"<think>t</think><answer>{answer}</answer>"}))
    path.write_text("\n".join(lines) + "\n")
    return [row["id"] for row in rows]


def test_curation_with_known_pass_rates(built, tmp_path):
    ids = known_rollouts(built, tmp_path / "rollouts.jsonl")
    target, summary = curate(built, tmp_path / "rollouts.jsonl", tmp_path / "out", k=4)
    assert summary == {"rolled_out": 5, "zero_variance": 3, "all_passed": 2, "all_failed": 1, "kept": 3}
    rates = {
        row["id"]: row for row in map(json.loads, (target / "curation" / "pass_rates.jsonl").read_text().splitlines())
    }
    assert [rates[i]["pass_rate"] for i in ids[:5]] == [1.0, 1.0, 0.0, 0.25, 0.75]
    assert json.loads((target / "curation" / "too_easy.json").read_text()) == ids[:2]
    assert (target / "curation" / "pass_rates.png").exists()
    import datasets

    kept = datasets.load_from_disk(str(target))["train"]["id"]
    assert kept == [ids[3], ids[4], ids[5]]  # the groups with signal, and the one never rolled out
    assert validate(target) == (3, [])
    assert json.loads((target / "manifest.json").read_text())["derived_from"]["dataset"] == "pool"


def test_bad_rollouts_are_one_line(built, tmp_path):
    known_rollouts(built, tmp_path / "r.jsonl")
    assert_one_line_error(
        run_cli("curate", built, "--rollouts", tmp_path / "r.jsonl", "--k", "8", "--out", tmp_path / "o"),
        "do not have k=8 completions",
    )
    (tmp_path / "u.jsonl").write_text((json.dumps({"id": "nope", "completion": "A"}) + "\n") * 2)
    assert_one_line_error(
        run_cli("curate", built, "--rollouts", tmp_path / "u.jsonl", "--k", "2", "--out", tmp_path / "o"),
        "1 id(s) are not in pool",
        "'nope'",
    )


def test_an_output_in_or_around_an_input_or_over_another_folder_is_refused(built, tmp_path):
    known_rollouts(built, tmp_path / "r.jsonl")
    before = tree_hashes(built)

    def refused(dataset, rollouts, out, *fragments):
        assert_one_line_error(run_cli("curate", dataset, "--rollouts", rollouts, "--k", "4", "--out", out), *fragments)

    refused(built, tmp_path / "r.jsonl", built, "is inside the input", str(built))
    refused(built, tmp_path / "r.jsonl", built / "train", "is inside the input")
    shutil.copytree(built, tmp_path / "nest" / "pool-curated" / "pool")  # OUT/pool-curated would hold the parent
    nested = tree_hashes(tmp_path / "nest")
    refused(tmp_path / "nest" / "pool-curated" / "pool", tmp_path / "r.jsonl", tmp_path / "nest", "holds the input")
    (tmp_path / "o" / "pool-curated").mkdir(parents=True)
    shutil.copy(tmp_path / "r.jsonl", tmp_path / "o" / "pool-curated" / "r.jsonl")
    refused(built, tmp_path / "o" / "pool-curated" / "r.jsonl", tmp_path / "o", "holds the input")
    (tmp_path / "busy" / "pool-curated").mkdir(parents=True)
    (tmp_path / "busy" / "pool-curated" / "notes.txt").write_text("someone's")
    refused(built, tmp_path / "r.jsonl", tmp_path / "busy", "exists: remove it or choose another --out")
    assert tree_hashes(built) == before and tree_hashes(tmp_path / "nest") == nested
    assert tree_hashes(tmp_path / "busy") == {
        "pool-curated": "folder",
        "pool-curated/notes.txt": hashlib.sha256(b"someone's").hexdigest(),
    }


def test_a_killed_curations_leftovers_are_replaced_and_never_seen_as_the_dataset(built, tmp_path):
    known_rollouts(built, tmp_path / "r.jsonl")
    (tmp_path / "out" / ".pool-curated.tmp" / "train").mkdir(parents=True)
    (tmp_path / "out" / ".pool-curated.tmp" / "train" / "data-00000-of-00009.arrow").write_bytes(b"half")
    target, summary = curate(built, tmp_path / "r.jsonl", tmp_path / "out", k=4)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".pool-curated.lock", "pool-curated"]
    assert validate(target) == (summary["kept"], [])


def test_hardening_a_curated_dataset_keeps_its_rows_and_takes_its_too_easy_ids(built, tmp_path):
    import datasets

    known_rollouts(built, tmp_path / "r.jsonl")
    curated, _ = curate(built, tmp_path / "r.jsonl", tmp_path / "lake", k=4)  # keeps samples 3, 4, 5; 0 and 1 too easy
    before = tree_hashes(curated)
    harder = harden(curated, "next", tmp_path / "lake", workers=1, progress=False)
    rows = datasets.load_from_disk(str(harder))["train"]
    assert harder.name == "pool-curated-harder" and rows["id"] == [
        f"pool-curated-harder-train-{n:07d}" for n in (3, 4, 5)
    ]
    assert set(rows["tier"]) == {"hard"} and validate(harder) == (3, [])
    selected = harden(
        curated, "next", tmp_path / "lake", workers=1, progress=False, ids_file=curated / "curation" / "too_easy.json"
    )
    rows = datasets.load_from_disk(str(selected))["train"]
    assert selected.name == "pool-curated-harder-selected" and rows["id"] == [
        f"pool-curated-harder-selected-train-{n:07d}" for n in (0, 1)
    ]
    assert tree_hashes(curated) == before


def test_rollouts_from_the_tiny_model_feed_curation(built, tmp_path):
    result = run_cli(
        "rollouts",
        built,
        "--model",
        "tiny",
        "--k",
        "2",
        "--max-new-tokens",
        "4",
        "--out",
        tmp_path / "rollouts.jsonl",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in (tmp_path / "rollouts.jsonl").read_text().splitlines()]
    assert len(lines) == 12 and all(set(line) == {"id", "completion"} for line in lines)
    result = run_cli("curate", built, "--rollouts", tmp_path / "rollouts.jsonl", "--k", "2", "--out", tmp_path / "out")
    if result.returncode == 0:
        assert "6 samples rolled out" in result.stdout
    else:  # a random model fails (or passes) every completion alike: nothing would be left to curate
        assert (
            "every one of the 6 rolled-out samples" in result.stderr and len(result.stderr.strip().splitlines()) == 1
        ), result.stderr
