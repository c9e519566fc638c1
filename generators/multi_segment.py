"""Multi-segment grounding (MUSEG): every interval where something happens, answered ``s-e s-e ...``.

- ``rendered``: a choreographed scene; "every time the blue square moves" -> that object's spans of
  that action, read back from its per-frame track.
- a pixel perturbation's name (``channel_swap``, ``mirror``, ...): a real clip with the same
  perturbation on k separate segments (VideoSSR's anomaly grounding with several answers).
- ``charades_sta``, ``activitynet``: every annotated interval of one query in one video (rows
  with the same video and query are one sample), over the whole video.

``stage`` picks MUSEG's prompt: 1 asks the reasoning to cite timestamps (its reward then adds the
timestamp term), 2 does not. The stage is stored in ``meta`` where the reward reads it.
"""

from __future__ import annotations

import numpy as np

from videolake.generators import annotated
from videolake.generators.base import (
    CannotGenerate,
    Contact,
    Param,
    Sample,
    SampledClip,
    Subtype,
    Subtypes,
    Task,
    fps_from_str,
    fps_to_str,
    merge_settings,
    sample_range,
    single_video_question,
)
from videolake.generators.perturbations import DEFAULT_SETTINGS as PERTURBATION_SETTINGS
from videolake.generators.perturbations import PARAMETERS as PERTURBATION_PARAMETERS
from videolake.generators.perturbations import PERTURBATIONS
from videolake.generators.prompts import VIDEOCHAT_SYSTEM_PROMPT, quoted
from videolake.generators.synthetic import qa, scenes

NAME = "multi_segment_grounding"

_FORMAT = (
    'Then summarize your reasoning process above and output selected segments like "<answer>X.XX-X.XX</answer>", '
    'where "X" denotes arabic numbers. If there are multiple segments, separate them with spaces like '
    '"<answer>X.XX-X.XX X.XX-X.XX</answer>". Your output format should be like '
    '"<think>...</think><answer>...</answer>".'
)
PROMPTS = {  # MUSEG's question templates: stage 1 "frame_selection_thinking", stage 2 "..._n_timestamp"
    1: "{} First, output reasoning process in <think> </think> tags. The reasoning process must REFER TO SPECIFIC "
    "TIMESTAMPS TO TELL WHERE YOU GET THE INFORMATION FROM THE VIDEO. " + _FORMAT,
    2: "{} First, output reasoning process in <think> </think> tags. " + _FORMAT,
}
RENDERED_QUERY = (
    "Find all the sections of the video where the {event}, and report the results with their respective "
    "start and end timestamps."
)
ANNOTATED_QUERY = (
    "Find all the sections of the video where '{query}' occurs, and report the results with their "
    "respective start and end timestamps."
)
PERTURBED_QUERY = (
    "In some segments of this video, {description} Find all the sections of the video where this "
    "happens, and report the results with their respective start and end timestamps."
)

DEFAULT_SETTINGS = {
    **scenes.DEFAULT_SETTINGS,
    "stage": 2,
    "min_segments": 2,  # rendered: the action happens at least this often
    **PERTURBATION_SETTINGS,
    "segments": [2, 3],  # perturbed: how many segments
    "segment_frames": [4, 8],
    "gap_frames": 2,  # perturbed segments are at least this many frames apart
}
PARAMETERS = {
    **scenes.PARAMETERS,
    "stage": Param(int, 1, 2),
    "min_segments": Param(int, 1, 8),
    **PERTURBATION_PARAMETERS,
    "segments": Param(int, 1, 16, span=True),
    "segment_frames": Param(int, 1, 1023, span=True),
    "gap_frames": Param(int, 1, 1023),
}


def settings_for(params: dict) -> dict:
    return merge_settings(NAME, DEFAULT_SETTINGS, PARAMETERS, params)


def select_annotations(rows: list[dict]) -> list[dict]:
    """One sample per (video, query): its intervals become the answer's segments."""
    groups: dict[tuple[str, str], dict] = {}
    for row in rows:
        group = groups.setdefault(
            (row["video"], row["query"]), {"video": row["video"], "query": row["query"], "segments": [], "where": []}
        )
        group["segments"].append([row["start"], row["end"]])
        group["where"].append(row["where"])
    return list(groups.values())


