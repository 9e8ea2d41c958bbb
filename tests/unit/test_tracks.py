"""Track languages as BCP 47, and the track model's round trip."""

from __future__ import annotations

import pytest

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
