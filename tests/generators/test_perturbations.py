import numpy as np
import pytest
from PIL import Image

from tests.helpers.clips import textured_frames
from videolake.generators import perturbations as P


@pytest.fixture
def segment():
    return textured_frames(4, 32, 48)


def test_channel_swap_exchanges_red_and_blue(segment):
    out = P.channel_swap(segment, {})
    assert np.array_equal(out[..., 0], segment[..., 2]) and np.array_equal(out[..., 2], segment[..., 0])
    assert np.array_equal(out[..., 1], segment[..., 1])


def test_invert_grayscale_mirror_rotate180(segment):
    assert np.array_equal(P.invert(segment, {}), 255 - segment)
    gray = P.grayscale(segment, {})
    assert np.array_equal(gray[..., 0], gray[..., 1]) and np.array_equal(gray[..., 1], gray[..., 2])
    r, g, b = segment[0, 0, 0].astype(float)
    assert gray[0, 0, 0, 0] == round(0.299 * r + 0.587 * g + 0.114 * b)
    assert np.array_equal(P.mirror(segment, {})[:, :, 0], segment[:, :, -1])
    assert np.array_equal(P.rotate180(segment, {})[:, 0, 0], segment[:, -1, -1])


def test_rotate90_letterboxes_non_square_frames(segment):
    out = P.PERTURBATIONS["rotate90"].apply(segment, {})
    assert out.shape == segment.shape
    assert out[:, :, :4].max() == 0 and out[:, :, -4:].max() == 0  # black bars left and right


def test_quarter_rotations_turn_the_way_their_descriptions_say():
    """Rotate90 is clockwise on screen (the reference's image.rotate(-90)), Rotate270 three quarters clockwise."""
    square = textured_frames(1, 32, 32)
    top_left = square[0, 0, 0]
    clockwise = P.PERTURBATIONS["rotate90"].apply(square, {})
    assert np.array_equal(clockwise[0, 0, -1], top_left)  # the top-left corner goes to the top right
    assert np.array_equal(clockwise[0], np.asarray(Image.fromarray(square[0]).rotate(-90)))
    counter = P.PERTURBATIONS["rotate270"].apply(square, {})
    assert np.array_equal(counter[0, -1, 0], top_left)  # the top-left corner goes to the bottom left
    assert np.array_equal(counter[0], np.asarray(Image.fromarray(square[0]).rotate(90)))
    assert "90 degrees clockwise" in P.PERTURBATIONS["rotate90"].description
    assert "270 degrees clockwise" in P.PERTURBATIONS["rotate270"].description


def test_zoom_out_pastes_a_smaller_frame_on_black(segment):
    out = P.zoom_out(segment, {"scale": 2.0})
    assert out.shape == segment.shape
    assert out[:, :7].max() == 0 and out[:, -7:].max() == 0
    assert out[:, 12:20, 16:32].mean() > 20


def test_zoom_in_keeps_the_centre_and_loses_the_corner():
    frames = np.zeros((1, 40, 40, 3), np.uint8)
    frames[0, :5, :5] = 255  # corner marker
    frames[0, 18:22, 18:22] = 200  # centre marker
    out = P.zoom_in(frames, {"scale": 1.5})
    assert out[0, :5, :5].max() < 50
    assert out[0, 19:21, 19:21].min() > 150


def test_noise_has_the_drawn_sigma():
    flat = np.full((4, 64, 64, 3), 128, np.uint8)
    out = P.noise(flat, {"sigma": 20.0, "noise_seed": 1})
    assert abs(out.astype(float).std() - 20.0) < 1.0
    assert np.array_equal(out, P.noise(flat, {"sigma": 20.0, "noise_seed": 1}))


def test_blur_smooths_and_saturation_amplifies_colour(segment):
    assert P.blur(segment, {"radius": 2.0}).astype(float).std() < segment.astype(float).std()
    pale = np.full((1, 4, 4, 3), [140, 120, 100], np.uint8)
    vivid = P.saturation(pale, {"factor": 2.0})
    assert (vivid[..., 0] - vivid[..., 2]).min() > (pale[..., 0].astype(int) - pale[..., 2]).max()


def test_slow_index_map_by_hand():
    got = P.slow_index_map(8, 2, 3, {"speed_factor": 2}).tolist()
    # normal step 2 before, step 1 inside slots 2..4, step 2 after
    assert got == [0, 2, 4, 5, 6, 7, 9, 11]


def test_fast_index_map_by_hand():
    got = P.fast_index_map(8, 2, 3, {"speed_factor": 2}).tolist()
    assert got == [0, 1, 2, 4, 6, 8, 9, 10]
    assert max(P.fast_index_map(48, 32, 16, {"speed_factor": 3})) < 48 * 3


def test_stutter_holds_middle_frames():
    got = P.stutter_index_map(10, 2, 6, {"holds": 2}).tolist()
    assert got == [0, 1, 3, 3, 3, 6, 6, 6, 8, 9]


def test_shuffle_sampler_moves_both_ends():
    rng = np.random.default_rng(0)
    for _ in range(50):
        order = P._sample_shuffle(rng, P.DEFAULT_SETTINGS, 8)["order"]
        assert sorted(order) == list(range(8)) and order[0] != 0 and order[-1] != 7


def test_every_table8_perturbation_and_the_extras_are_registered():
    table8 = {
        "saturation",
        "noise",
        "blur",
        "grayscale",
        "invert",
        "channel_swap",
        "zoom_in",
        "rotate180",
        "zoom_out",
        "mirror",
        "slow",
        "fast",
        "stutter_hold",
        "shuffle",
    }
    assert table8 | {"rotate90", "rotate270", "swap"} == set(P.PERTURBATIONS)
    assert P.SPEED_NOTE in P.PERTURBATIONS["slow"].description and P.SPEED_NOTE in P.PERTURBATIONS["fast"].description
    assert P.SPEED_NOTE not in P.PERTURBATIONS["shuffle"].description
