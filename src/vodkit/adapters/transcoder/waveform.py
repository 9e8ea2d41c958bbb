"""An audio-only asset's waveform where no FFmpeg program runs (the AWS status function).

MediaConvert draws no waveform. The status function could not carry FFmpeg either: its
code is one zip with the ingest function's, and imageio-ffmpeg's static FFmpeg (about
170 MB) beside PyAV's libraries (about 130 MB) is over Lambda's 250 MB for unzipped code.
PyAV's libavfilter has ``showwavespic``, so the chain the FFmpeg footprint runs
(``ffmpeg.waveform_filters``, one definition) runs here through PyAV, on the M4A the job
wrote, in a sandboxed child as the prober is: a crash or a memory bomb kills the child.
"""

from __future__ import annotations

import os
import sys
from fractions import Fraction
from pathlib import Path

from ...domain.errors import ErrorCode, TranscodeFailed
from .. import sandbox
from .ffmpeg import waveform_filters, waveform_limits


def draw_waveform(m4a: Path, png: Path, size: tuple[int, int], duration: float) -> None:
    """Draw ``m4a``'s waveform into ``png`` (``size``), in a sandboxed child."""
    finished = sandbox.run(
        [sys.executable, "-m", __name__, str(m4a), str(png), str(size[0]), str(size[1])],
        waveform_limits(duration),
        # the child imports what we import (on Lambda, /var/task is on sys.path only)
        env={"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
    )
    if not finished.ok or not png.is_file():
        reason = "timed out" if finished.timed_out else finished.stderr.strip()[-300:]
        raise TranscodeFailed(
            f"the waveform could not be drawn: {reason}", code=ErrorCode.VERIFICATION_FAILED
        )


# --- the child ---------------------------------------------------------------


def _draw(m4a: Path, png: Path, width: int, height: int) -> None:
    import av

    with av.open(
        str(m4a), format="mov", options={"protocol_whitelist": "file"}
    ) as container:  # vodkit's own M4A, still read as the FFmpeg path reads it
        stream = container.streams.audio[0]
        graph = av.filter.Graph()
        node = graph.add_abuffer(template=stream)
        first = node
        for name, options in waveform_filters(width, height):
            following = graph.add(name, options)
            node.link_to(following)
            node = following
        sink = graph.add("buffersink")
        node.link_to(sink)
        graph.configure()
        for frame in container.decode(stream):
            first.push(frame)
        first.push(None)
        picture = graph.vpull()
    picture.pts, picture.time_base = 0, Fraction(1, 1)
    with av.open(str(png), "w", format="image2") as output:
        encoded = output.add_stream("png", rate=1)
        encoded.width, encoded.height, encoded.pix_fmt = width, height, "rgba"
        for packet in [*encoded.encode(picture.reformat(format="rgba")), *encoded.encode(None)]:
            output.mux(packet)


def main(argv: list[str]) -> int:
    m4a, png, width, height = argv
    _draw(Path(m4a), Path(png), int(width), int(height))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
