"""Frame sampling with PyAV: N frames evenly over the 5%-95% span, fitted to a pixel budget.

Decoding streams through the clip and keeps only the chosen frames, seeking ahead when the
next target is far away, so memory stays flat however long the clip is.
"""

from __future__ import annotations

from fractions import Fraction
from typing import BinaryIO

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from videolake.generators.base import SampledClip

SPAN = (0.05, 0.95)
WHOLE = (0.0, 1.0)
SEEK_GAP_SECONDS = 4.0  # closer targets are reached faster by decoding on than by seeking
# Demuxers of raw elementary streams: their declared durations are estimates from the bitrate
# (an MPEG-1 stream of 3.2 s was seen declaring 0.04 s), and H.264/HEVC ones carry no timestamps.
ELEMENTARY_STREAM_FORMATS = {"mpegvideo", "h264", "hevc", "vvc", "m4v", "cavsvideo", "vc1", "h263", "obu", "mjpeg"}
FROZEN_GAP_SECONDS = 1.0  # a picked frame shown this long (and 4 slots' worth) is a freeze, not a short clip


class SourceError(Exception):
    """A clip that cannot give a sample; the message is the reason in the build report."""


class TooFewDistinctFrames(SourceError):
    """The span gave fewer distinct frames than targets: the clip is short, frozen, or its
    container misstates its length (which a packet scan tells)."""


