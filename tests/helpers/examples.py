"""One sample of any task and subtype, with an annotated row of each format where it needs one."""

from __future__ import annotations

from tests.helpers.clips import make_clip


def example_annotation(fmt: str | None) -> dict | None:
    """A row of each annotated format that fits ``make_clip()`` (48 frames, 6 s, 96x64)."""
    if fmt is None:
        return None
    interval = {"video": "clip", "start": 1.0, "end": 3.5, "query": "something happens", "where": f"{fmt}.txt:1"}
    return {
        "charades_sta": interval,
        "activitynet": {**interval, "duration": 6.0},
        "got10k": {
            "video": "seq",
            "object": "toy",
            "fps": 10,
            "where": "seq/groundtruth.txt",
            "frames": [f"{i:08d}.jpg" for i in range(1, 61)],
            "boxes": [[2 + i, 3, 20, 12] for i in range(60)],
        },
        "nextgqa": {
            "video": "clip",
            "qid": "q1",
            "question": "what happens",
            "options": ["a", "b", "c", "d", "e"],
            "answer": 2,
            "segments": [[1.0, 2.0], [4.0, 5.5]],
            "duration": 6.0,
            "where": "val.csv:2",
        },
        "llava_video": {
            "video": "clip.mp4",
            "question": "what happens",
            "options": ["a", "b", "c"],
            "answer": 1,
            "where": "qa.json[0].0",
        },
    }[fmt]


def generate_example(task_name: str, subtype: str, params: dict, rng, fmt_override: dict | None = None):
    """One sample of any task and subtype: a rendered one, one from ``make_clip()``, or an annotated
    one from ``example_annotation`` (open-ended QA gets a free-text answer)."""
    import dataclasses

    from videolake.generators import TASKS

    task = TASKS[task_name]
    fmt = task.annotation_format(subtype)
    clip = make_clip(density=task.required_density(subtype, params)) if task.needs_source(subtype) else None
    donor = make_clip() if task.needs_donor(subtype) else None
    annotation = None
    if fmt is not None:
        annotation = example_annotation(fmt)
        if task_name == "open_ended_qa":
            annotation = {k: v for k, v in annotation.items() if k not in ("options", "answer")} | {
                "answer_text": "It happens."
            }
        annotation = task.select_annotations([annotation])[0] if task.select_annotations else annotation
        clip = dataclasses.replace(clip, source_size=(96, 64))
    return task.generate(clip, subtype, params, rng, donor, annotation=annotation)
