"""Encoder comparison on the sampled frames of real clips: frames/s and bytes per sample.

Runs wherever it is started; on a host with a working NVENC it compares h264_nvenc to libx264.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from videolake.pipeline.encode import ENCODERS, encode_mp4, nvenc_works
from videolake.pipeline.sampling import sample_clip


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="use the first N clips")
    args = parser.parse_args(argv)
    paths = [p for p in sorted(args.clips.iterdir()) if p.suffix in {".mp4", ".mpg"} and p.name != "bbb.mp4"][: args.limit]
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


if __name__ == "__main__":
    main()
