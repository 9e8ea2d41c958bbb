"""The text tracks of a MediaConvert job (AWS footprint): caption selectors in, WebVTT out.

Each kept text track of the plan gets one caption selector (``Captions Selector N``, in the
plan's order):

- CEA-608 captions carried in the video: ``EMBEDDED``, channel 1 (CC1) of the one video
  track;
- a text stream of the source (SubRip, WebVTT, MP4's ``mov_text``): its source type
  (``SRT``, ``WEBVTT``, ``TT_3GPP``) and its stream number (libavformat's index + 1: both
  count every stream of the file in order);
- a caption added by the asset's owner (a sidecar track): ``FileSourceSettings`` on the
  sanitised WebVTT vodkit stored at ``captions/{lang}.vtt`` (``services.captions``); so is
  an ASS/SSA stream of the source, which MediaConvert has no source type for: the ingest
  converted it to WebVTT at that key before the job (``services.text_conversion``).

Out, every track is WebVTT twice: an output of the CMAF group (MediaConvert writes its
subtitle playlist into the HLS master and its text AdaptationSet into the MPD, with the
language and the label; ``Accessibility`` for SDH, which adds HLS's CHARACTERISTICS and
DASH's ``caption`` role), and a selected stream's plain download, ``captions/{lang}.vtt``
(``layout.captions``), each in a FILE group of its own (a FILE group names its one output
after its destination: the exact key). Styles are not passed through: cue text is
untrusted and MediaConvert writes it plain.
"""

from __future__ import annotations

import re
from typing import Any

from ...domain import layout
from ...domain.ladder import MEDIACONVERT_CONVERTED_CODECS
from ...domain.plan import TranscodePlan
from ...domain.tracks import UNDETERMINED, TextKind, Track, TrackSource, TrackType

SELECTOR = "Captions Selector {n}"
SOURCE_TYPES = {"subrip": "SRT", "srt": "SRT", "webvtt": "WEBVTT", "mov_text": "TT_3GPP"}
CEA608 = "eia_608"
# CaptionDescription.CustomLanguageCode's pattern in botocore's model: letters only
LANGUAGE_CODE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z-]+)?")
LABEL_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"]")  # a label goes into manifests: one line, unquoted
MAX_LABEL = 100


def text_tracks(plan: TranscodePlan) -> list[Track]:
    """The plan's text tracks a job can select, in order: each gets a selector and outputs."""
    return [
        t
        for t in plan.tracks
        if t.type is TrackType.TEXT
        and (t.source is TrackSource.SIDECAR or (t.index is not None and _selectable(t)))
    ]


def _selectable(track: Track) -> bool:
    return track.codec == CEA608 or track.codec in SOURCE_TYPES or _from_file(track)


def _from_file(track: Track) -> bool:
    """Whether the job reads the track from vodkit's WebVTT of it, at its caption key."""
    return track.source is TrackSource.SIDECAR or track.codec in MEDIACONVERT_CONVERTED_CODECS


def _keys(plan: TranscodePlan) -> list[str]:
    """Each selected track's WebVTT key, as the catalog's captions name it (the asset's text
    tracks in the plan's order: ``services.captions.renditions``)."""
    return layout.text_keys(text_tracks(plan))


def caption_selectors(plan: TranscodePlan, outputs_base: str) -> dict[str, dict[str, Any]]:
    """``Inputs[0].CaptionSelectors``; ``outputs_base`` is ``s3://bucket/{asset}/``, where a
    sidecar track's WebVTT is."""
    selectors: dict[str, dict[str, Any]] = {}
    for n, (track, key) in enumerate(zip(text_tracks(plan), _keys(plan), strict=True), 1):
        source: dict[str, Any]
        if _from_file(track):
            file = {"SourceFile": outputs_base + key}
            source = {"SourceType": "WEBVTT", "FileSourceSettings": file}
        elif track.codec == CEA608:
            source = {
                "SourceType": "EMBEDDED",
                "EmbeddedSourceSettings": {
                    "Source608ChannelNumber": 1,  # CC1: the programme's own captions
                    "Source608TrackNumber": 1,
                    "Convert608To708": "DISABLED",
                },
            }
        else:
            assert track.index is not None  # text_tracks kept only indexed ones
            source = {
                "SourceType": SOURCE_TYPES[track.codec],
                "TrackSourceSettings": {"StreamNumber": track.index + 1},
            }
        selectors[SELECTOR.format(n=n)] = {"SourceSettings": source}
    return selectors


def _description(track: Track, selector: str) -> dict[str, Any]:
    description: dict[str, Any] = {
        "CaptionSelectorName": selector,
        "DestinationSettings": {
            "DestinationType": "WEBVTT",
            "WebvttDestinationSettings": {
                "Accessibility": "ENABLED" if track.kind is TextKind.CAPTIONS else "DISABLED",
                "StylePassthrough": "DISABLED",
            },
        },
    }
    code = _language_code(track.language)
    if code:
        description["CustomLanguageCode"] = code  # RFC 5646 in streaming outputs
    label = " ".join(LABEL_UNSAFE.sub(" ", track.name).split())[:MAX_LABEL]
    if label:
        description["LanguageDescription"] = label
    return description


def _language_code(tag: str) -> str:
    """The tag as the model takes it (``es-419``: ``es``); "" for ``und``."""
    if tag == UNDETERMINED:
        return ""
    if LANGUAGE_CODE.fullmatch(tag):
        return tag
    primary = tag.split("-", 1)[0]
    return primary if LANGUAGE_CODE.fullmatch(primary) else ""


def cmaf_caption_outputs(plan: TranscodePlan) -> list[dict[str, Any]]:
    """One caption-only output per selected track in the CMAF group: WebVTT, listed in the
    HLS master and the MPD by MediaConvert. MediaConvert marks the first one DEFAULT=YES in
    HLS: a default (or forced) track goes first."""
    outputs = []
    for n, (track, key) in enumerate(zip(text_tracks(plan), _keys(plan), strict=True), 1):
        outputs.append(
            (
                not (track.default or track.forced),
                {
                    "NameModifier": "_" + re.sub(r"[./]", "_", _stem(key)),  # en, en_2, sidecar_en
                    "ContainerSettings": {"Container": "CMFC"},
                    "CaptionDescriptions": [_description(track, SELECTOR.format(n=n))],
                },
            )
        )
    return [output for _, output in sorted(outputs, key=lambda o: o[0])]


def _stem(key: str) -> str:
    return key.removeprefix(layout.CAPTIONS).removesuffix(".vtt")


def download_groups(plan: TranscodePlan, outputs_base: str) -> list[dict[str, Any]]:
    """Each selected stream's plain download, ``captions/{lang}.vtt``: a FILE group of one
    output named by its destination. A file the job reads is already there."""
    groups = []
    for n, (track, key) in enumerate(zip(text_tracks(plan), _keys(plan), strict=True), 1):
        if _from_file(track):
            continue
        destination = f"{outputs_base}{layout.CAPTIONS}{_stem(key)}"  # + ".vtt": the key
        groups.append(
            {
                "Name": f"Captions {n}",
                "OutputGroupSettings": {
                    "Type": "FILE_GROUP_SETTINGS",
                    "FileGroupSettings": {"Destination": destination},
                },
                "Outputs": [
                    {
                        "Extension": "vtt",
                        "ContainerSettings": {"Container": "RAW"},
                        "CaptionDescriptions": [_description(track, SELECTOR.format(n=n))],
                    }
                ],
            }
        )
    return groups
