from fractions import Fraction

import av
import numpy as np
import pytest

from tests.helpers.media import moving_frames, write_audio_only, write_video
from videolake.pipeline.sampling import SourceError, output_size, sample_clip


def test_output_size_keeps_aspect_with_even_sides():
    assert output_size(1920, 1080, 448, 448) == (448, 252)
    assert output_size(176, 144, 448, 448) == (176, 144)  # never upscales
    assert output_size(101, 77, 448, 448) == (100, 76)
    assert output_size(720, 1280, 448, 448) == (252, 448)


def test_real_clip_48_frames_inside_the_5_to_95_span(clips_dir):
    clip = sample_clip(str(clips_dir / "bikes.mp4"))  # 10.0 s, 640x272
    assert clip.frames.shape == (48, 190, 448, 3)
    assert clip.density == 1 and len(np.unique(clip.source_times)) == 48
    assert 0.5 - 0.05 <= clip.source_times[0] and clip.source_times[-1] <= 9.5
    steps = np.diff(clip.source_times)
    assert np.allclose(steps, 9.0 / 48, atol=0.041)  # 25 fps: nearest frame to each target
    assert abs(float(clip.fps) - 48 / 9.0) < 1e-3


def test_density_two_interleaves_the_ordinary_grid(clips_dir):
    single = sample_clip(str(clips_dir / "bikes.mp4"))
    double = sample_clip(str(clips_dir / "bikes.mp4"), density=2)
    assert double.frames.shape[0] == 96
    assert np.array_equal(double.base_frames(), single.frames)


def test_every_shared_container_decodes(clips_dir):
    for name in ["b.avi", "cityCC0.mpg", "display-dual-monitors.webm", "testMovie.mp4"]:
        if (clips_dir / name).exists():
            clip = sample_clip(str(clips_dir / name))
            assert clip.frames.shape[0] == 48 and clip.frames.shape[1] % 2 == 0 and clip.frames.shape[2] % 2 == 0


def test_odd_sized_source_gives_even_frames(tmp_path):
    path = write_video(tmp_path / "odd.mkv", moving_frames(80, 77, 101), codec="ffv1", pix_fmt="yuv444p")
    clip = sample_clip(str(path))
    assert clip.frames.shape == (48, 76, 100, 3)


def test_rotation_metadata_is_applied(tmp_path):
    frames = moving_frames(60, 48, 96)
    plain = sample_clip(str(write_video(tmp_path / "plain.mp4", frames)))
    rotated = sample_clip(str(write_video(tmp_path / "rotated.mp4", frames, rotation=90)))
    assert rotated.frames.shape[1:3] == (96, 48)
    # The display matrix says 90 degrees counter-clockwise, as players show it.
    assert np.array_equal(rotated.frames, np.rot90(plain.frames, k=1, axes=(1, 2)))


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda p: p.write_bytes(b"") or p, "not a readable video"),
        (lambda p: p.write_text("this is not a video\n" * 50) or p, "not a readable video"),
        (lambda p: write_audio_only(p.with_suffix(".m4a")), "no video stream"),
        (lambda p: write_video(p, moving_frames(30, 32, 32)), "too short"),
    ],
    ids=["empty", "text", "audio-only", "too-short"],
)
def test_bad_inputs_raise_a_reason(tmp_path, make, reason):
    path = make(tmp_path / "bad.mp4")
    with pytest.raises(SourceError, match=reason):
        sample_clip(str(path))


def test_truncated_clip_is_reported(tmp_path, clips_dir):
    data = (clips_dir / "bikes.mp4").read_bytes()
    path = tmp_path / "truncated.mp4"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(SourceError):
        sample_clip(str(path))


def test_seeking_through_a_long_clip_picks_the_same_frames_as_decoding_it_all(tmp_path, monkeypatch):
    from videolake.pipeline import sampling

    path = write_video(tmp_path / "long.mp4", moving_frames(2500, 32, 48), fps=10)  # 250 s, keyframes every 25 s
    seeking = sample_clip(str(path))
    assert np.diff(seeking.source_times).min() > sampling.SEEK_GAP_SECONDS  # so every target is reached by a seek
    monkeypatch.setattr(sampling, "SEEK_GAP_SECONDS", 1e9)
    streaming = sample_clip(str(path))
    assert np.array_equal(seeking.source_times, streaming.source_times)
    assert np.array_equal(seeking.frames, streaming.frames)


