"""A tiny lake to train on: one SynRL video with a reasoning trace and one real clip."""

from __future__ import annotations

import pytest
import yaml

from videolake.pipeline.graph import build
from videolake.pipeline.recipes import load_recipe

RECIPE = {
    "name": "tiny-train",
    "max_size": [64, 64],
    "holdout_fraction": 0,
    "splits": {
        "train": [
            {"task": "synrl", "subtype": "card_pile", "count": 1, "params": {"size": 64, "fps": 10}},
            {"task": "anomaly_grounding", "subtype": "channel_swap", "count": 1},
        ]
    },
}


@pytest.fixture(scope="module")
def lake(tmp_path_factory, clips_dir):
    """The built dataset's folder."""
    out = tmp_path_factory.mktemp("train")
    (out / "sources").mkdir()
    (out / "sources" / "bikes.mp4").symlink_to(clips_dir / "bikes.mp4")
    (out / "r.yaml").write_text(yaml.safe_dump(RECIPE))
    return build(load_recipe(str(out / "r.yaml")), str(out / "sources"), out / "out", workers=1, progress=False)


@pytest.fixture(scope="module")
def records(lake):
    import datasets

    return datasets.load_from_disk(str(lake))["train"]