def segments_text(intervals) -> str:
    return " ".join(f"{float(start):.2f}-{float(end):.2f}" for start, end in intervals)


def question(stage: int, query: str) -> str:
    return single_video_question(PROMPTS[stage].format(query))


def _repeated_events(meta: dict, at_least: int) -> list[tuple[str, str]]:
    return [
        (obj["id"], kind)
        for obj in meta["objects"]
        for kind in scenes.ACTIONS
        if len(scenes.action_spans(obj, kind)) >= at_least
    ]


def place_segments(rng, slots: int, lengths: list[int], gap: int) -> list[int]:
    """Starts of segments of ``lengths`` in order, at least ``gap`` slots apart, uniformly placed."""
    slack = slots - sum(lengths) - gap * (len(lengths) - 1)
    if slack < 0:
        raise CannotGenerate(
            f"{len(lengths)} segments of {sum(lengths)} frames with gaps of {gap} do not fit in {slots} frames"
        )
    cuts = np.sort(rng.integers(0, slack + 1, size=len(lengths)))
    starts, cursor, previous = [], 0, 0
    for cut, length in zip(cuts, lengths):
        cursor += int(cut - previous)
        starts.append(cursor)
        cursor += length + gap
        previous = cut
    return starts


def _perturb(clip: SampledClip, subtype: str, settings: dict, rng) -> tuple[dict, np.ndarray]:
    perturbation = PERTURBATIONS[subtype]
    frames = clip.base_frames()
    count = sample_range(rng, settings["segments"], integer=True)
    lengths = [sample_range(rng, settings["segment_frames"], integer=True) for _ in range(count)]
    starts = place_segments(rng, len(frames), lengths, settings["gap_frames"])
    applied = []
    for start, length in zip(starts, lengths):
        params = perturbation.sample(rng, settings, length)
        frames[start : start + length] = perturbation.apply(frames[start : start + length], params)
        applied.append(params)
    meta = {
        "num_frames": len(frames),
        "fps": fps_to_str(clip.fps),
        "perturbation": subtype,
        "segments": [[s, n] for s, n in zip(starts, lengths)],  # [start frame, frames]
        "params": applied,
        "source_times": np.round(clip.source_times[clip.base_indices], 6).tolist(),
    }
    return meta, frames


def _annotated(clip: SampledClip, settings: dict, rng: np.random.Generator, annotation: dict) -> Sample:
    meta = {**annotated.whole_clip_meta(clip, annotation), "museg_stage": settings["stage"]}
    answer = annotated.cannot_generate(derive_answer, meta)
    question_text = question(settings["stage"], ANNOTATED_QUERY.format(query=annotation["query"]))
    return Sample([clip.base_frames()], question_text, answer, meta, system=VIDEOCHAT_SYSTEM_PROMPT)


def _rendered(clip, settings: dict, rng: np.random.Generator, annotation=None) -> Sample:
    meta = scenes.simulate(settings, rng, wanted=lambda m: bool(_repeated_events(m, settings["min_segments"])))
    object_id, kind = qa.choose(rng, _repeated_events(meta, settings["min_segments"]))
    event = f"{scenes.by_id(meta, object_id)['name']} {scenes.VERBS[kind]}"
    meta["query"] = {"object": object_id, "action": kind, "event": event}
    return _sample(meta, scenes.render(meta), RENDERED_QUERY.format(event=event), settings["stage"])


def _perturbed(subtype: str):
    def make(clip: SampledClip, settings: dict, rng: np.random.Generator, annotation=None) -> Sample:
        meta, video = _perturb(clip, subtype, settings, rng)
        query = PERTURBED_QUERY.format(description=PERTURBATIONS[subtype].description)
        return _sample(meta, video, query, settings["stage"])

    return make


def _sample(meta: dict, video: np.ndarray, query: str, stage: int) -> Sample:
    meta["museg_stage"] = stage
    return Sample([video], question(stage, query), derive_answer(meta), meta, system=VIDEOCHAT_SYSTEM_PROMPT)


