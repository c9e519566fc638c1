"""Records (pipeline/records.py): every video the lake writes has an even frame count."""

import json

import numpy as np
import pytest

from videolake import VideolakeError
from videolake.commands.exports import verl
from videolake.commands.validate import check_record
from videolake.generators import TASKS
from videolake.pipeline.encode import ENCODERS, decode_mp4, encode_mp4
from videolake.pipeline.plan import SampleSpec, sample_seed
from videolake.pipeline.records import meta_json, record_for, written_lengths

PARAMS = {"size": 64, "duration": [2.0, 2.5]}


def rendered(number: int) -> dict:
    spec_id = f"r-train-{number:07d}"
    spec = SampleSpec(spec_id, "synrl", "rotation", "default", "train", None, None, sample_seed(0, spec_id), PARAMS)
    return record_for(spec, None, None, ENCODERS["libx264"])


@pytest.fixture(scope="module")
def odd_and_even() -> tuple[dict, dict]:
    """A rendered sample whose generator drew an odd frame count, and one that drew an even one."""
    records = [rendered(number) for number in range(12)]
    by_parity = {json.loads(r["meta"])["num_frames"] % 2: r for r in records}
    return by_parity[1], by_parity[0]


def test_an_odd_video_gets_its_last_frame_repeated_and_says_so(odd_and_even):
    odd, even = odd_and_even
    meta = json.loads(odd["meta"])
    frames = decode_mp4(odd["videos"][0])
    assert len(frames) == meta["num_frames"] + 1 and len(frames) % 2 == 0
    assert meta["padded_frames"] == [1] and written_lengths("synrl", meta) == [len(frames)]
    assert np.abs(frames[-1].astype(int) - frames[-2].astype(int)).mean() < 1  # a copy of the last frame
    assert check_record(odd, "train") == []
    even_meta = json.loads(even["meta"])
    assert "padded_frames" not in even_meta and len(decode_mp4(even["videos"][0])) == even_meta["num_frames"]
    assert check_record(even, "train") == []


def test_validate_refuses_an_odd_video_and_padding_that_meta_does_not_record(odd_and_even):
    odd, _ = odd_and_even
    meta = json.loads(odd["meta"])
    n, unpadded_meta = meta["num_frames"], {k: v for k, v in meta.items() if k != "padded_frames"}
    unrecorded = {**odd, "meta": meta_json(unpadded_meta)}
    assert check_record(unrecorded, "train") == [f"{odd['id']}: video 0: {n + 1} frames decoded, meta implies {n}"]
    # the same sample as a build without the padding wrote it: n frames, n odd
    rng = np.random.default_rng(meta["generator"]["seed"])
    video = encode_mp4(TASKS["synrl"].generate(None, "rotation", PARAMS, rng).clips[0], 30)
    unpadded = {**unrecorded, "videos": [video], "meta": meta_json({**unpadded_meta, "video_sha256": None})}
    assert len(decode_mp4(video)) == n
    assert check_record(unpadded, "train") == [
        f"{odd['id']}: video 0: {n} frames: an odd count (video models take frames in pairs)"
    ]
    bad = {**odd, "meta": meta_json({**meta, "padded_frames": [2]})}
    assert check_record(bad, "train")[0].startswith(f"{odd['id']}: meta cannot re-derive the answer: ValueError")


def test_verl_takes_every_frame_and_refuses_an_odd_count(odd_and_even, tmp_path):
    odd, _ = odd_and_even
    row = verl.row(odd, 0, tmp_path, {})
    assert [video["nframes"] for video in row["videos"]] == [len(decode_mp4(odd["videos"][0]))]
    meta = json.loads(odd["meta"])
    unrecorded = {**odd, "meta": meta_json({k: v for k, v in meta.items() if k != "padded_frames"})}
    with pytest.raises(VideolakeError, match="a video of .* frames, and qwen-vl-utils takes frames in pairs"):
        verl.row(unrecorded, 0, tmp_path, {})
