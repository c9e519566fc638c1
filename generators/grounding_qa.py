"""Grounding QA (VideoChat-R1): a multiple-choice question about an event plus the intervals that
support the answer (``<glue>[(s, e), ...]</glue>``).

``rendered``: a choreographed scene, one of two questions:
- ``which``: "Which object spins?" - exactly one object performs the action; the glue is every
  span of it;
- ``first``: "What does the red square do first?" - the glue is its first action's span.
The option letter and the spans are re-solved from the per-frame tracks.

``nextgqa``: a NExT-QA question with NExT-GQA's grounding, over the whole video, the intervals
checked against its duration.
"""

from __future__ import annotations

import json

import numpy as np

from videolake.generators import annotated
from videolake.generators.base import Contact, Sample, Subtype, Subtypes, Task, merge_settings, single_video_question
from videolake.generators.prompts import VIDEOCHAT_SYSTEM_PROMPT, VIDEOCHAT_THINKING, quoted
from videolake.generators.synthetic import qa, scenes
from videolake.generators.synthetic.render import OBJECT_COLOURS, SHAPES

NAME = "grounding_qa"
PROMPT = (
    'Answer the question: "[QUESTION]" according to the content of the video. Select the answer from :[OPTION].\n\n'
    + VIDEOCHAT_THINKING
    + "Then, provide your answer within the <answer> </answer> tags, output the corresponding letter of the option. "
    "At the same time, in the <glue> </glue> tags, present the precise time period in seconds of the video clips on "
    "which you base your answer to this question in the format of [(s1, e1), (s2, e2), ...]. For example: "
    "<answer>A</answer><glue>[(5.2, 10.4)]</glue>.\n"
)
DOES = {"move": "It moves", "spin": "It spins", "pulse": "It grows and shrinks back"}  # every object acts at least once
DEFAULT_SETTINGS = dict(scenes.DEFAULT_SETTINGS)
PARAMETERS = dict(scenes.PARAMETERS)


def settings_for(params: dict) -> dict:
    return merge_settings(NAME, DEFAULT_SETTINGS, PARAMETERS, params)


def select_annotations(rows: list[dict]) -> list[dict]:
    """The questions NExT-GQA grounds (it grounds a subset of NExT-QA's)."""
    return [row for row in rows if row.get("segments")]


def question_text(question: str, options: list[str]) -> str:
    lettered = [f"{qa.LETTERS[i]}. {option}" for i, option in enumerate(options)]
    return single_video_question(PROMPT.replace("[QUESTION]", question).replace("[OPTION]", str(lettered)))


def _doers(meta: dict, kind: str) -> list[dict]:
    return [obj for obj in meta["objects"] if scenes.action_spans(obj, kind)]


def _sole_actions(meta: dict) -> list[str]:
    """Actions exactly one object performs (and at least two objects are in the scene to choose from)."""
    return [kind for kind in scenes.ACTIONS if len(_doers(meta, kind)) == 1] if len(meta["objects"]) > 1 else []


def _first_action(obj: dict) -> tuple[str | None, tuple[int, int] | None]:
    firsts = [(spans[0], kind) for kind in scenes.ACTIONS if (spans := scenes.action_spans(obj, kind))]
    if not firsts:
        return None, None
    span, kind = min(firsts)
    return kind, span


def _object_options(meta: dict, kind: str, truth: str, rng) -> list[str]:
    """The truth, the scene's other objects that could do ``kind``, and made-up ones to fill four
    options: colours all different and shapes drawn alike from those that can do it (a circle
    never spins, so a circle among "which object spins?" options would be a free elimination)."""
    shapes = scenes.SPINNABLE if kind == "spin" else SHAPES
    others = [o["name"] for o in meta["objects"] if o["name"] != truth and o["shape"] in shapes]
    free = [c for c in OBJECT_COLOURS if c not in {o["colour"] for o in meta["objects"]}]
    made_up = [
        f"{free[i]} {qa.choose(rng, list(shapes))}" for i in rng.permutation(len(free))[: max(0, 3 - len(others))]
    ]
    return qa.uniform_options(truth, others + made_up, 4, rng)


def _which(settings: dict, rng: np.random.Generator) -> dict:
    """Which object performs an action only one object performs?"""
    meta = scenes.simulate(settings, rng, wanted=lambda m: bool(_sole_actions(m)))
    kind = qa.choose(rng, _sole_actions(meta))
    truth = _doers(meta, kind)[0]["name"]
    meta["query"] = {
        "kind": "which",
        "action": kind,
        "text": f"Which object {scenes.VERBS[kind]}?",
        "options": _object_options(meta, kind, truth, rng),
    }
    return meta


def _first(settings: dict, rng: np.random.Generator) -> dict:
    """What does an object do first? The action is drawn before the scene, so each is the answer equally often."""
    first = qa.choose(rng, list(scenes.ACTIONS))
    meta = scenes.simulate(settings, rng, wanted=lambda m: any(_first_action(o)[0] == first for o in m["objects"]))
    obj = qa.choose(rng, [o for o in meta["objects"] if _first_action(o)[0] == first])
    options = qa.uniform_options(DOES[first], [DOES[k] for k in scenes.ACTIONS], len(scenes.ACTIONS), rng)
    meta["query"] = {
        "kind": "first",
        "object": obj["id"],
        "text": f"What does the {obj['name']} do first?",
        "options": options,
    }
    return meta


