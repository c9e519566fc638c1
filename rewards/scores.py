"""Reward formulas of the four papers, as pure functions of parsed values. Ranges are documented
per function; every function returns a finite float and never raises on parsed input."""

from __future__ import annotations

from collections.abc import Sequence

Interval = tuple[float, float]
UNION_EPSILON = 1e-9  # VideoSSR grounding: below this the union counts as empty
MUSEG_EPSILON = 1e-6  # MUSEG smooths precision, recall and F1 with it
MUSEG_FAR_SEGMENT = (1e9, 1e9 + 1)  # MUSEG pads the shorter list with this segment


def interval_iou(a: Interval, b: Interval) -> float:
    """IoU of two [start, end] intervals (VideoSSR Eq. 4); 0.0 when the union is empty, as the authors'."""
    intersection = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - intersection
    return intersection / union if union > UNION_EPSILON else 0.0


def counting_smooth(predicted: Sequence[int], truth: Sequence[int]) -> float:
    """Mean over shapes of max(0, 1 - |y_hat - y| / (y + 1e-9)) (VideoSSR Eqs. 5-6), in [0, 1]."""
    if len(predicted) != len(truth) or not truth:
        return 0.0
    return sum(max(0.0, 1 - abs(p - t) / (t + 1e-9)) for p, t in zip(predicted, truth)) / len(truth)


def counting_strict(predicted: Sequence[int], truth: Sequence[int]) -> float:
    """Mean over shapes of exact match (VIUBench), in [0, 1]."""
    if len(predicted) != len(truth) or not truth:
        return 0.0
    return sum(p == t for p, t in zip(predicted, truth)) / len(truth)


def is_permutation(order: Sequence[int], n: int) -> bool:
    return sorted(order) == list(range(1, n + 1))


def jigsaw_smooth(predicted: Sequence[int], truth: Sequence[int]) -> float:
    """VideoSSR Eqs. 7-8: 1 - sum over symbols k of |pos(k, P_hat) - pos(k, P_gt)| / floor(n^2 / 2),
    where pos(k, P) is the index of symbol k in the answer string P; the reversed string scores 0."""
    n = len(truth)
    if len(predicted) != n or not is_permutation(predicted, n) or n < 2:
        return 0.0
    predicted_index = {symbol: i for i, symbol in enumerate(predicted)}
    displacement = sum(abs(predicted_index[symbol] - i) for i, symbol in enumerate(truth))
    return 1.0 - displacement / (n * n // 2)


def jigsaw_strict(predicted: Sequence[int], truth: Sequence[int]) -> float:
    return float(list(predicted) == list(truth))


def box_iou(a, b) -> float:
    """IoU of two (x1, y1, x2, y2) boxes; a box with x2 < x1 or y2 < y1 overlaps nothing (as the
    authors' formula gives for it), an empty union scores 0."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    if a[2] < a[0] or a[3] < a[1] or b[2] < b[0] or b[3] < b[1]:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def tracking_iou(predicted, truth) -> float:
    """Mean box IoU over the asked frames; 0 unless there is exactly one box per asked frame (VideoChat-R1)."""
    if not truth or len(predicted) != len(truth):
        return 0.0
    return sum(box_iou(p, t) for p, t in zip(predicted, truth)) / len(truth)


def merge_intervals(intervals: Sequence[Interval]) -> list[Interval]:
    merged: list[list[float]] = []
    for start, end in sorted((min(a, b), max(a, b)) for a, b in intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [tuple(m) for m in merged]


def _overlap(a: Sequence[Interval], b: Sequence[Interval]) -> float:
    return sum(max(0.0, min(x[1], y[1]) - max(x[0], y[0])) for x in a for y in b)


def multi_interval_iou(predicted: Sequence[Interval], truth: Sequence[Interval]) -> float:
    """IoU of two unions of intervals, each merged first (VideoChat-R1's glue IoU), in [0, 1]."""
    p, t = merge_intervals(predicted), merge_intervals(truth)
    inter = _overlap(p, t)
    union = sum(e - s for s, e in p) + sum(e - s for s, e in t) - inter
    if union <= 0:
        return 1.0 if p == t else 0.0
    return inter / union


def global_matching(predicted: Sequence[Interval], truth: Sequence[Interval]) -> float:
    """MUSEG global reward: F1 of the merged prediction's overlap with the merged ground truth, with
    the authors' 1e-6 smoothing, in [0, 1). (The authors leave overlapping ground truth unmerged,
    which lets the score pass 1; we merge it.)"""
    p, t = merge_intervals(predicted), merge_intervals(truth)
    overlap = _overlap(p, t)
    precision = overlap / (sum(e - s for s, e in p) + MUSEG_EPSILON)
    recall = overlap / (sum(e - s for s, e in t) + MUSEG_EPSILON)
    return 2 * precision * recall / (precision + recall + MUSEG_EPSILON)


def generalized_iou_score(a: Interval, b: Interval) -> float:
    """(1 + IoU - (enclosure - union) / enclosure) / 2, in [0, 1]; 0 for two empty intervals."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    enclosure = max(a[1], b[1]) - min(a[0], b[0])
    if union <= 0 or enclosure <= 0:
        return 0.0
    return (1 + inter / union - (enclosure - union) / enclosure) / 2


def local_matching(predicted: Sequence[Interval], truth: Sequence[Interval]) -> float:
    """MUSEG local reward: the i-th prediction against the i-th ground-truth segment, in the order
    each was written, the shorter list padded with a segment far away; mean GIoU score, in [0, 1]."""
    if not predicted or not truth:
        return 0.0
    size = max(len(predicted), len(truth))
    p = list(predicted) + [MUSEG_FAR_SEGMENT] * (size - len(predicted))
    t = list(truth) + [MUSEG_FAR_SEGMENT] * (size - len(truth))
    return sum(generalized_iou_score(a, b) for a, b in zip(p, t)) / size
