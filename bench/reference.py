"""`make bench` (reference part): videolake against the VideoSSR reference method, per clip and
pretext task, one core.

The reference method as the paper describes its data preparation: decode the whole clip, write 48
frames (evenly over the clip, at most 448x448) as JPEG quality 95; then per sample load those
frames, make the sample (perturb a segment, draw the shapes, or cut and shuffle the clips) and
write its frames as JPEG - folders of paths, not a self-contained sample. Both sides make the
sample with the same generator, so they differ only in how frames come in and go out; videolake
makes it as MP4s inside a record. Both run in this process, interleaved, best of N; the ratio is
reference time / videolake time (> 1: videolake faster), with bytes per sample beside it.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from fractions import Fraction
from operator import itemgetter
from pathlib import Path

import av
import numpy as np
from PIL import Image

from bench.bench import print_table, short_clips, specs_for
from videolake.generators import TASKS, SampledClip
from videolake.pipeline.encode import ENCODERS, Encoder, with_options
from videolake.pipeline.plan import SampleSpec
from videolake.pipeline.records import make_records
from videolake.pipeline.sampling import output_size

PRETEXT_TASKS = ("anomaly_grounding", "object_counting", "temporal_jigsaw")
FRAMES = 48
MAX_SIZE = (448, 448)
JPEG_QUALITY = 95


def extract_frames(path: Path, frames_dir: Path) -> Fraction:
    """Per clip: every frame decoded, 48 of them (evenly over the 5-95% span) written as JPEG;
    returns the frame rate of the 48 (48 / span)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        total = stream.frames or sum(1 for p in container.demux(video=0) if p.size)
        rate = stream.average_rate or Fraction(25)
    picks = np.linspace(0.05 * total, 0.95 * total, FRAMES, endpoint=False).astype(int)
    wanted = {int(index): [k for k in range(FRAMES) if picks[k] == index] for index in picks}
    frames_dir.mkdir(parents=True, exist_ok=True)
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):  # every frame of the clip is decoded
            for k in wanted.get(index, ()):
                image = frame.to_image()
                image.resize(output_size(image.width, image.height, *MAX_SIZE), Image.BILINEAR).save(
                    frames_dir / f"{k:05d}.jpg", quality=JPEG_QUALITY
                )
    missing = [k for k in range(FRAMES) if not (frames_dir / f"{k:05d}.jpg").exists()]
    for k in missing:  # a misstated frame count: repeat the last written frame, as a reader that clamps would
        (frames_dir / f"{k:05d}.jpg").write_bytes(
            (frames_dir / f"{max(j for j in range(k) if j not in missing):05d}.jpg").read_bytes()
        )
    return (Fraction(FRAMES) * Fraction(rate) / Fraction(0.9 * total).limit_denominator(1000)).limit_denominator(1000)


def reference_sample(path: Path, spec: SampleSpec, workdir: Path) -> int:
    """The reference method for one sample; returns the bytes of the sample's frame folders."""
    fps = extract_frames(path, workdir / "frames")
    frames = np.stack([np.asarray(Image.open(workdir / "frames" / f"{k:05d}.jpg")) for k in range(FRAMES)])
    clip = SampledClip(frames, np.arange(FRAMES) / float(fps), 1, fps)
    sample = TASKS[spec.task].generate(clip, spec.subtype, spec.params, np.random.default_rng(spec.seed))
    total = 0
    for v, video in enumerate(sample.clips):
        sample_dir = workdir / "sample" / f"video{v}"
        sample_dir.mkdir(parents=True, exist_ok=True)
        for k, frame in enumerate(video):
            buffer = io.BytesIO()
            Image.fromarray(frame).save(buffer, format="JPEG", quality=JPEG_QUALITY)
            (sample_dir / f"{k:05d}.jpg").write_bytes(buffer.getvalue())
            total += buffer.tell()
    return total


def videolake_sample(spec: SampleSpec, encoder: Encoder = ENCODERS["libx264"]) -> int:
    records, skipped = make_records([spec], FRAMES, MAX_SIZE, encoder)
    assert not skipped, skipped
    return sum(len(video) for video in records[0]["videos"])


def compare(clips: list[Path], repeats: int, tasks=PRETEXT_TASKS, encoder: Encoder = ENCODERS["libx264"]) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for task in tasks:
            for i, (path, spec) in enumerate(zip(clips, specs_for(task, clips))):
                best_ref = best_ours = float("inf")
                for r in range(repeats):
                    started = time.perf_counter()
                    ref_bytes = reference_sample(path, spec, Path(scratch) / f"{task}-{i}-{r}")
                    best_ref = min(best_ref, time.perf_counter() - started)
                    started = time.perf_counter()
                    our_bytes = videolake_sample(spec, encoder)
                    best_ours = min(best_ours, time.perf_counter() - started)
                rows.append(
                    {
                        "task": task,
                        "clip": path.name,
                        "subtype": spec.subtype,
                        "reference_s": round(best_ref, 3),
                        "videolake_s": round(best_ours, 3),
                        "speedup": round(best_ref / best_ours, 2),
                        "reference_bytes": ref_bytes,
                        "videolake_bytes": our_bytes,
                    }
                )
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--tiny", action="store_true", help="two clips, one repeat")
    parser.add_argument("--tasks", default=",".join(PRETEXT_TASKS))
    parser.add_argument(
        "--preset",
        default=None,
        help="x264 preset for videolake's side (default: the lake's veryfast), as a recipe's x264: {preset}",
    )
    args = parser.parse_args(argv)
    clips = short_clips(args.clips)[: 2 if args.tiny else None]
    tasks = args.tasks.split(",")
    encoder = with_options(ENCODERS["libx264"], {"preset": args.preset} if args.preset else {})
    rows = compare(clips, 1 if args.tiny else args.repeats, tasks, encoder)
    print(
        f"reference method (whole-clip decode, 48 JPEG q{JPEG_QUALITY} frames, per-sample load + generate + JPEG write) vs videolake (x264 {encoder.options['preset']}), one core, best of {args.repeats}"
    )
    print_table(
        rows,
        [
            ("task", -20, itemgetter("task")),
            ("clip", -28, itemgetter("clip")),
            ("subtype", -14, itemgetter("subtype")),
            ("reference s", 12, itemgetter("reference_s")),
            ("videolake s", 12, itemgetter("videolake_s")),
            ("speed-up", 10, itemgetter("speedup")),
            ("ref bytes", 11, itemgetter("reference_bytes")),
            ("ours bytes", 11, itemgetter("videolake_bytes")),
        ],
    )
    for task in tasks:
        mine = [r for r in rows if r["task"] == task]
        total_ref, total_ours = sum(r["reference_s"] for r in mine), sum(r["videolake_s"] for r in mine)
        print(
            f"{task}: reference {total_ref:.2f} s, videolake {total_ours:.2f} s, speed-up {total_ref / total_ours:.2f}x (target >= 2.5x); "
            f"slowest clip {min(r['speedup'] for r in mine):.2f}x (target >= 1); bytes per sample: reference "
            f"{np.mean([r['reference_bytes'] for r in mine]) / 1e6:.2f} MB of JPEGs, videolake {np.mean([r['videolake_bytes'] for r in mine]) / 1e6:.2f} MB MP4"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