def _solve_which(meta: dict) -> tuple[str, list[tuple[int, int]]]:
    doers = _doers(meta, meta["query"]["action"])
    if len(doers) != 1:
        raise ValueError(f"{len(doers)} objects {scenes.VERBS[meta['query']['action']]}; the question assumes one")
    return doers[0]["name"], scenes.action_spans(doers[0], meta["query"]["action"])


def _solve_first(meta: dict) -> tuple[str, list[tuple[int, int]]]:
    kind, span = _first_action(scenes.by_id(meta, meta["query"]["object"]))
    if kind is None:
        raise ValueError(f"object {meta['query']['object']} never acts; the question assumes it does")
    return DOES[kind], [span]


# A rendered scene's question kinds: (pose the question into meta, re-solve it from the tracks).
QUESTIONS = {"which": (_which, _solve_which), "first": (_first, _solve_first)}


def _rendered(clip, settings: dict, rng: np.random.Generator, annotation=None) -> Sample:
    pose, _ = QUESTIONS[qa.choose(rng, list(QUESTIONS))]
    meta = pose(settings, rng)
    question = question_text(meta["query"]["text"], meta["query"]["options"])
    return Sample([scenes.render(meta)], question, derive_answer(meta), meta, system=VIDEOCHAT_SYSTEM_PROMPT)


def _annotated(clip, settings: dict, rng: np.random.Generator, annotation: dict) -> Sample:
    meta = annotated.whole_clip_meta(clip, annotation)
    answer = annotated.cannot_generate(derive_answer, meta)
    question = question_text(annotation["question"], annotation["options"])
    return Sample([clip.base_frames()], question, answer, meta, system=VIDEOCHAT_SYSTEM_PROMPT)


SUBTYPES = Subtypes(
    rendered=Subtype(_rendered, scenes.READS, needs_source=False),
    nextgqa=Subtype(_annotated, (), annotation_format="nextgqa"),
)


def generate(
    clip, subtype: str, params: dict, rng: np.random.Generator, donor=None, annotation: dict | None = None
) -> Sample:
    return SUBTYPES[subtype].make(clip, settings_for(params), rng, annotation)


def solve(meta: dict) -> tuple[str, list[tuple[int, int]]]:
    """(true option text, supporting frame spans), from the tracks."""
    _, solve_kind = QUESTIONS[meta["query"]["kind"]]
    return solve_kind(meta)


def _annotated_truth(meta: dict) -> dict:
    rows = meta["annotation"]
    if not rows.get("segments"):
        raise annotated.BadAnnotation(f"{annotated.where(rows)}: question {rows['qid']} has no grounding")
    if not 0 <= rows["answer"] < len(rows["options"]):
        raise ValueError("the answer is not one of the options")
    segments = [
        [round(s, 2), round(e, 2)] for s, e in (annotated.checked_interval(s, e, meta) for s, e in rows["segments"])
    ]
    return {"answer": qa.LETTERS[rows["answer"]], "segments": segments}


def derive_answer(meta: dict) -> str:
    if "annotation" in meta:
        return json.dumps(_annotated_truth(meta))
    truth, spans = solve(meta)
    options = meta["query"]["options"]
    if options.count(truth) != 1:
        raise ValueError("the true answer is not exactly one of the options")
    segments = [[round(s, 2), round(e, 2)] for s, e in (scenes.seconds(span, meta) for span in spans)]
    return json.dumps({"answer": qa.LETTERS[options.index(truth)], "segments": segments})


def explain(meta: dict) -> str:
    truth = json.loads(derive_answer(meta))
    options = meta["annotation"]["options"] if "annotation" in meta else meta["query"]["options"]
    seen = ", ".join(f"{start:.2f} to {end:.2f}" for start, end in truth["segments"])
    option = options[qa.LETTERS.index(truth["answer"])]
    return f"The answer is {truth['answer']}, {quoted(option)}: the video shows it at {seen} seconds."


def random_guess(meta: dict, fps: float, rng: np.random.Generator) -> str:
    """A uniformly random letter and the whole video as glue."""
    options = meta["annotation"]["options"] if "annotation" in meta else meta["query"]["options"]
    letter = qa.LETTERS[int(rng.integers(len(options)))]
    return f"<answer>{letter}</answer><glue>[(0.0, {meta['num_frames'] / fps:.2f})]</glue>"


def contact(meta: dict) -> Contact:
    if "annotation" in meta:
        fps = meta["num_frames"] / annotated.duration(meta)
        truth = _annotated_truth(meta)
        marked = {
            f: "inside"
            for s, e in truth["segments"]
            for f in range(int(s * fps), min(meta["num_frames"], int(np.ceil(e * fps))))
        }
        return Contact(marked, f"red: the glue for answer {truth['answer']} ({annotated.where(meta['annotation'])})")
    truth, spans = solve(meta)
    return Contact(
        {f: "inside" for s, e in spans for f in range(s, e + 1)},
        f"red: the glue for {truth!r} ({meta['query']['text']})",
    )


TASK = Task(
    name=NAME,
    paper="li2025videochatr1",
    shows="a multiple-choice question about an event, answered with the intervals that support it",
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
    answer_form="letter_glue",
)
