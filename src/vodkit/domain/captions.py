"""Caption files, told by their content: SubRip, WebVTT and ASS/SSA in, sanitised WebVTT out.

Everything here is untrusted: an upload's text track or a caption file its owner sent.
The format is read from the text itself (never a name or a content type); cue text keeps
only ``<b>``, ``<i>``, ``<u>`` and ``<v Name>``, every other ``<``, ``>`` and ``&`` is
escaped, so a cue is shown as text by every player; sizes and cue counts are capped.
What cannot be read is refused with ``InvalidCaptions``, naming the first bad line.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import InvalidInput, LimitExceeded
from .tracks import TrackLimits

EXCERPT = 40  # characters of a bad line quoted in an error
# C0 controls other than tab, line feed, form feed and carriage return: never in text
BINARY = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
TIMESTAMP = r"(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})[.,](\d{1,3})"
TIMING = re.compile(rf"\s*{TIMESTAMP}\s*-->\s*{TIMESTAMP}(.*)")
ASS_TIME = re.compile(r"(\d{1,2}):(\d{2}):(\d{2})[.:](\d{1,3})")
# WebVTT's cue settings, each as the spec allows it: anything else is dropped
SETTING = re.compile(
    r"vertical:(?:rl|lr)|line:-?\d+(?:\.\d+)?%?(?:,(?:start|center|end))?"
    r"|position:\d+(?:\.\d+)?%(?:,(?:line-left|center|line-right))?"
    r"|size:\d+(?:\.\d+)?%|align:(?:start|center|end|left|right)"
)
# the tags a cue keeps; a voice's name may hold no markup
KEPT_TAG = re.compile(r"<(/?)([biu])>|<v(?:\.[\w.-]+)?[ \t]+([^<>\n]{1,100})>|</v>", re.I)
# SubRip's styling that WebVTT lacks: font tags and ASS overrides, dropped (their text kept)
SUBRIP_STYLE = re.compile(r"\{\\[^{}]*\}|</?font\b[^<>]*>", re.I)


@dataclass(frozen=True)
class Cue:
    start: float  # seconds, from the start of the source
    end: float
    text: str  # sanitised WebVTT cue text, lines joined by "\n", never a blank line
    settings: str = ""  # WebVTT cue settings, validated


class InvalidCaptions(InvalidInput):
    """A caption file that is binary or cannot be read; ``line`` is the first bad one."""

    def __init__(self, line: int, excerpt: str, why: str) -> None:
        shown = escaped_excerpt(excerpt)
        super().__init__(f"line {line} {why}: {shown}" if shown else f"line {line} {why}")
        self.line = line


def escaped_excerpt(text: str) -> str:
    """A short, printable, quoted excerpt of untrusted text, for a message."""
    short = text[:EXCERPT] + ("…" if len(text) > EXCERPT else "")
    return ascii(short) if short else ""


def parse_captions(data: bytes, limits: TrackLimits | None = None) -> list[Cue]:
    """The cues of a SubRip, WebVTT or ASS/SSA file, by their start; refuses what is
    binary, unreadable (``InvalidCaptions``) or over the limits (``LimitExceeded``)."""
    limits = limits or TrackLimits()
    if len(data) > limits.max_caption_bytes:
        raise LimitExceeded(
            f"the captions are {len(data)} bytes, over the limit of {limits.max_caption_bytes}"
        )
    lines = decode(data).splitlines()
    for number, line in enumerate(lines, 1):
        if BINARY.search(line):
            raise InvalidCaptions(number, line, "is binary, not text")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise InvalidCaptions(1, "", "is empty: the file holds no captions")
    head = lines[first].strip()
    if re.fullmatch(r"WEBVTT(?:[ \t].*)?", head):
        cues = _webvtt(lines, first)
    elif head.lower() in ("[script info]", "[v4+ styles]", "[v4 styles]", "[events]"):
        cues = _ass(lines)
    else:
        cues = _subrip(lines)
    cues = sorted(set(cues), key=lambda c: (c.start, c.end, c.text))
    if len(cues) > limits.max_cues:
        raise LimitExceeded(
            f"the captions hold {len(cues)} cues, over the limit of {limits.max_cues}"
        )
    return cues


def decode(data: bytes) -> str:
    """UTF-8 (with or without its BOM), UTF-16 with a BOM, else Windows-1252 as old
    SubRip files are; never fails (binary content is caught line by line)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def _seconds(hours: str | None, minutes: str, seconds: str, fraction: str) -> float:
    return (
        int(hours or 0) * 3600
        + int(minutes) * 60
        + int(seconds)
        + int(fraction.ljust(3, "0")) / 1000
    )


def _timing(line: str, number: int) -> tuple[float, float, str] | None:
    found = TIMING.fullmatch(line)
    if not found:
        return None
    groups = found.groups()
    start, end = _seconds(*groups[0:4]), _seconds(*groups[4:8])
    if end < start:
        raise InvalidCaptions(number, line, "ends before it starts")
    return start, end, groups[8]


def _blocks(lines: list[str], start: int) -> Iterable[tuple[int, list[str]]]:
    """Runs of non-blank lines, each with the (1-based) number of its first line."""
    block: list[str] = []
    for number, line in enumerate(lines[start:], start + 1):
        if line.strip():
            if not block:
                first = number
            block.append(line)
        elif block:
            yield first, block
            block = []
    if block:
        yield first, block


