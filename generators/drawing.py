"""Flat shapes drawn onto frames (circles, squares, equilateral triangles), shared by the tasks that
overlay them: counting counts them, tracking follows one. A shape is a dict: ``type``, centre
``cx``/``cy``, ``size`` (circle diameter or polygon side), ``rotation`` in degrees, ``color``, and
optionally an ``occluder`` bar drawn over it."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle")
CORNERS = {"square": 4, "triangle": 3}


def circumradius(kind: str, size: float) -> float:
    """How far the shape reaches from its centre, at any rotation."""
    if kind == "circle":
        return size / 2
    return size / math.sqrt(2) if kind == "square" else size / math.sqrt(3)


def shape_polygon(shape: dict) -> list[tuple[float, float]]:
    """Vertices of a square or equilateral triangle of side ``size`` centred on (cx, cy)."""
    cx, cy, angle = shape["cx"], shape["cy"], math.radians(shape["rotation"])
    radius, corners = circumradius(shape["type"], shape["size"]), CORNERS[shape["type"]]
    return [
        (
            cx + radius * math.cos(angle + 2 * math.pi * k / corners),
            cy + radius * math.sin(angle + 2 * math.pi * k / corners),
        )
        for k in range(corners)
    ]


def extent(shape: dict) -> tuple[float, float, float, float]:
    """The shape's bounding box (x1, y1, x2, y2), unclipped."""
    if shape["type"] == "circle":
        r = shape["size"] / 2
        return shape["cx"] - r, shape["cy"] - r, shape["cx"] + r, shape["cy"] + r
    xs, ys = zip(*shape_polygon(shape))
    return min(xs), min(ys), max(xs), max(ys)


def draw_shapes(frame: np.ndarray, shapes: list[dict]) -> np.ndarray:
    """The shapes, then the bars that partly hide some of them."""
    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    for shape in shapes:
        color = tuple(shape["color"])
        if shape["type"] == "circle":
            r = shape["size"] / 2
            draw.ellipse((shape["cx"] - r, shape["cy"] - r, shape["cx"] + r, shape["cy"] + r), fill=color)
        else:
            draw.polygon(shape_polygon(shape), fill=color)
    for shape in shapes:
        if "occluder" in shape:
            draw.rectangle(shape["occluder"]["box"], fill=tuple(shape["occluder"]["color"]))
    return np.asarray(image)
