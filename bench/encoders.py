"""Encoder comparison on the sampled frames of real clips: frames/s and bytes per sample.

Runs wherever it is started; on a host with a working NVENC it compares h264_nvenc to libx264.
``--presets`` adds the libx264 trade-off table: seconds per 48-frame sample, bytes and luma PSNR
against the uncompressed frames for presets ultrafast..medium at CRF 18/23/28 (the lake uses
veryfast CRF 23; any row keeps builds byte-identical, since x264 runs single-threaded).
"""

from __future__ import annotations

import argparse
import io
import time
from operator import itemgetter
from pathlib import Path

import av
import numpy as np

from bench.bench import print_table, short_clips
from videolake.pipeline.encode import ENCODERS, Encoder, encode_mp4, nvenc_works, rgb_to_yuv420p
from videolake.pipeline.sampling import sample_clip

PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium")
CRFS = ("18", "23", "28")


def luma_psnr(clips, videos: list[bytes]) -> float:
    """PSNR of the decoded luma against the frames' own yuv420p luma, over every frame of every clip."""
    error, count = 0.0, 0
    for clip, data in zip(clips, videos):
        reference = rgb_to_yuv420p(clip.frames)[:, : clip.frames.shape[1]]
        with av.open(io.BytesIO(data)) as container:
            decoded = np.stack(
                [f.to_ndarray(format="yuv420p")[: clip.frames.shape[1]] for f in container.decode(video=0)]
            )
        error += float(((reference.astype(np.float64) - decoded) ** 2).sum())
        count += reference.size
    return 10 * np.log10(255**2 / max(error / count, 1e-12))


def preset_table(clips, repeats: int) -> list[dict]:
    rows = []
    for preset in PRESETS:
        for crf in CRFS:
            encoder = Encoder("libx264", {"preset": preset, "crf": crf, "threads": "1"})
            best = float("inf")
            for _ in range(repeats):
                started = time.perf_counter()
                videos = [encode_mp4(c.frames, c.fps, encoder) for c in clips]
                best = min(best, time.perf_counter() - started)
            rows.append(
                {
                    "preset": preset,
                    "crf": crf,
                    "s_per_sample": best / len(clips),
                    "kib_per_sample": sum(map(len, videos)) / len(clips) / 1024,
                    "psnr": luma_psnr(clips, videos),
                }
            )
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="use the first N clips")
    parser.add_argument("--presets", action="store_true", help="also the libx264 preset x CRF table")
    args = parser.parse_args(argv)
    paths = short_clips(args.clips)[: args.limit]
    clips = [sample_clip(str(p)) for p in paths]
    names = ["libx264"] + (["h264_nvenc"] if nvenc_works() else [])
    print(f"nvenc usable: {nvenc_works()}")
    for name in names:
        best, size = float("inf"), 0
        for _ in range(args.repeats):
            started = time.perf_counter()
            size = sum(len(encode_mp4(c.frames, c.fps, ENCODERS[name])) for c in clips)
            best = min(best, time.perf_counter() - started)
        frames = sum(len(c.frames) for c in clips)
        print(f"{name:<12}{frames / best:>9.0f} frames/s  {size / len(clips) / 1024:>7.1f} KiB per 48-frame video")
    if args.presets:
        rows = preset_table(clips, args.repeats)
        chosen = next(r for r in rows if (r["preset"], r["crf"]) == ("veryfast", "23"))
        print(
            f"libx264 presets on {len(clips)} clips (48 frames each, one thread): time and bytes relative to the lake's veryfast CRF 23"
        )
        print_table(
            rows,
            [
                ("preset", -11, itemgetter("preset")),
                ("crf", 4, itemgetter("crf")),
                ("s/sample", 10, lambda r: f"{r['s_per_sample']:.3f}"),
                ("x time", 8, lambda r: f"{r['s_per_sample'] / chosen['s_per_sample']:.2f}"),
                ("KiB", 8, lambda r: f"{r['kib_per_sample']:.1f}"),
                ("x bytes", 9, lambda r: f"{r['kib_per_sample'] / chosen['kib_per_sample']:.2f}"),
                ("PSNR dB", 9, lambda r: f"{r['psnr']:.2f}"),
            ],
        )


if __name__ == "__main__":
    main()