def test_clips_that_declare_no_duration_are_timed_from_their_packets(tmp_path, monkeypatch):
    import io

    from videolake.pipeline import sampling

    path = write_video(tmp_path / "clip.mkv", moving_frames(100, 32, 48))
    declared = sample_clip(str(path))
    monkeypatch.setattr(sampling, "_declared_span", lambda container, stream: None)
    for source in (str(path), io.BytesIO(path.read_bytes())):
        scanned = sample_clip(source)
        assert np.allclose(scanned.source_times, declared.source_times, atol=0.05)


def write_elementary_stream(path, frames, fmt, codec, fps=25):
    """A raw elementary stream (no container): what .mpeg/.m2v/.h264/.hevc files are."""
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.height, stream.width = frames.shape[1:3]
        stream.pix_fmt = "yuv420p"
        if codec == "libx265":
            stream.options = {"x265-params": "log-level=none"}
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.mark.parametrize(
    "fmt, codec, name",
    [
        ("mpeg1video", "mpeg1video", "clip.mpeg"),
        ("mpeg2video", "mpeg2video", "clip.m2v"),
        ("h264", "libx264", "clip.h264"),
        ("hevc", "libx265", "clip.hevc"),
    ],
)
def test_elementary_streams_are_timed_from_their_packets(tmp_path, fmt, codec, name):
    path = write_elementary_stream(tmp_path / name, moving_frames(79, 64, 64), fmt, codec)  # 3.16 s at 25 fps
    with av.open(str(path)) as container:
        declared = container.duration  # what the MPEG-1 demuxer believes: a tiny fraction of the clip
    clip = sample_clip(str(path))
    assert len(np.unique(clip.source_times)) == 48
    span = clip.source_times[-1] - clip.source_times[0]
    assert 2.5 < span < 3.2, span  # the frames cover the 5-95 % span of the real 3.16 s
    assert abs(float(clip.fps) - 48 / (0.9 * 3.16)) < 0.5
    if fmt == "mpeg1video":
        assert declared is not None and declared / av.time_base < 0.1  # the misstatement this test is about


def test_a_container_that_understates_its_length_is_measured(tmp_path):
    """A remuxed file whose header says 0.04 s while 3.2 s of frames follow."""
    path = write_video(tmp_path / "clip.mkv", moving_frames(80, 64, 64), fps=25)
    data = bytearray(path.read_bytes())
    with av.open(str(path)) as container:
        assert container.duration and container.duration / av.time_base > 3
    # Matroska stores the duration as a float in the Segment Info (element 0x4489): shrink it.
    at = data.find(b"\x44\x89")
    width = data[at + 2] & 0x0F if data[at + 2] & 0x80 else None
    assert at > 0 and width in (4, 8)
    import struct

    value = struct.pack(">f", 40.0) if width == 4 else struct.pack(">d", 40.0)  # in ms: 0.04 s
    data[at + 3 : at + 3 + width] = value
    (tmp_path / "short.mkv").write_bytes(bytes(data))
    with av.open(str(tmp_path / "short.mkv")) as container:
        assert container.duration / av.time_base < 0.1
    clip = sample_clip(str(tmp_path / "short.mkv"))
    assert len(np.unique(clip.source_times)) == 48 and clip.source_times[-1] > 2.5


def test_a_frozen_stretch_is_named_as_such(tmp_path):
    """Variable frame rate: 40 frames, one frame held for 20 s, 40 more frames."""
    frames = moving_frames(80, 64, 64)
    path = tmp_path / "frozen.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.height, stream.width, stream.pix_fmt = 64, 64, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i * 40 + (20_000 if i > 40 else 0), Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(
        SourceError, match=r"a frozen stretch: \d+ distinct frames for 48 targets \(one frame is held for 20\.0 s\)"
    ):
        sample_clip(str(path))
    with pytest.raises(SourceError, match="too short"):
        sample_clip(str(write_video(tmp_path / "short.mp4", moving_frames(30, 64, 64))))
