"""Reward formulas of the four papers, as pure functions of parsed values. Ranges are documented
per function; every function returns a finite float and never raises on parsed input."""

from __future__ import annotations

from collections.abc import Sequence

Interval = tuple[float, float]


def interval_iou(a: Interval, b: Interval) -> float:
    """IoU of two [start, end] intervals (VideoSSR Eq. 4). Zero-length: 1.0 if identical, else 0.0."""
    intersection = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    if union <= 0:
        return 1.0 if a == b else 0.0
    return intersection / union


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
    """1 - displacement / E_max with E_max = floor(n^2 / 2), the reversed sequence (Eqs. 7-8), in [0, 1].

    Both are position strings (entry k = position of original clip k), so pos(k, P) is entry k.
    """
    n = len(truth)
    if len(predicted) != n or not is_permutation(predicted, n) or n < 2:
        return 0.0
    displacement = sum(abs(p - t) for p, t in zip(predicted, truth))
    return 1.0 - displacement / (n * n // 2)


def jigsaw_strict(predicted: Sequence[int], truth: Sequence[int]) -> float:
    return float(list(predicted) == list(truth))


def box_iou(a, b) -> float:
    """IoU of two (x1, y1, x2, y2) boxes; coordinates in any order per axis."""
    ax1, ax2 = sorted((a[0], a[2]))
    ay1, ay2 = sorted((a[1], a[3]))
    bx1, bx2 = sorted((b[0], b[2]))
    by1, by2 = sorted((b[1], b[3]))
    iw, ih = max(0.0, min(ax2, bx2) - max(ax1, bx1)), max(0.0, min(ay2, by2) - max(ay1, by1))
    inter = iw * ih
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    if union <= 0:
        return 1.0 if (ax1, ay1, ax2, ay2) == (bx1, by1, bx2, by2) else 0.0
    return inter / union


def tracking_iou(predicted, truth) -> float:
    """Mean box IoU over the ground-truth frames; missing predicted frames score 0 (VideoChat-R1)."""
    if not truth:
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
    """MUSEG global reward: F1 of the merged prediction's overlap with the ground truth, in [0, 1]."""
    p = merge_intervals(predicted)
    t = merge_intervals(truth)
    overlap = _overlap(p, t)
    predicted_length, truth_length = sum(e - s for s, e in p), sum(e - s for s, e in t)
    if overlap <= 0 or predicted_length <= 0 or truth_length <= 0:
        return 0.0
    precision, recall = overlap / predicted_length, overlap / truth_length
    return 2 * precision * recall / (precision + recall)


def generalized_iou_score(a: Interval, b: Interval) -> float:
    """(1 + IoU - (enclosure - union) / enclosure) / 2, in [0, 1]."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    enclosure = max(a[1], b[1]) - min(a[0], b[0])
    if enclosure <= 0:
        return 1.0 if a == b else 0.0
    iou = inter / union if union > 0 else 0.0
    return (1 + iou - (enclosure - union) / enclosure) / 2


def local_matching(predicted: Sequence[Interval], truth: Sequence[Interval]) -> float:
    """MUSEG local reward: i-th prediction against i-th truth (both sorted), the shorter list padded
    with far-away dummy segments, mean GIoU score over the pairs, in [0, 1]."""
    p, t = sorted(predicted), sorted(truth)
    if not p or not t:
        return 0.0
    far = 10 * (max(e for _, e in list(p) + list(t)) + 1)
    pad = [(far + 10 * i, far + 10 * i + 1) for i in range(abs(len(p) - len(t)))]
    if len(p) < len(t):
        p = p + pad
    else:
        t = t + pad
    return sum(generalized_iou_score(a, b) for a, b in zip(p, t)) / len(p)