def _subrip(lines: list[str]) -> list[Cue]:
    cues = []
    for number, block in _blocks(lines, 0):
        if block[0].strip().isdigit() and len(block) > 1:
            number, block = number + 1, block[1:]
        timing = _timing(block[0], number)
        if timing is None:
            raise InvalidCaptions(number, block[0], "is not a SubRip cue timing")
        text = sanitise(SUBRIP_STYLE.sub("", "\n".join(block[1:])))
        cues.append(Cue(timing[0], timing[1], text))
    return [cue for cue in cues if cue.text and cue.end > cue.start]


def _webvtt(lines: list[str], header: int) -> list[Cue]:
    cues = []
    for number, block in _blocks(lines, header):
        if number == header + 1 or re.match(r"(NOTE|STYLE|REGION)(\s|$)", block[0]):
            continue  # the header block, comments, style sheets, regions
        if "-->" not in block[0] and len(block) > 1 and "-->" in block[1]:
            number, block = number + 1, block[1:]  # the cue's identifier
        timing = _timing(block[0], number)
        if timing is None:
            raise InvalidCaptions(number, block[0], "is not a WebVTT cue timing")
        settings = " ".join(s for s in timing[2].split() if SETTING.fullmatch(s))
        text = sanitise("\n".join(block[1:]), entities=True)
        cues.append(Cue(timing[0], timing[1], text, settings))
    return [cue for cue in cues if cue.text and cue.end > cue.start]


def _ass(lines: list[str]) -> list[Cue]:
    cues, fields, in_events = [], ["layer", "start", "end", "style", "name", "marginl",
                                   "marginr", "marginv", "effect", "text"], False  # fmt: skip
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_events = stripped.lower() == "[events]"
            continue
        key, _, value = stripped.partition(":")
        if not in_events or not _:
            continue
        if key.lower() == "format":
            fields = [f.strip().lower() for f in value.split(",")]
            if not {"start", "end", "text"} <= set(fields):
                raise InvalidCaptions(number, line, "is not an ASS events format")
        elif key.lower() == "dialogue":
            values = dict(zip(fields, value.split(",", len(fields) - 1), strict=False))
            start, end = (_ass_time(values.get(k, "")) for k in ("start", "end"))
            if "text" not in values or start is None or end is None:
                raise InvalidCaptions(number, line, "is not an ASS dialogue line")
            text = sanitise(_ass_text(values["text"]))
            if text and end > start:
                cues.append(Cue(start, end, text))
    return cues


def _ass_time(value: str) -> float | None:
    """``H:MM:SS.cc`` (centiseconds) in seconds."""
    found = ASS_TIME.fullmatch(value.strip())
    if not found:
        return None
    hours, minutes, seconds, fraction = found.groups()
    return _seconds(hours, minutes, seconds, fraction.ljust(2, "0")[:2] + "0")


def _ass_text(text: str) -> str:
    """ASS event text as plain text: override blocks and drawings dropped, breaks kept."""
    kept, drawing = [], False
    for piece in re.split(r"(\{[^{}]*\})", text):
        if piece.startswith("{") and piece.endswith("}"):
            scale = re.findall(r"\\p(\d+)", piece)
            drawing = bool(scale) and scale[-1] != "0" if scale else drawing
        elif not drawing:
            kept.append(piece)
    return "".join(kept).replace("\\N", "\n").replace("\\n", "\n").replace("\\h", " ")


def sanitise(text: str, *, entities: bool = False) -> str:
    """Cue text as WebVTT that every player shows as text: ``<b>``, ``<i>``, ``<u>`` and
    ``<v Name>`` kept (lower-cased), every other ``<``, ``>`` and ``&`` escaped; WebVTT's own
    entities read first (``entities``), so they are not escaped twice; no blank lines."""

    def escape(piece: str) -> str:
        piece = html.unescape(piece) if entities else piece
        return piece.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    out, position = [], 0
    for tag in KEPT_TAG.finditer(text):
        out.append(escape(text[position : tag.start()]))
        if tag.group(2):
            out.append(f"<{tag.group(1)}{tag.group(2).lower()}>")
        elif tag.group(3):
            out.append(f"<v {escape(tag.group(3).strip())}>")
        else:
            out.append("</v>")
        position = tag.end()
    out.append(escape(text[position:]))
    lines = (line.strip() for line in "".join(out).splitlines())
    return "\n".join(line for line in lines if line)


def timestamp(seconds: float) -> str:
    millis = max(0, round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def to_webvtt(cues: Iterable[Cue], *, mpegts: int | None = None) -> str:
    """A WebVTT file of ``cues``; with ``mpegts``, an ``X-TIMESTAMP-MAP`` that puts the
    cue time 0 at that 90 kHz time of the stream (HLS: see ``domain.subtitles``)."""
    lines = ["WEBVTT"]
    if mpegts is not None:
        lines.append(f"X-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:00:00:00.000")
    lines.append("")
    for cue in cues:
        settings = f" {cue.settings}" if cue.settings else ""
        lines += [f"{timestamp(cue.start)} --> {timestamp(cue.end)}{settings}", cue.text, ""]
    return "\n".join(lines) + "\n"
