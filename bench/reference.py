"""`make bench` (reference part): videolake against the VideoSSR reference method, per clip, one core.

The reference method as the paper describes its data preparation: decode the whole clip, write 48
frames (evenly over the clip, at most 448x448) as JPEG quality 95; then per sample load those
frames, perturb a segment, and write the perturbed frames as JPEG - a folder of paths, not a
self-contained sample. videolake makes the same sample (one per clip) as an MP4 inside a record.
Both run in this process, interleaved, best of N; the ratio is reference time / videolake time
(> 1: videolake faster), with bytes per sample beside it.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from PIL import Image

from videolake.generators import anomaly
from videolake.generators.perturbations import PERTURBATIONS
from videolake.pipeline.encode import ENCODERS
from videolake.pipeline.ingest import SourceRef
from videolake.pipeline.plan import SampleSpec
from videolake.pipeline.records import make_records
from videolake.pipeline.sampling import output_size

CLIP_SUFFIXES = {".mp4", ".avi", ".mpg", ".webm", ".mkv", ".mov"}
FRAMES = 48
MAX_SIZE = (448, 448)
SUBTYPES = ("channel_swap", "mirror", "rotate180", "zoom_out")  # VideoSSR-30K's grounding perturbations
JPEG_QUALITY = 95


def reference_sample(path: Path, subtype: str, workdir: Path, rng: np.random.Generator) -> int:
    """The reference method for one sample; returns the bytes of the sample's frame folder."""
    with av.open(str(path)) as container:
        total = container.streams.video[0].frames or sum(1 for p in container.demux(video=0) if p.size)
    picks = np.linspace(0.05 * total, 0.95 * total, FRAMES, endpoint=False).astype(int)
    wanted = {int(index): [k for k in range(FRAMES) if picks[k] == index] for index in picks}
    frames_dir = workdir / "frames"
    frames_dir.mkdir(parents=True, exist_ok=True)
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):  # every frame of the clip is decoded
            for k in wanted.get(index, ()):
                image = frame.to_image()
                image.resize(output_size(image.width, image.height, *MAX_SIZE), Image.BILINEAR).save(frames_dir / f"{k:05d}.jpg", quality=JPEG_QUALITY)
    missing = [k for k in range(FRAMES) if not (frames_dir / f"{k:05d}.jpg").exists()]
    for k in missing:  # a misstated frame count: repeat the last written frame, as a reader that clamps would
        (frames_dir / f"{k:05d}.jpg").write_bytes((frames_dir / f"{max(j for j in range(k) if j not in missing):05d}.jpg").read_bytes())
    # per sample: load the frames, perturb a segment, write the sample's frames
    frames = np.stack([np.asarray(Image.open(frames_dir / f"{k:05d}.jpg")) for k in range(FRAMES)])
    length = int(rng.integers(8, 17))
    start = int(rng.integers(0, FRAMES - length + 1))
    perturbation = PERTURBATIONS[subtype]
    frames[start : start + length] = perturbation.apply(frames[start : start + length], perturbation.sample(rng, anomaly.DEFAULT_SETTINGS, length))
    sample_dir = workdir / "sample"
    sample_dir.mkdir(exist_ok=True)
    total = 0
    for k, frame in enumerate(frames):
        buffer = io.BytesIO()
        Image.fromarray(frame).save(buffer, format="JPEG", quality=JPEG_QUALITY)
        (sample_dir / f"{k:05d}.jpg").write_bytes(buffer.getvalue())
        total += buffer.tell()
    return total


def videolake_sample(path: Path, subtype: str, seed: int) -> int:
    spec = SampleSpec(f"ref-{path.name}", "anomaly_grounding", subtype, "default", "train", SourceRef(path.name, str(path)), None, seed, {"segment_frames": [8, 16]})
    records, skipped = make_records([spec], FRAMES, MAX_SIZE, ENCODERS["libx264"])
    assert not skipped, skipped
    return len(records[0]["videos"][0])


def compare(clips: list[Path], repeats: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for i, path in enumerate(clips):
            subtype = SUBTYPES[i % len(SUBTYPES)]
            best_ref = best_ours = float("inf")
            for r in range(repeats):
                started = time.perf_counter()
                ref_bytes = reference_sample(path, subtype, Path(scratch) / f"{i}-{r}", np.random.default_rng(i))
                best_ref = min(best_ref, time.perf_counter() - started)
                started = time.perf_counter()
                our_bytes = videolake_sample(path, subtype, i)
                best_ours = min(best_ours, time.perf_counter() - started)
            rows.append(
                {
                    "clip": path.name,
                    "subtype": subtype,
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
    args = parser.parse_args(argv)
    clips = sorted(p for p in args.clips.iterdir() if p.suffix.lower() in CLIP_SUFFIXES and p.name != "bbb.mp4")[: 2 if args.tiny else None]
    rows = compare(clips, 1 if args.tiny else args.repeats)
    print(f"reference method (whole-clip decode, 48 JPEG q{JPEG_QUALITY} frames, per-sample load + perturb + JPEG write) vs videolake, one core, best of {args.repeats}")
    print(f"{'clip':<28}{'perturbation':<14}{'reference s':>12}{'videolake s':>12}{'speed-up':>10}{'ref bytes':>11}{'ours bytes':>11}")
    for row in rows:
        print(f"{row['clip']:<28}{row['subtype']:<14}{row['reference_s']:>12}{row['videolake_s']:>12}{row['speedup']:>10}{row['reference_bytes']:>11}{row['videolake_bytes']:>11}")
    total_ref, total_ours = sum(r["reference_s"] for r in rows), sum(r["videolake_s"] for r in rows)
    print(
        f"total: reference {total_ref:.2f} s, videolake {total_ours:.2f} s, speed-up {total_ref / total_ours:.2f}x (target >= 2.5x); slowest clip {min(r['speedup'] for r in rows):.2f}x (target >= 1)"
    )
    print(f"bytes per sample: reference {np.mean([r['reference_bytes'] for r in rows]) / 1e6:.2f} MB of JPEGs, videolake {np.mean([r['videolake_bytes'] for r in rows]) / 1e6:.2f} MB MP4")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
