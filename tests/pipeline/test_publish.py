"""Publishing, without network: the staged folder loads with `load_dataset` to exactly the build's
rows, the card parses, re-publishing plans no upload, no token is written, recipes share a repo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.cli import assert_one_line_error, run_cli
from videolake.pipeline import publish as hub
from videolake.pipeline.graph import build
from videolake.pipeline.recipes import load_recipe


def recipe(tmp_path: Path, name: str, **extra) -> Path:
    document = {
        "name": name,
        "shard_size": 2,
        "splits": {
            "train": [{"task": "synrl", "subtype": "chip_cups", "count": 2, "params": {"size": 64}}, {"task": "synrl", "subtype": "rotation", "count": 1, "params": {"size": 64}}],
            "test": [{"task": "synrl", "subtype": "direction", "count": 1, "params": {"size": 64}}],
        },
        **extra,
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("publish")
    return build(load_recipe(str(recipe(folder, "tiny-a", license="apache-2.0"))), None, folder / "out", workers=1, progress=False)


def rows_by_id(dataset) -> dict:
    table = dataset.with_format("arrow")[:]
    return {row["id"]: row for row in table.to_pylist()}


def test_staged_parquet_loads_to_exactly_the_build(built, tmp_path, monkeypatch):
    import datasets

    monkeypatch.setenv("HF_TOKEN", "hf_secret_token_for_the_test")
    staging = hub.stage(built, tmp_path / "staging", "someone/tiny")
    original = datasets.load_from_disk(str(built))
    for config in ("default", "tiny-a"):
        loaded = datasets.load_dataset(str(staging), config)
        assert set(loaded) == set(original)
        for split in original:
            theirs, ours = rows_by_id(loaded[split]), rows_by_id(original[split])
            assert theirs.keys() == ours.keys()
            for record_id, row in ours.items():
                assert theirs[record_id]["answer"] == row["answer"] and theirs[record_id]["meta"] == row["meta"]
                assert [v["bytes"] for v in theirs[record_id]["videos"]] == row["videos"]
    assert str(loaded["train"].features["videos"]).startswith("List(Video(")
    per_task = datasets.load_dataset(str(staging), "tiny-a-synrl")
    assert len(per_task["train"]) == 3
    written = b"".join(p.read_bytes() for p in staging.rglob("*") if p.is_file())
    assert b"hf_secret_token_for_the_test" not in written
    assert not list(Path(built).rglob("cache-*.arrow"))  # the build folder is never written to


def test_the_card_parses_and_says_what_the_dataset_is(built, tmp_path):
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard

    staging = hub.stage(built, tmp_path / "staging", "someone/tiny")
    card = DatasetCard.load(staging / hub.CARD)
    data = card.data.to_dict()
    assert data["license"] == "apache-2.0" and data["task_categories"] == ["video-text-to-text"] and data["size_categories"] == ["n<1K"]
    configs = MetadataConfigs.from_dataset_card_data(card.data)
    assert set(configs) == {"default", "tiny-a", "tiny-a-synrl"}
    features = {f["name"]: f for f in data["dataset_info"][0]["features"]}
    assert features["videos"] == {"name": "videos", "list": "video"}
    assert "| synrl | chip_cups | default | train | 2 |" in card.text and 'load_dataset("someone/tiny", "tiny-a")' in card.text
    for image in ("images/tiny-a/composition.png",):
        assert (staging / image).exists() and f"]({image})" in card.text


def test_republishing_plans_no_upload(built, tmp_path):
    staging = hub.stage(built, tmp_path / "staging", "someone/tiny")
    first = hub.local_files(staging)
    assert hub.upload_plan(staging, {}) == sorted(first)  # an empty repository gets everything
    remote = {path: hashes[0] if path.endswith((".parquet", ".png")) else hashes[1] for path, hashes in first.items()}  # as the Hub reports them
    hub.stage(built, staging, "someone/tiny")  # staged again: same bytes
    assert hub.local_files(staging) == first
    assert hub.upload_plan(staging, remote) == []
    remote["README.md"] = "0" * 40
    assert hub.upload_plan(staging, remote) == ["README.md"]
    assert not any(name.startswith(".") for name in first)  # the staging state never goes up


def test_two_recipes_share_one_repository(built, tmp_path):
    import datasets

    folder = tmp_path / "second"
    folder.mkdir()
    other = build(load_recipe(str(recipe(folder, "tiny-b", license="cc-by-4.0", seed=3))), None, folder / "out", workers=1, progress=False)
    staging = hub.stage(built, tmp_path / "staging", "someone/both")
    hub.stage(other, staging, "someone/both")
    assert len(datasets.load_dataset(str(staging), "tiny-b")["train"]) == 3
    assert len(datasets.load_dataset(str(staging), "default")["train"]) == 3  # still the first dataset
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(staging / hub.CARD)
    assert sorted(card.data.to_dict()["license"]) == ["apache-2.0", "cc-by-4.0"] and "## tiny-a" in card.text and "## tiny-b" in card.text


def test_publish_needs_a_licence_and_dry_run_needs_no_network(tmp_path):
    out = build(load_recipe(str(recipe(tmp_path, "nolicence"))), None, tmp_path / "out", workers=1, progress=False)
    assert_one_line_error(run_cli("publish", out, "someone/x", "--dry-run"), "states no licence")
    dataset = build(load_recipe(str(recipe(tmp_path, "withlicence", license="apache-2.0"))), None, tmp_path / "out", workers=1, progress=False)
    result = run_cli("publish", dataset, "someone/x", "--dry-run", "--staging", tmp_path / "st")
    assert result.returncode == 0 and (tmp_path / "st" / "README.md").exists(), result.stderr
    assert json.loads((tmp_path / "st" / hub.STATE).read_text())["default"] == "withlicence"
