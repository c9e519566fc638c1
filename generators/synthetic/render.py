"""Drawing for synthetic videos: palette-indexed frames, drawn on demand.

Frames are drawn with PIL into 8-bit palette images (one byte per pixel, no anti-aliasing), which
the encoder converts to yuv420p only where a frame changed (``encode.paletted_to_yuv420p``).
Rendering reads only the sample's ``meta``: the video is a picture of the metadata, never the
other way round.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Name -> RGB. Object colours are the ones questions may name; the rest are scenery.
OBJECT_COLOURS = {
    "red": (220, 50, 47),
    "orange": (245, 130, 30),
    "yellow": (230, 195, 20),
    "green": (50, 160, 70),
    "blue": (40, 100, 220),
    "purple": (140, 70, 190),
    "cyan": (20, 180, 200),
    "pink": (235, 110, 170),
    "brown": (135, 85, 45),
}
SCENERY_COLOURS = {
    "background": (245, 244, 238),
    "ink": (30, 30, 30),
    "wall": (95, 95, 95),
    "grey": (165, 165, 165),
    "light": (222, 222, 218),
    "white": (255, 255, 255),
    "card_back": (45, 75, 150),
    "card_red": (200, 30, 40),
    "terminal": (28, 32, 38),
    "prompt": (120, 220, 120),
    "text": (235, 235, 235),
}
COLOUR_NAMES = list(SCENERY_COLOURS) + list(OBJECT_COLOURS)
PALETTE_RGB = np.array([{**SCENERY_COLOURS, **OBJECT_COLOURS}[name] for name in COLOUR_NAMES], np.uint8)
INDEX = {name: i for i, name in enumerate(COLOUR_NAMES)}

SHAPES = ("circle", "square", "triangle", "star", "hexagon")
ORIENTED_SHAPES = ("tee", "arrow")  # shapes whose rotation is visible


@dataclass(frozen=True)
class PalettedVideo:
    """A synthetic video drawn frame by frame on demand, so memory holds one frame at a time."""

    num_frames: int
    size: int
    draw_frame: Callable[[int], Image.Image]  # frame index -> "P" image of palette indices

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (self.num_frames, self.size, self.size, 3)

    def indices(self, frame: int) -> np.ndarray:
        return np.asarray(self.draw_frame(frame))

    def rgb(self, frames=None) -> np.ndarray:
        """[T, H, W, 3] RGB (for inspection and tests); all frames unless ``frames`` lists some."""
        chosen = range(self.num_frames) if frames is None else frames
        return PALETTE_RGB[np.stack([self.indices(i) for i in chosen])]

    @property
    def palette(self) -> np.ndarray:
        return PALETTE_RGB

    def index_frames(self) -> Iterator[np.ndarray]:
        """Palette-index frames in order (the encoder converts them, see encode.paletted_to_yuv420p)."""
        for frame in range(self.num_frames):
            yield self.indices(frame)


def blank(size: int, colour: str = "background") -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("P", (size, size), INDEX[colour])
    return image, ImageDraw.Draw(image)


@cache
def font(pixels: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled font at a given pixel size: the same glyphs on every machine."""
    return ImageFont.load_default(size=max(6, int(pixels)))


@lru_cache(maxsize=4096)
def _text_mask(message: str, pixels: int, anchor: str) -> tuple[Image.Image, int, int]:
    """A message rasterised once as a 1-bit mask plus its offset from the anchor point: labels
    repeat on every frame, and pasting a cached mask is far cheaper than drawing text again."""
    face = font(pixels)
    left, top, right, bottom = face.getbbox(message, anchor=anchor)
    pad = pixels  # 1-bit glyphs can be wider than the anti-aliased box getbbox measures
    canvas = Image.new("1", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
    ImageDraw.Draw(canvas).text((pad - left, pad - top), message, fill=1, font=face, anchor=anchor)
    x0, y0, x1, y1 = canvas.getbbox() or (0, 0, 1, 1)
    return canvas.crop((x0, y0, x1, y1)), x0 - pad + left, y0 - pad + top


def text(draw: ImageDraw.ImageDraw, xy, message: str, pixels: int, colour: str = "ink", anchor: str = "mm") -> None:
    if not message:
        return
    mask, left, top = _text_mask(message, max(6, int(pixels)), anchor)
    draw.im.paste(
        INDEX[colour],
        (round(xy[0]) + left, round(xy[1]) + top, round(xy[0]) + left + mask.width, round(xy[1]) + top + mask.height),
        mask.im,
    )


def _polygon(shape: str) -> list[tuple[float, float]]:
    """Unit outline (radius 1, pointing up) of a polygonal shape."""
    if shape == "square":
        return [(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)]
    if shape == "triangle":
        return [(0.0, -1.0), (0.87, 0.5), (-0.87, 0.5)]
    if shape == "hexagon":
        return [(math.cos(a), math.sin(a)) for a in np.linspace(0, 2 * math.pi, 7)[:-1]]
    if shape == "star":
        return [
            (r * math.sin(a), -r * math.cos(a))
            for k, a in enumerate(np.linspace(0, 2 * math.pi, 11)[:-1])
            for r in [1.0 if k % 2 == 0 else 0.45]
        ]
    if shape == "tee":
        return [(-1, -1), (1, -1), (1, -0.5), (0.25, -0.5), (0.25, 1), (-0.25, 1), (-0.25, -0.5), (-1, -0.5)]
    if shape == "arrow":
        return [(0, -1), (0.7, -0.2), (0.2, -0.2), (0.2, 0.7), (-0.2, 0.7), (-0.2, -0.2), (-0.7, -0.2)]
    raise ValueError(f"unknown shape {shape!r}")


def shape_points(shape: str, centre, radius: float, angle: float) -> list[tuple[float, float]]:
    """Vertices of a polygonal shape; ``angle`` in degrees, clockwise on screen (y grows downwards)."""
    cx, cy = centre
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return [(cx + radius * (x * c - y * s), cy + radius * (x * s + y * c)) for x, y in _polygon(shape)]


def draw_shape(draw: ImageDraw.ImageDraw, shape: str, centre, radius: float, colour: str, angle: float = 0.0) -> None:
    """A filled shape (see ``shape_points`` for the angle)."""
    cx, cy = centre
    if shape == "circle":
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=INDEX[colour])
        return
    draw.polygon(shape_points(shape, centre, radius, angle), fill=INDEX[colour])


def clock(ms: int) -> str:
    """Video time as mm:ss.s, the form traces and questions quote."""
    seconds = ms / 1000
    return f"{int(seconds // 60):02d}:{seconds % 60:04.1f}"


def fps_of(meta: dict) -> int:
    """A rendered video's integer frame rate from its meta's "30/1"."""
    return int(Fraction(meta["fps"]))


def frame_ms(frame: int, fps: int) -> int:
    return round(frame * 1000 / fps)
