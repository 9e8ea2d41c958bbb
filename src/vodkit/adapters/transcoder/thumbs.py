"""Thumbnails: choosing the poster, describing the scrub sprite.

The poster is chosen among frames spread over the whole video (FFmpeg writes
them in the same run): the one with the most contrast wins, and black, white
or flat frames (fades, title cards, slates) lose to any frame with a picture.
The sprite's WebVTT gives each interval of the video its tile, as
``sprite.jpg#xywh=x,y,w,h`` (``sprite-2.jpg``... past the first sheet's 100
tiles), which is what players read to preview seeking.
Where no FFmpeg runs (MediaConvert writes the tiles as single JPEGs), PyAV's
``tile`` filter sheets them.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from ...domain.errors import ErrorCode, TranscodeFailed
from ...domain.plan import SpritePlan

if TYPE_CHECKING:
    import av

SAMPLE = (64, 36)  # candidates are judged on a small grey copy
DARK, BRIGHT = 24, 235  # mean luma outside this range: a blank frame


def frame_score(path: Path) -> float:
    """Contrast (luma standard deviation); near-blank frames score a tenth."""
    import av  # our own JPEGs, written by FFmpeg in the work directory

    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
    grey = frame.reformat(width=SAMPLE[0], height=SAMPLE[1], format="gray")
    plane = grey.planes[0]
    data = bytes(plane)
    pixels = [
        value
        for row in range(SAMPLE[1])
        for value in data[row * plane.line_size : row * plane.line_size + SAMPLE[0]]
    ]
    mean = sum(pixels) / len(pixels)
    deviation = math.sqrt(sum((p - mean) ** 2 for p in pixels) / len(pixels))
    return deviation if DARK <= mean <= BRIGHT else deviation / 10


def choose_poster(candidates: Path, poster: Path) -> None:
    frames = sorted(candidates.glob("*.jpg"))
    if not frames:
        raise TranscodeFailed(
            "no frame could be taken for the poster", code=ErrorCode.VERIFICATION_FAILED
        )
    best = max(frames, key=frame_score)
    poster.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(best, poster)


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def sprite_vtt(sprite: SpritePlan, duration: float, count: int | None = None) -> str:
    """Cues for the first ``count`` tiles (default: all the plan expects)."""
    tiles = sprite.count if count is None else count
    lines = ["WEBVTT", ""]
    for index in range(tiles):
        start = index * sprite.interval
        end = duration if index == tiles - 1 else min(duration, start + sprite.interval)
        sheet, x, y = sprite.place(index)
        lines += [
            f"{_timestamp(start)} --> {_timestamp(end)}",
            f"{sheet}#xywh={x},{y},{sprite.tile_width},{sprite.tile_height}",
            "",
        ]
    return "\n".join(lines)


def sheet_tiles(tiles: Sequence[Path], sprite: SpritePlan, directory: Path) -> int:
    """Lay out ``tiles`` (JPEGs, in time order) on the plan's sheets in ``directory``;
    return how many tiles were used."""
    import av  # JPEGs written by our own MediaConvert job, not an upload

    size = (sprite.tile_width, sprite.tile_height)
    graph = av.filter.Graph()
    source = graph.add_buffer(
        width=size[0],
        height=size[1],
        format=av.VideoFormat("yuvj420p"),
        time_base=Fraction(1, 1),
    )
    grid = graph.add("tile", f"{sprite.columns}x{sprite.rows}")
    sink = graph.add("buffersink")
    source.link_to(grid)
    grid.link_to(sink)
    graph.configure()
    used = tiles[: sprite.count]
    written = 0

    def write_finished_sheets() -> None:
        nonlocal written
        while True:
            try:
                sheet = graph.vpull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            _write_jpeg(sheet, directory / sprite.sheet_name(written))
            written += 1

    for index, path in enumerate(used):
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
        frame = frame.reformat(width=size[0], height=size[1], format="yuvj420p")
        frame.pts, frame.time_base = index, Fraction(1, 1)
        graph.push(frame)
        write_finished_sheets()  # one sheet in memory at a time, however long the video
    graph.push(None)  # a last sheet with empty cells is still emitted
    write_finished_sheets()
    return len(used)


def _write_jpeg(frame: av.VideoFrame, path: Path) -> None:
    import av

    frame.pts = None
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="image2") as output:
        stream = output.add_stream("mjpeg", rate=1)
        stream.width, stream.height, stream.pix_fmt = frame.width, frame.height, "yuvj420p"
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            output.mux(packet)
