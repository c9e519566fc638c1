"""Open-ended QA on real videos from LLaVA-Video-178K (``*_qa_processed.json`` items without
options): the answer is the annotated text. It makes the real-video share of SynRL's SFT mix; its
reward (normalised exact match) is strict, so RL on it learns little beyond short answers."""

from __future__ import annotations

import numpy as np

from videolake.generators import annotated
from videolake.generators.base import Contact, Sample, Task, merge_settings, single_video_question

NAME = "open_ended_qa"
SUBTYPES = ("llava_video",)
SYSTEM_PROMPT = "Answer the question about the video."


DEFAULT_SETTINGS: dict = {}  # the rows are the sample: nothing to set
PARAMETERS: dict = {}


def settings_for(params: dict) -> dict:
    return merge_settings(NAME, DEFAULT_SETTINGS, PARAMETERS, params)


def reads(subtype: str) -> tuple[str, ...]:
    return ()


def annotation_format(subtype: str) -> str | None:
    return subtype


def select_annotations(rows: list[dict]) -> list[dict]:
    """The questions without options (a LLaVA-Video file mixes them with multiple-choice ones)."""
    return [row for row in rows if "answer_text" in row]


def generate(
    clip, subtype: str, params: dict, rng: np.random.Generator, donor=None, annotation: dict | None = None
) -> Sample:
    meta = annotated.whole_clip_meta(clip, annotation)
    answer = annotated.cannot_generate(derive_answer, meta)
    return Sample(
        [clip.base_frames()], single_video_question(annotation["question"]), answer, meta, system=SYSTEM_PROMPT
    )


def derive_answer(meta: dict) -> str:
    rows = meta["annotation"]
    if not rows.get("answer_text", "").strip():
        raise annotated.BadAnnotation(
            f"{annotated.where(rows)}: a multiple-choice question (the multiple_choice task reads those)"
        )
    return rows["answer_text"].strip()


def random_guess(meta: dict, fps: float, rng: np.random.Generator) -> str:
    """Knowing nothing: an empty answer (exact match 0)."""
    return ""


def contact(meta: dict) -> Contact:
    rows = meta["annotation"]
    return Contact({}, f"{rows['question'][:70]!r} ({annotated.where(rows)})")


TASK = Task(
    name=NAME,
    paper="jiang2026synrl",
    shows="a question over the whole video (LLaVA-Video-178K)",
    generate=generate,
    derive_answer=derive_answer,
    settings_for=settings_for,
    reads=reads,
    random_guess=random_guess,
    subtypes=SUBTYPES,
    contact=contact,
    annotation_format=annotation_format,
    select_annotations=select_annotations,
)