def output_size(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """Largest even size inside the budget that keeps the aspect ratio (never upscales)."""
    scale = min(1.0, max_width / width, max_height / height)
    w = min(max(2, round(width * scale / 2) * 2), max_width // 2 * 2)
    h = min(max(2, round(height * scale / 2) * 2), max_height // 2 * 2)
    return w, h


def _rotate(image: np.ndarray, degrees: int) -> np.ndarray:
    """Apply the display matrix: PyAV reports counter-clockwise degrees."""
    turns = round(degrees / 90) % 4
    return np.ascontiguousarray(np.rot90(image, k=turns)) if turns else image


def _declared_span(container, stream) -> tuple[float, float] | None:
    """(start, duration) in seconds as the stream or the container declares it, if either does."""
    start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    if stream.duration:
        return start, float(stream.duration * stream.time_base)
    if container.duration:
        return start, container.duration / av.time_base
    return None


def _scanned_span(container) -> tuple[float, float]:
    """(start, duration) measured from the packets: their timestamps, or for streams without any
    (raw H.264/HEVC) their count times the frame duration."""
    stream = container.streams.video[0]
    first = last = None
    packets, frame_seconds = 0, _frame_seconds(stream)
    for packet in container.demux(stream):
        if packet.size == 0:
            continue  # the demuxer's end-of-stream flush packet
        packets += 1
        if packet.pts is not None:
            begin = float(packet.pts * stream.time_base)
            end = float((packet.pts + (packet.duration or 0)) * stream.time_base)
            first = begin if first is None else min(first, begin)
            last = end if last is None else max(last, end)
    if last is not None:
        return first, last - first
    if packets and frame_seconds:
        return 0.0, packets * frame_seconds
    raise SourceError("no timestamps and no frame rate: cannot tell the duration")


def _frame_seconds(stream) -> float | None:
    rate = stream.average_rate or stream.guessed_rate
    return 1 / float(rate) if rate else None


def _open(source: str | BinaryIO):
    if not isinstance(source, str):
        source.seek(0)
    try:
        return av.open(source)
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as err:
        raise SourceError(f"not a readable video: {err}") from err


def sample_clip(
    source: str | BinaryIO,
    num_frames: int = 48,
    density: int = 1,
    max_size: tuple[int, int] = (448, 448),
    whole: bool = False,
) -> SampledClip:
    """``whole``: sample the whole video instead of its 5%-95% span, so that slot times are the
    video's own clock (annotated samples give times on it)."""
    span = WHOLE if whole else SPAN
    declared, error = None, None
    try:
        with _open(source) as container:
            if not container.streams.video:
                raise SourceError("no video stream (audio-only or not a video)")
            elementary = bool(set(container.format.name.split(",")) & ELEMENTARY_STREAM_FORMATS)
            declared = None if elementary else _declared_span(container, container.streams.video[0])
            if declared is not None:
                try:
                    return _sample(container, declared, num_frames, density, max_size, span)
                except TooFewDistinctFrames as err:
                    error = err  # maybe the container misstates the length: the packets tell
        # No declaration, one not to trust, or one that gave too few frames: measure the span
        # from the packets, then decode afresh (raw elementary streams cannot seek back).
        with _open(source) as container:
            scanned = _scanned_span(container)
        if error is not None and scanned[1] <= declared[1] * 1.05:
            raise error  # the declaration was right: the clip itself is short or frozen
        with _open(source) as container:
            return _sample(container, scanned, num_frames, density, max_size, span)
    except av.error.FFmpegError as err:
        raise SourceError(f"decode failed: {err}") from err


def _sample(
    container,
    declared: tuple[float, float],
    num_frames: int,
    density: int,
    max_size: tuple[int, int],
    fraction: tuple[float, float] = SPAN,
) -> SampledClip:
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    start, duration = declared
    if duration <= 0:
        raise SourceError("zero duration")
    total = num_frames * density
    span_start, span = start + fraction[0] * duration, (fraction[1] - fraction[0]) * duration
    targets = span_start + span * np.arange(total) / total

    picked: list[np.ndarray] = []
    times: list[float] = []
    size = None
    previous = None  # (time, frame) of the last decoded frame before the next target
    # One scaler for the clip, on this thread: a per-frame reformat builds a new swscale context
    # (and thread pool) for every frame, which cost as much as decoding on small clips. Same pixels.
    reformatter = VideoReformatter()

    def keep(frame, time):
        nonlocal size
        rotation = int(frame.rotation or 0)
        if size is None:
            shown_w, shown_h = (frame.height, frame.width) if rotation % 180 else (frame.width, frame.height)
            w, h = output_size(shown_w, shown_h, *max_size)
            size = (h, w) if rotation % 180 else (w, h)
        image = reformatter.reformat(
            frame, width=size[0], height=size[1], format="rgb24", interpolation="AREA", threads=1
        ).to_ndarray()
        picked.append(_rotate(image, rotation))
        times.append(time)

    position, decoded, frame_seconds = start, 0, _frame_seconds(stream)
    seekable = True  # not for streams without timestamps: their frames are timed by count
    while len(picked) < total:
        if seekable and targets[len(picked)] - position > SEEK_GAP_SECONDS:
            container.seek(int(targets[len(picked)] / stream.time_base), stream=stream, backward=True, any_frame=False)
            previous = None
        picked_before = len(picked)
        for frame in container.decode(stream):
            if frame.pts is not None:
                time = float(frame.pts * stream.time_base)
            elif frame_seconds:
                time, seekable = start + decoded * frame_seconds, False
            else:
                continue
            decoded += 1
            position = time
            while len(picked) < total and time >= targets[len(picked)]:
                target = targets[len(picked)]
                if previous is not None and target - previous[0] < time - target:
                    keep(previous[1], previous[0])
                else:
                    keep(frame, time)
            previous = (time, frame)
            # Seek only once this pass has picked something: a keyframe far before the target must not loop.
            if seekable and picked_before < len(picked) < total and targets[len(picked)] - time > SEEK_GAP_SECONDS:
                break
        else:
            break  # end of stream
    if len(picked) < total:
        if (
            previous is not None and len(picked) >= total - density
        ):  # the span's last target can fall past the final frame
            while len(picked) < total:
                keep(previous[1], previous[0])
        else:
            raise SourceError(
                f"truncated or unreadable: decoded {len(picked)} of {total} sampled frames (clip ends near {position:.2f}s of {start + duration:.2f}s)"
            )
    frames = np.stack(picked)
    source_times = np.asarray(times)
    distinct_times = np.unique(source_times[::density])
    if len(distinct_times) < num_frames:
        held = float(np.max(np.diff(distinct_times), initial=0.0))
        if held >= max(FROZEN_GAP_SECONDS, 4 * span / num_frames):
            raise TooFewDistinctFrames(
                f"a frozen stretch: {len(distinct_times)} distinct frames for {num_frames} targets (one frame is held for {held:.1f} s)"
            )
        raise TooFewDistinctFrames(
            f"too short: {len(distinct_times)} distinct frames in the {'whole video' if fraction == WHOLE else '5-95% span'}, need {num_frames}"
        )
    fps = (Fraction(num_frames) / Fraction(span).limit_denominator(1_000_000)).limit_denominator(1000)
    return SampledClip(frames=frames, source_times=source_times, density=density, fps=fps)


def sample_image_sequence(
    folder: str, names: list[str], num_frames: int, max_size: tuple[int, int], fps: int
) -> SampledClip:
    """A sequence stored as image files (GOT-10k): ``num_frames`` evenly over it, first and last
    included (all of them when it is shorter), at the pixel budget; slot i is image ``index``, shown
    at ``index / fps`` on the sequence's own clock."""
    from PIL import Image, UnidentifiedImageError

    if not names:
        raise SourceError("no frames")
    count = min(num_frames, len(names))
    chosen = [round(i * (len(names) - 1) / max(1, count - 1)) for i in range(count)]
    frames, size, original = [], None, None
    for index in chosen:
        try:
            with Image.open(f"{folder}/{names[index]}") as image:
                image = image.convert("RGB")
                original = original or image.size
                size = size or output_size(*image.size, *max_size)
                frames.append(np.asarray(image.resize(size, Image.BILINEAR) if image.size != size else image))
        except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as err:
            raise SourceError(f"frame {names[index]}: {err}") from err
    if any(f.shape != frames[0].shape for f in frames):
        raise SourceError("frames of different sizes")
    times = np.asarray(chosen, float) / fps
    step = Fraction(len(names) - 1, max(1, count - 1))
    return SampledClip(
        frames=np.stack(frames),
        source_times=times,
        density=1,
        fps=Fraction(fps) / step if step else Fraction(fps),
        source_size=original,
    )
