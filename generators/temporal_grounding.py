"""Temporal grounding (VideoChat-R1): when does one named event happen? The answer is one interval.

- ``rendered``: a choreographed scene (``synthetic.scenes``) where the named object performs the
  named action exactly once; the interval is read back from its per-frame track.
- ``charades_sta``, ``activitynet``: a query and its interval from the annotated set, over the
  whole video (its own clock), the interval checked against the video's duration.
"""

from __future__ import annotations

import numpy as np

from videolake.generators import annotated
from videolake.generators.base import Contact, Sample, merge_settings, single_video_question
from videolake.generators.synthetic import qa, scenes

TASK = "temporal_grounding"
ANNOTATED = ("charades_sta", "activitynet")
SUBTYPES = ("rendered",) + ANNOTATED
SYSTEM_PROMPT = "You are a video analysis expert."  # VideoChat-R1's
PROMPT = (
    'To accurately pinpoint the event "[EVENT]" in the video, determine the precise time period of the event.\n\n'
    "Output your thought process within the <think> </think> tags, including analysis with either specific timestamps (xx.xx) "
    "or time ranges (xx.xx to xx.xx) in <timestep> </timestep> tags.\n\n"
    'Then, provide the start and end times (in seconds, precise to two decimal places) in the format "start time to end time" '
    'within the <answer> </answer> tags. For example: "12.54 to 17.83".'
)
DEFAULT_SETTINGS = dict(scenes.DEFAULT_SETTINGS)
PARAMETERS = dict(scenes.PARAMETERS)


def settings_for(params: dict) -> dict:
    return merge_settings(TASK, DEFAULT_SETTINGS, PARAMETERS, params)


def reads(subtype: str) -> tuple[str, ...]:
    return scenes.READS if subtype == "rendered" else ()


def needs_source(subtype: str) -> bool:
    return subtype != "rendered"


def annotation_format(subtype: str) -> str | None:
    return subtype if subtype in ANNOTATED else None


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


def generate(
    clip, subtype: str, params: dict, rng: np.random.Generator, donor=None, annotation: dict | None = None
) -> Sample:
    if subtype in ANNOTATED:
        meta = annotated.whole_clip_meta(clip, annotation)
        answer = annotated.cannot_generate(derive_answer, meta)
        return Sample(
            [clip.base_frames()],
            single_video_question(PROMPT.replace("[EVENT]", annotation["query"])),
            answer,
            meta,
            system=SYSTEM_PROMPT,
        )
    meta = scenes.simulate(settings_for(params), rng, wanted=lambda m: bool(_unique_events(m)))
    object_id, kind = qa.choose(rng, _unique_events(meta))
    event = f"the {scenes.by_id(meta, object_id)['name']} {scenes.VERBS[kind]}"
    meta["query"] = {"object": object_id, "action": kind, "event": event}
    return Sample(
        [scenes.render(meta)],
        single_video_question(PROMPT.replace("[EVENT]", event)),
        derive_answer(meta),
        meta,
        system=SYSTEM_PROMPT,
    )


def _span(meta: dict) -> tuple[int, int]:
    spans = scenes.action_spans(scenes.by_id(meta, meta["query"]["object"]), meta["query"]["action"])
    if len(spans) != 1:
        raise ValueError(f"the event happens {len(spans)} times, the question assumes once")
    return spans[0]


def derive_answer(meta: dict) -> str:
    if "annotation" in meta:
        return interval_text(*annotated.checked_interval(meta["annotation"]["start"], meta["annotation"]["end"], meta))
    return interval_text(*scenes.seconds(_span(meta), meta))


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
