"""Track languages as BCP 47, and the track model's round trip."""

from __future__ import annotations

import pytest

from tests.unit.test_subtitles import MASTER
from vodkit.domain.media import StreamInfo
from vodkit.domain.subtitles import TextRendition, hls_master
from vodkit.domain.tracks import (
    Role,
    Skipped,
    TextKind,
    Track,
    TrackSource,
    TrackType,
    is_language_tag,
    language_name,
    language_tag,
    plan_tracks,
)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("eng", "en"), ("fre", "fr"), ("fra", "fr"), ("ger", "de"), ("pt-BR", "pt-BR"),
     ("und", "und"), ("", "und"), (None, "und"), ("x!!", "und"), ("a" * 80, "und")],
)  # fmt: skip
def test_container_tags_become_bcp47(tag: str | None, expected: str) -> None:
    assert language_tag(tag) == expected


@pytest.mark.parametrize("tag", ["en", "pt-BR", "zh-Hans", "es-419"])
def test_well_formed_tags(tag: str) -> None:
    assert is_language_tag(tag)


@pytest.mark.parametrize("tag", ["", "english!", "en_US", "../x", "a" * 40, "en--US"])
def test_malformed_tags(tag: str) -> None:
    assert not is_language_tag(tag)


def test_a_language_is_named_in_its_own_tongue() -> None:
    assert language_name("fr") == "Français"
    assert language_name("en") == "English"
    assert language_name("und") == "Unknown language"


def test_tracks_round_trip() -> None:
    audio = Track(TrackType.AUDIO, "fr", "Français", roles=(Role.DUB,), channels=2, index=2)
    text = Track(TrackType.TEXT, "en", "English SDH", kind=TextKind.CAPTIONS,
                 roles=(Role.CAPTION,), source=TrackSource.SIDECAR)  # fmt: skip
    for track in (audio, text):
        assert Track.from_dict(track.to_dict()) == track
    assert text.public()["source"] == "sidecar" and text.public()["kind"] == "captions"
    skipped = Skipped("text", "hdmv_pgs_subtitle", "en", "a bitmap subtitle", index=3)
    assert Skipped.from_dict(skipped.to_dict()) == skipped
    assert "index" not in skipped.public()


def test_a_subtitle_is_shown_by_default_only_if_forced() -> None:
    """MKV often flags its first subtitle default: subtitles stay off unless forced."""
    flagged = StreamInfo(index=2, type="subtitle", codec="subrip", language="en", default=True)
    forced = StreamInfo(index=3, type="subtitle", codec="ass", language="fr", forced=True)
    tracks = plan_tracks((flagged, forced)).kept
    assert [(t.language, t.default, t.forced) for t in tracks] == [
        ("en", False, False),
        ("fr", True, True),
    ]
    keys = ["captions/en.vtt", "captions/fr.vtt"]
    master = hls_master(MASTER, [TextRendition(t, k) for t, k in zip(tracks, keys, strict=True)])
    media = [line for line in master.splitlines() if "TYPE=SUBTITLES" in line]
    assert "DEFAULT=NO,AUTOSELECT=YES,FORCED=NO" in media[0]
    assert "DEFAULT=YES,AUTOSELECT=YES,FORCED=YES" in media[1]
