"""The tracks an asset carries beside its picture: audio languages and text (subtitles,
captions), from the source (``embedded``) or added by its owner (``sidecar``); and the
ones a source had that could not be kept (``Skipped``), each with its reason.

Languages are BCP 47 tags throughout (``en``, ``fr``, ``pt-BR``, ``und`` when unknown):
containers tag streams with ISO 639-2 codes (``eng``, ``fre``/``fra``), normalised here.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import langcodes

from .media import StreamInfo

UNDETERMINED = "und"
# Text FFmpeg can read as cues (the text helper turns them into WebVTT) and pictures of text
# (bitmaps), which would need OCR to become WebVTT.
TEXT_CODECS = frozenset({"subrip", "srt", "ass", "ssa", "mov_text", "webvtt", "eia_608"})
BITMAP_CODECS = frozenset({"hdmv_pgs_subtitle", "dvb_subtitle", "dvd_subtitle", "xsub"})
MAX_TAG_LENGTH = 35  # RFC 5646's practical limit for a well-formed tag
# langcodes also reads "en_US" and other spellings; a tag in a URL must be the real form
MAX_NAME = 120  # characters of a track's name in a manifest
TAG_SHAPE = re.compile(r"[A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*")


class TrackType(StrEnum):
    AUDIO = "audio"
    TEXT = "text"


class TrackSource(StrEnum):
    EMBEDDED = "embedded"  # a stream of the upload
    SIDECAR = "sidecar"  # a caption file added through the API or the CLI


class TextKind(StrEnum):
    SUBTITLES = "subtitles"  # the dialogue, translated or transcribed
    CAPTIONS = "captions"  # for the deaf and hard of hearing (SDH): sounds and music too


class Role(StrEnum):
    """What a track is for, as DASH's Role scheme names it (HLS says it in CHARACTERISTICS)."""

    MAIN = "main"
    DUB = "dub"  # the main programme in another language
    ALTERNATE = "alternate"  # another track in the main track's language (a commentary...)
    DESCRIPTION = "description"  # audio description of the picture, for the blind
    SUBTITLE = "subtitle"
    CAPTION = "caption"
    FORCED = "forced-subtitle"  # shown without asking: signs, foreign dialogue


def language_tag(value: str | None) -> str:
    """A container's language tag as BCP 47 (``eng`` -> ``en``, ``fre`` -> ``fr``); ``und``
    for none, for ``und``, or for anything that is not a well-formed tag."""
    value = (value or "").strip()
    if not value or len(value) > MAX_TAG_LENGTH or not langcodes.tag_is_valid(value):
        return UNDETERMINED
    try:
        return str(langcodes.standardize_tag(value))
    except (ValueError, LookupError):
        return UNDETERMINED


def shaped_tag(tag: str) -> str:
    """``tag`` if it has a tag's shape (keys and manifests are made of it), else ``und``."""
    return tag if len(tag) <= MAX_TAG_LENGTH and TAG_SHAPE.fullmatch(tag) else UNDETERMINED


def manifest_text(value: str, limit: int = MAX_NAME) -> str:
    """An untrusted name for a manifest's attribute: one line with no control character (C0,
    DEL, C1) and no double quote (an HLS quoted-string, RFC 8216 4.2), spaces collapsed,
    bounded."""
    cleaned = "".join(" " if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 else c for c in value)
    return " ".join(cleaned.replace('"', "'").split())[:limit]


def quoted(value: str) -> str:
    """``value`` as an HLS quoted-string attribute value."""
    return '"' + manifest_text(value) + '"'


def is_language_tag(value: str) -> bool:
    """Whether ``value`` is a well-formed BCP 47 tag, as a caption's ``{lang}`` must be."""
    if len(value) > MAX_TAG_LENGTH or not TAG_SHAPE.fullmatch(value):
        return False
    return bool(langcodes.tag_is_valid(value))


def language_alpha3(tag: str) -> str:
    """The ISO 639-2 code containers tag a stream with (``fr`` -> ``fra``); ``und``."""
    if tag == UNDETERMINED:
        return UNDETERMINED
    try:
        return str(langcodes.Language.get(tag).to_alpha3())
    except (ValueError, LookupError):
        return UNDETERMINED


def language_name(tag: str) -> str:
    """The language's own name, capitalised as a menu shows it ("Français", "English")."""
    if tag == UNDETERMINED:
        return "Unknown language"
    try:
        name = str(langcodes.Language.get(tag).autonym())
    except (ValueError, LookupError):
        return tag
    return name[:1].upper() + name[1:]


@dataclass(frozen=True)
class Track:
    """One audio or text track of an asset's outputs."""

    type: TrackType
    language: str  # BCP 47
    name: str  # the track's title, else the language's own name
    default: bool = False
    forced: bool = False
    kind: TextKind | None = None  # text tracks only
    roles: tuple[Role, ...] = ()
    channels: int | None = None  # audio tracks only: the source's channels
    source: TrackSource = TrackSource.EMBEDDED
    codec: str = ""  # the source stream's codec (embedded tracks)
    index: int | None = None  # the source stream's index (embedded tracks)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["roles"] = list(self.roles)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Track:
        kind = data.get("kind")
        return cls(
            type=TrackType(data["type"]),
            language=shaped_tag(str(data["language"])),  # keys are made of it: never a path
            name=str(data["name"]),
            default=bool(data.get("default", False)),
            forced=bool(data.get("forced", False)),
            kind=TextKind(kind) if kind else None,
            roles=tuple(Role(r) for r in data.get("roles", ())),
            channels=data.get("channels"),
            source=TrackSource(data.get("source", TrackSource.EMBEDDED)),
            codec=str(data.get("codec", "")),
            index=data.get("index"),
        )

    def public(self) -> dict[str, Any]:
        """What the API and ``assets show`` say of it."""
        return {
            "type": str(self.type),
            "language": self.language,
            "name": self.name,
            "default": self.default,
            "forced": self.forced,
            "kind": str(self.kind) if self.kind else None,
            "roles": [str(r) for r in self.roles],
            "channels": self.channels,
            "source": str(self.source),
        }


