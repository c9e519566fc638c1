"""`make bench` (the trainer's data path): records/s through the dataset adapter and the collator
(decode the MP4 bytes + the Qwen2.5-VL processor), one process, against decoding alone timed in
the same run. Target <= 1.3x the decode floor, so loading never starves a GPU step.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.lake import small_build
from videolake.trainer.collate import SFTCollator
from videolake.trainer.data import FrameBudget, videos
from videolake.trainer.tiny import tiny_qwen2_5_vl


def best_seconds(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def data_path(clips: Path, samples: int, repeats: int) -> dict:
    import datasets

    _, processor = tiny_qwen2_5_vl()  # the real Qwen2.5-VL video processor; only the vocabulary is tiny
    collate = SFTCollator(processor, FrameBudget.of(processor))  # the processor's own pixel bounds
    with tempfile.TemporaryDirectory() as folder:
        records = list(datasets.load_from_disk(str(small_build(clips, Path(folder), samples)))["train"])
        floor = best_seconds(lambda: [videos(record) for record in records], repeats)
        ours = best_seconds(lambda: [collate([record]) for record in records], repeats)
    return {
        "records": len(records),
        "records_per_s": round(len(records) / ours, 1),
        "decode_records_per_s": round(len(records) / floor, 1),
        "ratio_to_decode": round(ours / floor, 2),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, required=True)
    parser.add_argument("--tiny", action="store_true", help="seconds-long run for the tests")
    args = parser.parse_args(argv)
    row = data_path(args.clips, 3 if args.tiny else 24, 1 if args.tiny else 3)
    print(
        f"trainer data path: {row['records_per_s']} records/s through adapter + collator (1 process, {row['records']} real-clip records, 48 frames, "
        f"Qwen2.5-VL video processor); decoding alone {row['decode_records_per_s']}/s; ratio {row['ratio_to_decode']} (target <= 1.3)"
    )


if __name__ == "__main__":
    main()