PERTURBED_READS = ("stage", "segments", "segment_frames", "gap_frames")
SUBTYPES = Subtypes(
    rendered=Subtype(_rendered, scenes.READS + ("stage", "min_segments"), needs_source=False),
    **{
        name: Subtype(_perturbed(name), PERTURBED_READS + perturbation.reads)
        for name, perturbation in PERTURBATIONS.items()
        if perturbation.kind == "pixel"
    },
    **{name: Subtype(_annotated, ("stage",), annotation_format=name) for name in ("charades_sta", "activitynet")},
)


def generate(
    clip: SampledClip | None,
    subtype: str,
    params: dict,
    rng: np.random.Generator,
    donor=None,
    annotation: dict | None = None,
) -> Sample:
    return SUBTYPES[subtype].make(clip, settings_for(params), rng, annotation)


def frame_spans(meta: dict) -> list[tuple[int, int]]:
    """Every answer segment as [start frame, end frame], end exclusive for perturbed clips and the
    last changing frame for rendered scenes (see ``scenes``), both read as seconds = frame / fps."""
    if "perturbation" not in meta:
        return scenes.action_spans(scenes.by_id(meta, meta["query"]["object"]), meta["query"]["action"])
    spans = [(s, s + n) for s, n in meta["segments"]]
    if any(not 0 <= s < e <= meta["num_frames"] for s, e in spans) or any(
        b[0] <= a[1] for a, b in zip(spans, spans[1:])
    ):
        raise ValueError("perturbed segments overlap, touch or leave the video")
    return spans


def annotated_segments(meta: dict) -> list[tuple[float, float]]:
    """The annotated intervals, each checked against the video, overlapping ones merged."""
    checked = sorted(annotated.checked_interval(s, e, meta) for s, e in meta["annotation"]["segments"])
    merged: list[list[float]] = []
    for start, end in checked:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [tuple(m) for m in merged]


def derive_answer(meta: dict) -> str:
    if "annotation" in meta:
        return segments_text(annotated_segments(meta))
    fps = fps_from_str(meta["fps"])
    spans = frame_spans(meta)
    if not spans:
        raise ValueError("nothing to ground")
    return segments_text((s / fps, e / fps) for s, e in spans)


def explain(meta: dict) -> str:
    if "annotation" in meta:
        what = f"{quoted(meta['annotation']['query'])} occurs"
    elif "perturbation" in meta:
        description = PERTURBATIONS[meta["perturbation"]].description.rstrip(".")
        what = description[0].upper() + description[1:]
    else:
        what = f"The {meta['query']['event']}"
    return f"{what} at {', '.join(derive_answer(meta).split())} seconds."


def random_guess(meta: dict, fps: float, rng: np.random.Generator) -> str:
    """One segment over the whole video."""
    return segments_text([(0.0, meta["num_frames"] / fps)])


def contact(meta: dict) -> Contact:
    if "annotation" in meta:
        fps = meta["num_frames"] / annotated.duration(meta)
        marked = {
            f: "inside"
            for s, e in annotated_segments(meta)
            for f in range(int(s * fps), min(meta["num_frames"], int(np.ceil(e * fps))))
        }
        return Contact(marked, f"red: {meta['annotation']['query']!r} ({annotated.where(meta['annotation'])})")
    spans = frame_spans(meta)
    last = 0 if "perturbation" in meta else 1  # rendered spans include their end frame
    marked = {f: "inside" for s, e in spans for f in range(s, e + last)}
    what = meta["query"]["event"] if "perturbation" not in meta else meta["perturbation"]
    return Contact(marked, f"red: {what} ({len(spans)} segments)")


TASK = Task(
    name=NAME,
    paper="luo2025museg",
    shows="a query about an event that happens one or more times; the answer lists every interval",
    generate=generate,
    derive_answer=derive_answer,
    settings_for=settings_for,
    reads=SUBTYPES.reads,
    random_guess=random_guess,
    subtypes=tuple(SUBTYPES),
    contact=contact,
    explain=explain,
    needs_source=SUBTYPES.needs_source,
    annotation_format=SUBTYPES.annotation_format,
    select_annotations=select_annotations,
    answer_form="segments",
)
