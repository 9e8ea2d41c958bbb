"""An upload's ASS/SSA text tracks as cues, read with PyAV in a sandboxed child (the AWS
footprint's ingest: MediaConvert has no ASS source, and the ingest function has PyAV but no
FFmpeg program).

The child opens the local copy as the prober does (its probed demuxer forced, only the
``file`` protocol) and demuxes it once: subtitle packets are interleaved with the media, so
the whole file is read, but every other stream is discarded unread and nothing is decoded:
an ASS packet is its event's text (libavcodec's form: ``ReadOrder,Layer,Style,Name,MarginL,
MarginR,MarginV,Effect,Text``) and its timing is the packet's. It writes each track as an ASS
events file, cut past the caption size cap; the parent reads it with ``domain.captions``
(override tags stripped, text sanitised, cues capped), trusting nothing the child wrote.
A track that cannot be read is skipped with its reason; the child's wall-clock, CPU and
memory are bounded (``sandbox``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...domain.captions import Cue, parse_captions
from ...domain.errors import InvalidInput
from ...domain.tracks import Skipped, Track, TrackLimits
from .. import sandbox
from .base import TextCues

TIMEOUT = 120.0  # seconds of demuxing: a few GB of Matroska
MEMORY = 1024**3
EVENTS = (
    b"[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
)
NO_CUES = "the track holds no captions"


class PyavTextConverter:
    def __init__(
        self,
        limits: TrackLimits | None = None,
        *,
        timeout: float = TIMEOUT,
        memory_bytes: int = MEMORY,
    ) -> None:
        self.limits = limits or TrackLimits()
        self.sandbox = sandbox.Limits(timeout, memory_bytes, cpu_seconds=int(timeout) + 1)

    def convert(self, source: Path, demuxer: str, tracks: Sequence[Track]) -> TextCues:
        wanted = [t for t in tracks if t.index is not None]
        if not wanted:
            return TextCues({}, ())
        cap = self.limits.max_caption_bytes
        with tempfile.TemporaryDirectory(prefix="vodkit-text-") as tmp:
            out = Path(tmp)
            linked = sandbox.neutral_link(source, out, "input")
            indices = sorted({str(t.index) for t in wanted})
            finished = sandbox.run(
                [sys.executable, "-m", __name__, linked.name, demuxer, str(cap), *indices],
                self.sandbox,
                cwd=out,
                # the child imports what we import (on Lambda, /var/task is on sys.path only)
                env={"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
            )
            if not finished.ok:
                why = (
                    f"reading its text took longer than {self.sandbox.timeout:g} s"
                    if finished.timed_out
                    else f"its text could not be read (the reader stopped with code "
                    f"{finished.returncode})"
                )
                return TextCues({}, tuple(_skip(t, why) for t in wanted))
            return self._read(out, wanted, cap)

    def _read(self, out: Path, tracks: Sequence[Track], cap: int) -> TextCues:
        cues: dict[int, list[Cue]] = {}
        skipped = []
        for track in tracks:
            path = out / f"{track.index}.ass"
            if not path.is_file():
                skipped.append(_skip(track, "its text could not be read"))
            elif path.stat().st_size > cap:  # the child stopped it past the cap
                skipped.append(_skip(track, f"its text is larger than {cap} bytes"))
            else:
                try:
                    found = parse_captions(path.read_bytes(), self.limits)
                except InvalidInput as exc:
                    skipped.append(_skip(track, f"its text could not be read: {exc.message}"))
                    continue
                if found:
                    assert track.index is not None
                    cues[track.index] = found
                else:
                    skipped.append(_skip(track, NO_CUES))
        return TextCues(cues, tuple(skipped))


def _skip(track: Track, reason: str) -> Skipped:
    return Skipped("text", track.codec, track.language, reason, track.index)


def _ass_time(seconds: float) -> bytes:
    centis = max(0, round(seconds * 100))
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6000)
    return f"{hours}:{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}".encode()


def dialogue(packet: bytes, start: float, end: float) -> bytes:
    """An ASS packet (``ReadOrder,Layer,Style,...,Text``) as an events file's line."""
    # one line: a break inside the text is ASS's own \N, never a line of the events file
    one = packet.replace(b"\r\n", b"\\N").replace(b"\r", b"\\N").replace(b"\n", b"\\N")
    parts = one.split(b",", 2)
    if len(parts) < 3:  # not libavcodec's form: kept whole, for the parser to name it
        return b"Dialogue: " + one + b"\n"
    _, layer, rest = parts
    return b"Dialogue: %s,%s,%s,%s\n" % (layer, _ass_time(start), _ass_time(end), rest)


def _extract(name: str, demuxer: str, cap: int, indices: list[int]) -> None:
    import av  # in the child only: the ingest never parses media itself

    container: Any = av.open(
        name, format=demuxer, options={"protocol_whitelist": "file"}, metadata_errors="replace"
    )
    with container:
        streams = [s for s in container.streams if s.index in indices and s.type == "subtitle"]
        if not streams:
            return
        origin = (container.start_time or 0) / 1_000_000  # cue time 0: the file's start
        files = {s.index: open(f"{s.index}.ass", "wb") for s in streams}  # noqa: SIM115
        written = dict.fromkeys(files, 0)
        try:
            for f in files.values():
                f.write(EVENTS)
            for packet in container.demux(streams):
                index = packet.stream.index
                if packet.pts is None or not packet.size or written[index] > cap:
                    continue
                base = float(packet.time_base)
                start = packet.pts * base - origin
                line = dialogue(bytes(packet), start, start + (packet.duration or 0) * base)
                files[index].write(line)
                written[index] += len(line)
                if all(size > cap for size in written.values()):
                    break  # every track is past the cap: skipped, nothing more to read
        finally:
            for f in files.values():
                f.close()


def main(argv: list[str]) -> int:
    name, demuxer, cap, *indices = argv
    _extract(name, demuxer, int(cap), [int(i) for i in indices])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
