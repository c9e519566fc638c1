"""Temporal grounding (VideoChat-R1): when does one named event happen? The answer is one interval.

- ``rendered``: a choreographed scene (``synthetic.scenes``) where the named object performs the
  named action exactly once; the interval is read back from its per-frame track.
- ``charades_sta``, ``activitynet``: a query and its interval from the annotated set, over the
  whole video (its own clock), the interval checked against the video's duration.
"""

from __future__ import annotations

import numpy as np

from videolake.generators import annotated
from videolake.generators.base import Contact, Sample, Subtype, Subtypes, Task, merge_settings, single_video_question
from videolake.generators.prompts import VIDEOCHAT_SYSTEM_PROMPT, VIDEOCHAT_THINKING, quoted
from videolake.generators.synthetic import qa, scenes

NAME = "temporal_grounding"
PROMPT = (
    'To accurately pinpoint the event "[EVENT]" in the video, determine the precise time period of the event.\n\n'
    + VIDEOCHAT_THINKING
    + 'Then, provide the start and end times (in seconds, precise to two decimal places) in the format "start time to '
    'end time" within the <answer> </answer> tags. For example: "12.54 to 17.83".'
)
DEFAULT_SETTINGS = dict(scenes.DEFAULT_SETTINGS)
PARAMETERS = dict(scenes.PARAMETERS)


def settings_for(params: dict) -> dict:
    return merge_settings(NAME, DEFAULT_SETTINGS, PARAMETERS, params)


def interval_text(start: float, end: float) -> str:
    return f"{float(start):.2f} to {float(end):.2f}"


def _unique_events(meta: dict) -> list[tuple[str, str]]:
    """(object id, action) pairs the object performs exactly once."""
    return [
        (obj["id"], kind)
        for obj in meta["objects"]
        for kind in scenes.ACTIONS
        if len(scenes.action_spans(obj, kind)) == 1
    ]


def _annotated(clip, settings: dict, rng: np.random.Generator, annotation: dict) -> Sample:
    meta = annotated.whole_clip_meta(clip, annotation)
    answer = annotated.cannot_generate(derive_answer, meta)
    question = single_video_question(PROMPT.replace("[EVENT]", annotation["query"]))
    return Sample([clip.base_frames()], question, answer, meta, system=VIDEOCHAT_SYSTEM_PROMPT)


def _rendered(clip, settings: dict, rng: np.random.Generator, annotation=None) -> Sample:
    meta = scenes.simulate(settings, rng, wanted=lambda m: bool(_unique_events(m)))
    object_id, kind = qa.choose(rng, _unique_events(meta))
    event = f"the {scenes.by_id(meta, object_id)['name']} {scenes.VERBS[kind]}"
    meta["query"] = {"object": object_id, "action": kind, "event": event}
    question = single_video_question(PROMPT.replace("[EVENT]", event))
    return Sample([scenes.render(meta)], question, derive_answer(meta), meta, system=VIDEOCHAT_SYSTEM_PROMPT)


SUBTYPES = Subtypes(
    rendered=Subtype(_rendered, scenes.READS, needs_source=False),
    **{name: Subtype(_annotated, (), annotation_format=name) for name in ("charades_sta", "activitynet")},
)


def generate(clip, subtype: str, params: dict, rng: np.random.Generator, donor=None, annotation=None) -> Sample:
    return SUBTYPES[subtype].make(clip, settings_for(params), rng, annotation)


def _span(meta: dict) -> tuple[int, int]:
    spans = scenes.action_spans(scenes.by_id(meta, meta["query"]["object"]), meta["query"]["action"])
    if len(spans) != 1:
        raise ValueError(f"the event happens {len(spans)} times, the question assumes once")
    return spans[0]


def derive_answer(meta: dict) -> str:
    if "annotation" in meta:
        return interval_text(*annotated.checked_interval(meta["annotation"]["start"], meta["annotation"]["end"], meta))
    return interval_text(*scenes.seconds(_span(meta), meta))


def explain(meta: dict) -> str:
    event = meta["annotation"]["query"] if "annotation" in meta else meta["query"]["event"]
    return f"The event {quoted(event)} lasts from {derive_answer(meta)} seconds."


def random_guess(meta: dict, fps: float, rng: np.random.Generator) -> str:
    """The whole video: its IoU is the event's share of the video."""
    return interval_text(0.0, meta["num_frames"] / fps)


def contact(meta: dict) -> Contact:
    if "annotation" in meta:
        fps = meta["num_frames"] / annotated.duration(meta)
        start, end = (float(v) for v in derive_answer(meta).split(" to "))
        inside = range(int(start * fps), min(meta["num_frames"], int(np.ceil(end * fps))))
        return Contact(
            dict.fromkeys(inside, "inside"),
            f"red: {meta['annotation']['query']!r} ({annotated.where(meta['annotation'])})",
        )
    start, end = _span(meta)
    return Contact(
        dict.fromkeys(range(start, end + 1), "inside"), f"red: {meta['query']['event']} (frames {start}..{end})"
    )


TASK = Task(
    name=NAME,
    paper="li2025videochatr1",
    shows="a query about one event; the answer is its interval",
    generate=generate,
    derive_answer=derive_answer,
    settings_for=settings_for,
    reads=SUBTYPES.reads,
    random_guess=random_guess,
    subtypes=tuple(SUBTYPES),
    contact=contact,
    explain=explain,
    interval_answers=True,
    needs_source=SUBTYPES.needs_source,
    annotation_format=SUBTYPES.annotation_format,
    answer_form="interval_to",
)
