"""`make bench` (synthetic part): SynRL render+encode speed and size, as ratios measured in one run.

- frames/s of our path (palette drawing -> yuv420p lookup -> libx264) against (a) the paper's
  method on the same scenes: a fresh matplotlib figure per frame saved to PNG, then the ffmpeg CLI
  (libx264 at its default preset, CRF 23) - target >= 20x; and (b) encoding the same yuv420p frames
  alone with our settings - target <= 1.5x;
- bytes per sample against the same frames drawn as RGB arrays and encoded the way real clips
  are (averaged-chroma yuv420p, x264 veryfast CRF 23) - target <= 1.0x, with luma PSNR of both;
- our throughput with one process per core (how a build runs) next to the single-process figure.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction

import av
import numpy as np

from videolake.generators import synthetic
from videolake.generators.synthetic import motion
from videolake.generators.synthetic.render import OBJECT_COLOURS, PALETTE_RGB, shape_points
from videolake.pipeline.encode import ENCODERS, encode_mp4, encode_yuv420p, paletted_to_yuv420p, rgb_to_yuv420p

FPS = Fraction(30)
ENCODER = ENCODERS["libx264"]


def scenes(size: int, seeds: range) -> list[dict]:
    return [
        synthetic.generate(None, name, {"size": size}, np.random.default_rng(seed)).meta
        for seed in seeds
        for name in synthetic.SCENARIOS
    ]


def video(meta: dict):
    return synthetic.SCENARIOS[meta["scenario"]].render(meta)


def luma_psnr(reference: list[np.ndarray], data: bytes, size: int) -> tuple[float, int]:
    """(sum of squared luma errors, pixel count) of a decoded video against its source planes."""
    with av.open(io.BytesIO(data)) as container:
        decoded = [f.to_ndarray(format="yuv420p")[:size] for f in container.decode(video=0)]
    error = sum(float(((r[:size].astype(float) - d) ** 2).sum()) for r, d in zip(reference, decoded))
    return error, len(decoded) * size * size


def render_and_encode(meta: dict) -> int:
    return len(encode_mp4(video(meta), FPS, ENCODER))


def matplotlib_method(metas: list[dict], size: int) -> float:
    """Seconds for the paper's method: matplotlib figure -> PNG per frame, then the ffmpeg CLI."""
    import imageio_ffmpeg
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import patches

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    started = time.perf_counter()
    for meta in metas:
        with tempfile.TemporaryDirectory() as folder:
            for frame in range(meta["num_frames"]):
                figure = plt.figure(figsize=(size / 100, size / 100), dpi=100)
                axes = figure.add_axes([0, 0, 1, 1])
                axes.set_xlim(0, 1)
                axes.set_ylim(1, 0)
                axes.axis("off")
                axes.add_patch(patches.Rectangle((0, 0), 1, 1, fill=False, linewidth=4, edgecolor="#5f5f5f"))
                for obj in meta["objects"]:
                    x, y, angle = obj["track"][frame]
                    state = motion.attributes_at(obj, frame)
                    colour = np.array(OBJECT_COLOURS[state["colour"]]) / 255
                    if state["shape"] == "circle":
                        axes.add_patch(patches.Circle((x, y), state["radius"], color=colour))
                    else:
                        axes.add_patch(
                            patches.Polygon(shape_points(state["shape"], (x, y), state["radius"], angle), color=colour)
                        )
                figure.savefig(os.path.join(folder, f"{frame:05d}.png"))
                plt.close(figure)
            subprocess.run(
                [
                    ffmpeg,
                    "-v",
                    "error",
                    "-y",
                    "-framerate",
                    "30",
                    "-i",
                    os.path.join(folder, "%05d.png"),
                    "-c:v",
                    "libx264",
                    "-crf",
                    "23",
                    "-pix_fmt",
                    "yuv420p",
                    os.path.join(folder, "out.mp4"),
                ],
                check=True,
            )
    return time.perf_counter() - started


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=448)
    parser.add_argument("--seeds", type=int, default=2, help="samples per scenario")
    parser.add_argument("--paper-scenes", type=int, default=4, help="motion scenes rendered the paper's way (slow)")
    args = parser.parse_args(argv)
    size = args.size
    metas = scenes(size, range(args.seeds))
    frames = sum(m["num_frames"] for m in metas)

    started = time.perf_counter()
    ours_bytes = sum(render_and_encode(m) for m in metas)
    ours_seconds = time.perf_counter() - started

    planes = [[p.copy() for p in paletted_to_yuv420p(video(m).index_frames(), PALETTE_RGB)] for m in metas]
    started = time.perf_counter()
    encoded = [encode_yuv420p(p, size, size, FPS, ENCODER) for p in planes]
    encode_seconds = time.perf_counter() - started
    ours_err, pixels = map(sum, zip(*(luma_psnr(p, d, size) for p, d in zip(planes, encoded))))
    plain, plain_err = [], 0.0
    for meta in metas:  # the same frames as RGB arrays through the real-clip path
        rgb = video(meta).rgb()
        plain.append(encode_mp4(rgb, FPS, ENCODER))
        plain_err += luma_psnr(list(rgb_to_yuv420p(rgb)), plain[-1], size)[0]
    psnr = lambda err: 10 * np.log10(255**2 / (err / pixels))

    workers = os.cpu_count() or 1
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(render_and_encode, metas))
    parallel_seconds = time.perf_counter() - started

    motion_scenes = [m for m in metas if synthetic.SCENARIOS[m["scenario"]].horizon == "short"][: args.paper_scenes]
    paper_frames = sum(m["num_frames"] for m in motion_scenes)
    paper_seconds = matplotlib_method(motion_scenes, size)
    started = time.perf_counter()
    for meta in motion_scenes:
        render_and_encode(meta)
    same_scenes_seconds = time.perf_counter() - started

    report = {
        "scenes": len(metas),
        "frames": frames,
        "ours_fps_1_process": round(frames / ours_seconds, 1),
        "ours_fps_all_cores": round(frames / parallel_seconds, 1),
        "cores": workers,
        "encode_only_fps": round(frames / encode_seconds, 1),
        "ours_vs_encode_only_time": round(ours_seconds / encode_seconds, 2),
        "paper_method_fps": round(paper_frames / paper_seconds, 1),
        "ours_fps_same_scenes": round(paper_frames / same_scenes_seconds, 1),
        "speedup_vs_paper_1_process": round(paper_seconds / same_scenes_seconds, 1),
        "speedup_vs_paper_all_cores": round((frames / parallel_seconds) / (paper_frames / paper_seconds), 1),
        "bytes_per_sample": round(ours_bytes / len(metas)),
        "bytes_vs_rgb_path": round(sum(map(len, encoded)) / sum(map(len, plain)), 3),
        "luma_psnr_db": {"ours": round(psnr(ours_err), 2), "rgb_path": round(psnr(plain_err), 2)},
    }
    print(f"SynRL render+encode at {size}x{size}, 30 fps: {len(metas)} videos, {frames} frames")
    print(f"  ours, 1 process          {report['ours_fps_1_process']:8.1f} frames/s")
    print(f"  ours, {workers} processes        {report['ours_fps_all_cores']:8.1f} frames/s")
    print(
        f"  (a) paper's method       {report['paper_method_fps']:8.1f} frames/s on {len(motion_scenes)} motion scenes; ours on them {report['ours_fps_same_scenes']:.1f}"
    )
    print(
        f"      speed-up             {report['speedup_vs_paper_1_process']:8.1f}x (1 process)  {report['speedup_vs_paper_all_cores']:.1f}x (all cores)   target >= 20x"
    )
    print(
        f"  (b) encode only          {report['encode_only_fps']:8.1f} frames/s; ours takes {report['ours_vs_encode_only_time']:.2f}x its time   target <= 1.5x"
    )
    print(
        f"  bytes vs RGB-array path  {report['bytes_vs_rgb_path']:8.3f}x   target <= 1.0x  (luma PSNR {report['luma_psnr_db']['ours']} dB vs {report['luma_psnr_db']['rgb_path']} dB)"
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
