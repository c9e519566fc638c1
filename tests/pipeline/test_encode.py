import io
from fractions import Fraction

import av
import numpy as np

from videolake.generators.perturbations import channel_swap
from videolake.pipeline.encode import (
    ENCODERS,
    choose_encoder,
    decode_mp4,
    encode_mp4,
)
from videolake.pipeline.sampling import sample_clip


def test_constant_frame_rate_frame_i_at_i_over_fps():
    frames = np.random.default_rng(0).integers(0, 255, (12, 32, 48, 3), dtype=np.uint8)
    fps = Fraction(16, 3)
    data = encode_mp4(frames, fps)
    with av.open(io.BytesIO(data)) as container:
        times = [float(f.time) for f in container.decode(video=0)]
        assert container.streams.video[0].average_rate == fps
    assert np.allclose(times, np.arange(12) / float(fps), atol=1e-3)
    assert len(times) == len(decode_mp4(data)) == 12


def test_encoding_is_deterministic():
    frames = np.random.default_rng(1).integers(0, 255, (10, 32, 32, 3), dtype=np.uint8)
    assert encode_mp4(frames, Fraction(8)) == encode_mp4(frames, Fraction(8))


def test_channel_swap_survives_chroma_subsampling(clips_dir):
    """Decode both versions: the swapped frames must still read as swapped after 4:2:0 H.264."""
    frames = sample_clip(str(clips_dir / "bikes.mp4")).frames[:8]
    original = decode_mp4(encode_mp4(frames, Fraction(8))).astype(int)
    swapped = decode_mp4(encode_mp4(channel_swap(frames, {}), Fraction(8))).astype(int)
    # Red of the swapped video tracks blue of the original, not its red.
    assert np.abs(swapped[..., 0] - original[..., 2]).mean() < 4
    assert np.abs(swapped[..., 0] - original[..., 0]).mean() > 3 * np.abs(swapped[..., 0] - original[..., 2]).mean()


def test_auto_encoder_falls_back_to_libx264_without_a_gpu():
    encoder = choose_encoder("auto")
    assert encoder.codec in ENCODERS
