"""Multiple-choice QA on real videos from annotated sets (VideoChat-R1's QA task): the answer is
the option letter. Subtypes name the set: ``nextgqa`` (NExT-QA's questions) and ``llava_video``
(LLaVA-Video-178K ``*_qa_processed.json`` items that list options). The video is sampled whole."""

from __future__ import annotations

import numpy as np

from videolake.generators import annotated
from videolake.generators.base import Contact, Sample, Task, merge_settings, single_video_question
from videolake.generators.prompts import VIDEOCHAT_SYSTEM_PROMPT, VIDEOCHAT_THINKING, quoted
from videolake.generators.synthetic import qa

NAME = "multiple_choice"
SUBTYPES = ("nextgqa", "llava_video")
# VideoChat-R1's multiple-choice prompt.
PROMPT = (
    'Answer the question: "[QUESTION]" according to the content of the video. Select the answer from :[OPTION].\n\n'
    + VIDEOCHAT_THINKING
    + "Then, provide your answer within the <answer> </answer> tags, output the corresponding letter of the option.\n"
)


DEFAULT_SETTINGS: dict = {}  # the rows are the sample: nothing to set
PARAMETERS: dict = {}


def settings_for(params: dict) -> dict:
    return merge_settings(NAME, DEFAULT_SETTINGS, PARAMETERS, params)


def reads(subtype: str) -> tuple[str, ...]:
    return ()


def annotation_format(subtype: str) -> str | None:
    return subtype


def select_annotations(rows: list[dict]) -> list[dict]:
    """The questions that list options (a LLaVA-Video file mixes them with open-ended ones)."""
    return [row for row in rows if "options" in row]


def generate(
    clip, subtype: str, params: dict, rng: np.random.Generator, donor=None, annotation: dict | None = None
) -> Sample:
    meta = annotated.whole_clip_meta(clip, annotation)
    answer = annotated.cannot_generate(derive_answer, meta)
    lettered = [f"{qa.LETTERS[i]}. {option}" for i, option in enumerate(annotation["options"])]
    question = PROMPT.replace("[QUESTION]", annotation["question"]).replace("[OPTION]", str(lettered))
    return Sample([clip.base_frames()], single_video_question(question), answer, meta, system=VIDEOCHAT_SYSTEM_PROMPT)


def derive_answer(meta: dict) -> str:
    rows = meta["annotation"]
    if "options" not in rows:
        raise annotated.BadAnnotation(
            f"{annotated.where(rows)}: an open-ended question (the open_ended_qa task reads those)"
        )
    if not 2 <= len(rows["options"]) <= len(qa.LETTERS) or not 0 <= rows["answer"] < len(rows["options"]):
        raise ValueError("the answer is not one of 2-8 options")
    return qa.LETTERS[rows["answer"]]


def explain(meta: dict) -> str:
    rows = meta["annotation"]
    option = rows["options"][rows["answer"]]
    return f"The answer to {quoted(rows['question'])} is option {derive_answer(meta)}: {quoted(option)}."


def random_guess(meta: dict, fps: float, rng: np.random.Generator) -> str:
    """A uniformly random option letter."""
    return qa.LETTERS[int(rng.integers(len(meta["annotation"]["options"])))]


def contact(meta: dict) -> Contact:
    rows = meta["annotation"]
    return Contact({}, f"{rows['question'][:70]!r} ({annotated.where(rows)})")


TASK = Task(
    name=NAME,
    paper="li2025videochatr1",
    shows="a question with lettered options over the whole video (NExT-QA, LLaVA-Video-178K)",
    generate=generate,
    derive_answer=derive_answer,
    settings_for=settings_for,
    reads=reads,
    random_guess=random_guess,
    subtypes=SUBTYPES,
    contact=contact,
    explain=explain,
    annotation_format=annotation_format,
    select_annotations=select_annotations,
)
