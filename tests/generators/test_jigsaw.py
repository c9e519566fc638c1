import numpy as np
import pytest

from tests.helpers.clips import make_clip
from videolake.generators import jigsaw
from videolake.generators.prompts import number_word

FIGURE_11 = (
    "This video is presented as 6 separate clips, which are in a shuffled order. Your task is to determine the correct "
    "chronological sequence. Please output a six-digit number that specifies the order in which to play the clips you "
    "are seeing (labeled 1 through 6 by their position). For example, if you decide that the clip at position 3 of "
    "this video is the true beginning (the 1st clip of the original video), the clip at position 4 is the 2nd part, "
    "the clip at position 1 is the 3rd part, the clip at position 5 is the 4th part, the clip at position 6 is the 5th "
    "part, and finally the clip at position 2 is the 6th part, then your answer should be '341562'."
)


def test_six_clip_prompt_is_figure_11_word_for_word():
    assert jigsaw.prompt(6) == FIGURE_11


def test_figure_11_semantics_answer_is_inverse_permutation():
    # Positions 1..6 show original clips [3, 6, 1, 2, 4, 5] -> original 1 is at position 3, 2 at 4, ...
    meta = {"segments": 6, "presented_order": [3, 6, 1, 2, 4, 5]}
    assert jigsaw.derive_answer(meta) == "341562"


@pytest.mark.parametrize("n", [6, 8, 12])
def test_clips_reassemble_to_the_original_with_the_answer(n):
    clip = make_clip()
    for seed in range(5):
        sample = jigsaw.generate(clip, "easy", {"segments": n}, np.random.default_rng(seed))
        positions = [int(p) for p in (sample.answer.split(",") if n > 9 else sample.answer)]
        assert sorted(positions) == list(range(1, n + 1)) and positions != list(range(1, n + 1))
        restored = np.concatenate([sample.clips[p - 1] for p in positions])
        seg = 48 // n
        assert np.array_equal(restored, clip.base_frames()[: n * seg])
        assert sample.question.count("<video>") == n and f"Clip {n}: <video>" in sample.question


def test_ten_or_more_clips_answer_with_commas():
    meta = {"segments": 10, "presented_order": [10, 1, 2, 3, 4, 5, 6, 7, 8, 9]}
    assert jigsaw.derive_answer(meta) == "2,3,4,5,6,7,8,9,10,1"
    assert "10 comma-separated numbers" in jigsaw.prompt(10)


REFERENCE_8_CLIPS = (
    "This video is presented as 8 separate clips, which are in a shuffled order. Your task is to determine the correct "
    "chronological sequence. Please output an eight-digit number that specifies the order in which to play the clips "
    "you are seeing (labeled 1 through 8 by their position). For example, if you decide that the clip at position 5 of "
    "this video is the true beginning (the 1st clip of the original video), the clip at position 1 is the 2nd part, "
    "the clip at position 8 is the 3rd part, the clip at position 2 is the 4th part, the clip at position 7 is the 5th "
    "part, the clip at position 4 is the 6th part, the clip at position 6 is the 7th part, and finally the clip at "
    "position 3 is the 8th part, then your answer should be '51827463'."
)


def test_eight_clip_prompt_is_the_reference_wording():
    assert jigsaw.prompt(8) == REFERENCE_8_CLIPS


@pytest.mark.parametrize("n", [2, 3, 4, 5, 7, 9])
def test_other_lengths_have_a_valid_example_and_article(n):
    text = jigsaw.prompt(n)
    example = text.rsplit("'", 2)[1]
    assert sorted(example) == [str(k) for k in range(1, n + 1)]
    assert f" a {number_word(n)}-digit number" in text


def test_derive_rejects_a_non_permutation():
    with pytest.raises(ValueError):
        jigsaw.derive_answer({"segments": 3, "presented_order": [1, 1, 2]})


def test_a_quiet_window_takes_the_stillest_stretch_at_finer_sampling():
    from videolake.generators.base import SampledClip

    # 48 slots x density 2: a still first half (one frame repeated), a busy second half
    busy = make_clip(n=96).frames
    frames = np.concatenate([np.repeat(busy[:1], 48, axis=0), busy[48:]])
    clip = SampledClip(frames=frames, source_times=np.arange(96) / 16, density=2, fps=make_clip().fps)
    sample = jigsaw.generate(clip, "easy", {"segments": 6, "quiet_window": 2}, np.random.default_rng(0))
    assert sample.meta["quiet_window"] == {"density": 2, "start": 0}
    assert sample.meta["source_times"] == (np.arange(48) / 16).tolist() and sample.meta["fps"] == "16/1"
    assert jigsaw.derive_answer(sample.meta) == sample.answer
    assert jigsaw.quietest_window(frames[::-1], 48) == 48  # reversed: the still half is last
    plain = jigsaw.generate(make_clip(), "easy", {"segments": 6}, np.random.default_rng(0))
    assert "quiet_window" not in plain.meta and plain.meta["fps"] == "8/1"
