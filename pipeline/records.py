"""From planned samples to finished records: decode each source once, generate, encode.

Errors travel as data: a source that cannot be read or a sample that cannot be generated
becomes a (source_id, reason) entry for the build report, and the shard goes on without it.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from itertools import groupby

import numpy as np

from videolake.generators import TASKS, CannotGenerate, SampledClip
from videolake.generators.base import fps_from_str
from videolake.pipeline.encode import Encoder, encode_mp4
from videolake.pipeline.ingest import SourceRef, read_archive_members
from videolake.pipeline.plan import SampleSpec
from videolake.pipeline.polish import Polisher, polish
from videolake.pipeline.sampling import SourceError, sample_clip, sample_image_sequence


def meta_json(meta: dict) -> str:
    return json.dumps(meta, sort_keys=True, separators=(",", ":"))


def even_frame_padding(clips) -> list[int]:
    """Copies of its last frame each video gets so that its frame count is even: Qwen-family models
    take frames in pairs (a temporal patch is 2 frames) and their processors repeat the last frame of
    an odd count, while qwen-vl-utils (verl) rounds ``nframes`` to even; the lake writes that frame,
    so every consumer sees the same frames. Appended at the end, it moves no frame's time and cuts
    no answer interval."""
    return [clip.shape[0] % 2 for clip in clips]


def written_lengths(task: str, meta: dict) -> list[int]:
    """Frames of each video as written: the generator's count plus the padding ``record_for``
    recorded (``meta["padded_frames"]``, present only where a video was padded)."""
    lengths = TASKS[task].video_lengths(meta)
    padding = meta.get("padded_frames", [0] * len(lengths))
    if (
        not isinstance(padding, list)
        or len(padding) != len(lengths)
        or not all(type(p) is int and p in (0, 1) for p in padding)
    ):
        raise ValueError(f"padded_frames {str(padding)[:80]} is not one 0 or 1 per video")
    return [length + pad for length, pad in zip(lengths, padding)]


def required_density(specs) -> int:
    return math.lcm(*(TASKS[s.task].required_density(s.subtype, s.params) for s in specs))


def record_for(
    spec: SampleSpec,
    clip: SampledClip | None,
    donor: SampledClip | None,
    encoder: Encoder,
    polisher: Polisher | None = None,
) -> dict:
    """``clip`` is None for tasks that render their videos."""
    rng = np.random.default_rng(spec.seed)
    sample = TASKS[spec.task].generate(clip, spec.subtype, spec.params, rng, donor, annotation=spec.annotation)
    fps = fps_from_str(sample.meta["fps"])
    reasoning, audit = sample.reasoning, None
    facts = TASKS[spec.task].trace_facts
    if polisher and reasoning and facts:
        reasoning, audit = polish(reasoning, polisher, facts)
    padding = even_frame_padding(sample.clips)
    videos = [encode_mp4(video, fps, encoder, pad) for video, pad in zip(sample.clips, padding)]
    height, width = sample.clips[0].shape[1:3]
    meta = {
        **sample.meta,
        "generator": {
            "task": spec.task,
            "subtype": spec.subtype,
            "tier": spec.tier,
            "params": spec.params,
            "seed": spec.seed,
        },
        "donor_source_id": spec.donor.source_id if spec.donor else None,
        "encoder": encoder.codec,
        "video_size": [width, height],  # every frame of every video; validate decodes and checks
        "video_sha256": [hashlib.sha256(video).hexdigest() for video in videos],
    }
    if any(padding):
        meta["padded_frames"] = padding
    if audit:
        meta["reasoning_polish"] = audit
    return {
        "id": spec.id,
        "task": spec.task,
        "subtype": spec.subtype,
        "tier": spec.tier,
        "split": spec.split,
        "source_id": spec.source.source_id if spec.source else "",
        "system": sample.system,
        "question": sample.question,
        "answer": sample.answer,
        "reasoning": reasoning,
        "videos": videos,
        "fps": float(fps),
        "meta": meta_json(meta),
    }


def _open_sources(refs: list[SourceRef]):
    """Yield (ref, file path or in-memory file, error); archive members come from one streaming pass."""
    for container, group in groupby(refs, key=lambda r: r.container):
        group = list(group)
        if group[0].member is None:
            for ref in group:
                yield ref, ref.container, None
            continue
        by_member = {ref.member: ref for ref in group}
        for member, data, error in read_archive_members(container, set(by_member)):
            yield by_member[member], (io.BytesIO(data) if data is not None else None), error


def make_records(
    specs: list[SampleSpec], frames: int, max_size, encoder: Encoder, polisher: Polisher | None = None
) -> tuple[list[dict], list[dict]]:
    """Records for ``specs`` in their given order, plus the skipped ones with reasons.

    Each source is read once; annotated samples see it whole (their times are on the video's own
    clock), the others its 5-95% span, so a source used both ways is sampled twice."""
    by_source: dict[str, dict[bool, list[SampleSpec]]] = {}
    done: dict[str, dict] = {}
    skipped: list[dict] = []
    for spec in specs:
        if spec.source is None:
            try:
                done[spec.id] = record_for(spec, None, None, encoder, polisher)
            except CannotGenerate as err:
                skipped.append({"source_id": "", "reason": f"{spec.id}: {err}", "samples": [spec.id]})
        else:
            by_source.setdefault(spec.source.source_id, {}).setdefault(spec.annotation is not None, []).append(spec)
    refs = sorted({spec.source for spec in specs if spec.source}, key=lambda r: (r.container, r.source_id))
    donors: dict[str, SampledClip | str] = {}
    for ref, opened, error in _open_sources(refs):
        for whole, source_specs in sorted(by_source[ref.source_id].items()):
            try:
                if error is not None:
                    raise SourceError(error)
                clip = _sample(opened, source_specs[0], frames, required_density(source_specs), max_size, whole)
            except SourceError as err:
                skipped.append(
                    {"source_id": ref.source_id, "reason": str(err), "samples": [s.id for s in source_specs]}
                )
                continue
            for spec in source_specs:
                try:
                    donor = _donor_clip(spec.donor, donors, frames, max_size) if spec.donor else None
                    done[spec.id] = record_for(spec, clip, donor, encoder, polisher)
                except (SourceError, CannotGenerate) as err:
                    skipped.append({"source_id": ref.source_id, "reason": f"{spec.id}: {err}", "samples": [spec.id]})
    return [done[s.id] for s in specs if s.id in done], skipped


def _sample(opened, spec: SampleSpec, frames: int, density: int, max_size, whole: bool) -> SampledClip:
    """A source's frames: a video's, or for annotated image sequences (GOT-10k) its image files'."""
    if spec.annotation is not None and "frames" in spec.annotation:
        return sample_image_sequence(
            spec.source.container, spec.annotation["frames"], frames, max_size, spec.annotation["fps"]
        )
    return sample_clip(opened, frames, density, max_size, whole=whole)


def _donor_clip(ref: SourceRef, cache: dict, frames: int, max_size) -> SampledClip:
    """Swap samples read a second source; one decode per donor per shard."""
    if ref.source_id not in cache:
        try:
            ((_, opened, error),) = _open_sources([ref])
            if error:
                raise SourceError(error)
            cache[ref.source_id] = sample_clip(opened, frames, 1, max_size)
        except SourceError as err:
            cache[ref.source_id] = f"donor {ref.source_id}: {err}"
    if isinstance(cache[ref.source_id], str):
        raise SourceError(cache[ref.source_id])
    return cache[ref.source_id]