@dataclass(frozen=True)
class Skipped:
    """A source track that was not kept, and why (a bitmap subtitle, over the limits...)."""

    type: str  # "audio", "text", or the stream's own type ("data", "attachment")
    codec: str
    language: str
    reason: str
    index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Skipped:
        return cls(**data)

    def public(self) -> dict[str, Any]:
        return {k: v for k, v in self.to_dict().items() if k != "index"}


@dataclass(frozen=True)
class TrackLimits:
    """How many tracks of each type an asset keeps; the rest are skipped, with the reason."""

    max_audio_tracks: int = 8
    max_text_tracks: int = 16
    max_caption_bytes: int = 10 * 1024**2
    max_cues: int = 100_000


@dataclass(frozen=True)
class Tracks:
    """All of an asset's tracks, as planned from its probe and its sidecar captions."""

    kept: tuple[Track, ...] = ()
    skipped: tuple[Skipped, ...] = field(default=())

    def of(self, kind: TrackType) -> list[Track]:
        return [t for t in self.kept if t.type is kind]

    def without_text(self, reason: str) -> Tracks:
        """The text tracks moved to ``skipped``, with ``reason``."""
        text = self.of(TrackType.TEXT)
        gone = [Skipped("text", t.codec, t.language, reason, t.index) for t in text]
        return Tracks(tuple(self.of(TrackType.AUDIO)), (*self.skipped, *gone))


def plan_tracks(streams: tuple[StreamInfo, ...], limits: TrackLimits | None = None) -> Tracks:
    """The source's audio and text tracks as kept and skipped, in the source's order.

    Bitmap subtitles, unknown text formats, data and attachments are skipped, and so is
    every track past the limits, each with its reason. One kept audio track is the
    default: the first the source marks so, else the first kept. A text track is default
    (shown without asking) only if it is forced, whatever the source's default flag says.
    """
    limits = limits or TrackLimits()
    keep: list[tuple[StreamInfo, TrackType]] = []
    skipped: list[Skipped] = []
    caps = {TrackType.AUDIO: limits.max_audio_tracks, TrackType.TEXT: limits.max_text_tracks}
    for stream in streams:
        if stream.type == "video":
            continue
        kind = {"audio": TrackType.AUDIO, "subtitle": TrackType.TEXT}.get(stream.type)
        reason = _unkeepable(stream)
        if kind is not None and not reason and sum(k is kind for _, k in keep) >= caps[kind]:
            reason = f"more {kind} tracks than the limit of {caps[kind]}"
        if kind is None or reason:
            skipped.append(
                Skipped(
                    type=str(kind or stream.type),
                    codec=stream.codec,
                    language=stream.language,
                    reason=reason or f"{stream.type} streams are not kept",
                    index=stream.index,
                )
            )
        else:
            keep.append((stream, kind))
    audio = [s for s, kind in keep if kind is TrackType.AUDIO]
    # the default plays to everyone: never a description, whatever its flag says
    seen = [s for s in audio if not s.visual_impaired] or audio
    default = next((s for s in seen if s.default), seen[0] if seen else None)
    main = default.language if default else UNDETERMINED
    kept = tuple(_track(s, kind, default=s is default, main=main) for s, kind in keep)
    return Tracks(kept=kept, skipped=tuple(skipped))


def _unkeepable(stream: StreamInfo) -> str:
    if stream.type == "audio" and (stream.codec in ("", "none", "unknown") or stream.channels == 0):
        return f"the audio track cannot be decoded (codec {stream.codec or 'unknown'})"
    if stream.type != "subtitle":
        return ""
    if stream.codec in BITMAP_CODECS:
        return "bitmap subtitles (pictures of text) cannot become WebVTT without OCR"
    if stream.codec not in TEXT_CODECS:
        return f"the subtitle format {stream.codec} is not supported"
    return ""


def _track(stream: StreamInfo, kind: TrackType, *, default: bool, main: str) -> Track:
    name = stream.title or language_name(stream.language)
    if kind is TrackType.AUDIO:
        other = Role.DUB if stream.language != main else Role.ALTERNATE
        role = Role.DESCRIPTION if stream.visual_impaired else (Role.MAIN if default else other)
        return Track(
            type=kind,
            language=stream.language,
            name=name,
            default=default,
            roles=(role,),
            channels=stream.channels,
            codec=stream.codec,
            index=stream.index,
        )
    sdh = stream.hearing_impaired or stream.codec == "eia_608"
    roles = (Role.FORCED,) if stream.forced else (Role.CAPTION if sdh else Role.SUBTITLE,)
    return Track(
        type=kind,
        language=stream.language,
        name=name,
        # shown without asking only if forced: a source's default flag (MKV's FlagDefault,
        # often set on the first subtitle) would switch subtitles on for every viewer
        default=stream.forced,
        forced=stream.forced,
        kind=TextKind.CAPTIONS if sdh else TextKind.SUBTITLES,
        roles=roles,
        codec=stream.codec,
        index=stream.index,
    )
