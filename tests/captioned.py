"""Sources with text tracks at known times, made from real footage (bigbuckbunny)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import FFMPEG, real_clip
from tests.multitrack import FRENCH_TONE

SECONDS = 4
SRT = """1
00:00:01,000 --> 00:00:02,500
Hello <i>world</i> <script>alert(1)</script>

2
00:00:03,000 --> 00:00:03,900
Second line
"""
ASS = """[Script Info]
ScriptType: v4.00+

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,0,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:01.50,0:00:03.00,Default,,0,0,0,,{\\an8}Bonjour\\Nle {\\i1}monde{\\i0}
"""
# (language, first cue's start, its text as the WebVTT carries it)
EXPECTED = {
    "en": (1.0, "Hello <i>world</i> &lt;script&gt;alert(1)&lt;/script&gt;"),
    "fr": (1.5, "Bonjour\nle monde"),
}


def _ffmpeg(*args: str) -> None:
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args], check=True
    )


def captioned_sources(directory: Path) -> dict[str, Path]:
    """``mkv``: H.264, AAC eng (the film's, default), AAC fra (a ``FRENCH_TONE`` tone),
    SubRip (eng, flagged default, stream 3), ASS (fra, SDH, stream 4); ``mp4``: H.264, AAC,
    mov_text (eng, stream 2). 640x360, ``SECONDS`` long."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "en.srt").write_text(SRT)
    (directory / "fr.ass").write_text(ASS)
    picture = [
        "-t", str(SECONDS), "-i", str(real_clip("bigbuckbunny.mp4")),
        "-c:v", "libx264", "-preset", "ultrafast", "-vf", "scale=640:360",
        "-c:a", "aac", "-ac", "2",
    ]  # fmt: skip
    mkv, mp4 = directory / "captioned.mkv", directory / "captioned.mp4"
    _ffmpeg(
        *picture[:4], "-f", "lavfi", "-t", str(SECONDS), "-i", f"sine=frequency={FRENCH_TONE:g}",
        "-i", str(directory / "en.srt"), "-i", str(directory / "fr.ass"),
        "-map", "0:v", "-map", "0:a", "-map", "1:a", "-map", "2", "-map", "3", *picture[4:],
        "-c:s", "copy",  # the text as written: FFmpeg's decoders drop unknown tags
        "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra",
        "-disposition:a:0", "default", "-disposition:a:1", "0",
        "-metadata:s:s:0", "language=eng", "-metadata:s:s:1", "language=fra",
        # MKV muxers flag the first subtitle default: vodkit still shows none unasked
        "-disposition:s:0", "default", "-disposition:s:1", "hearing_impaired",  # SDH: "captions"
        str(mkv),
    )  # fmt: skip
    _ffmpeg(
        *picture[:4], "-i", str(directory / "en.srt"), "-map", "0:v", "-map", "0:a", "-map", "1",
        *picture[4:], "-c:s", "mov_text", "-metadata:s:s:0", "language=eng", str(mp4),
    )  # fmt: skip
    return {"mkv": mkv, "mp4": mp4}
