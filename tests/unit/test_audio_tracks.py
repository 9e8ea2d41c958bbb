"""A source's tracks: probed (tags normalised and made safe), kept or skipped within the
limits, and each kept audio track a member of every audio group of the outputs."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import av
import pytest

from tests.fakes import HD
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.probe.pyav import MAX_TITLE, _closed_captions, _streams
from vodkit.adapters.transcoder.cmaf import RungStats, master_playlist, quoted
from vodkit.adapters.transcoder.ffmpeg import adaptation_sets, build_command, filter_graph
from vodkit.domain.asset import Asset
from vodkit.domain.ladder import PlanningRules, plan_transcode
from vodkit.domain.media import StreamInfo
from vodkit.domain.tracks import (
    Role,
    Skipped,
    Track,
    TrackLimits,
    TrackType,
    language_alpha3,
    language_name,
    language_tag,
    plan_tracks,
)
from vodkit.domain.view import AssetView

PRESETS = load_presets(default_presets_path())
D = av.stream.Disposition


def fake_stream(index: int, type: str, codec: str, disposition: Any = 0, **tags: str) -> Any:
    """What ``_streams`` reads of a PyAV stream."""
    context = SimpleNamespace(codec=SimpleNamespace(canonical_name=codec), channels=2)
    return SimpleNamespace(
        index=index, type=type, codec_context=context, metadata=tags, disposition=D(disposition),
        duration=150 * index, time_base=Fraction(1, 100),
    )  # fmt: skip


def audio(index: int, language: str, **kw: Any) -> StreamInfo:
    return StreamInfo(index, "audio", "aac", language, channels=2, **kw)


def text(index: int, codec: str = "subrip", language: str = "en", **kw: Any) -> StreamInfo:
    return StreamInfo(index, "subtitle", codec, language, **kw)


def test_the_probe_normalises_languages_and_reads_dispositions() -> None:
    container = SimpleNamespace(
        streams=[
            fake_stream(0, "video", "h264"),
            fake_stream(1, "audio", "ac3", D.default, language="eng", title="English"),
            fake_stream(2, "audio", "aac", 0, language="fre"),
            fake_stream(3, "audio", "aac", D.visual_impaired, language="fra", title="AD"),
            fake_stream(4, "audio", "aac", 0, language="pt-br"),
            fake_stream(5, "subtitle", "subrip", D.forced | D.hearing_impaired, language="xx!"),
            fake_stream(6, "attachment", "ttf"),
        ]
    )
    found = _streams(container)
    assert [(s.index, s.language) for s in found] == [
        (1, "en"), (2, "fr"), (3, "fr"), (4, "pt-BR"), (5, "und"), (6, "und"),
    ]  # fmt: skip
    assert found[0].default and found[0].title == "English" and found[0].channels == 2
    assert found[1].duration == 3.0
    assert found[2].visual_impaired and not found[1].default
    assert found[4].forced and found[4].hearing_impaired and found[4].channels is None
    assert [s.type for s in found] == ["audio"] * 4 + ["subtitle", "attachment"]


def test_a_hostile_title_is_bounded_and_stripped_of_control_characters() -> None:
    title = 'Evil"\r\n#EXT-X-MEDIA:URI="x"\x00\x1b[31m\u2028' + "A" * 10_000
    (stream,) = _streams(
        SimpleNamespace(streams=[fake_stream(1, "audio", "aac", 0, title=title, language="e" * 99)])
    )
    assert len(stream.title) <= MAX_TITLE and stream.language == "und"
    assert not any(ord(c) < 0x20 or c == "\u2028" for c in stream.title)
    assert stream.title.startswith('Evil" #EXT-X-MEDIA:URI="x" [31m')


def test_language_tags_and_names() -> None:
    assert [language_tag(t) for t in ("eng", "fre", "fra", "ger", "und", "", None, "zzzzzzzzz")] == [
        "en", "fr", "fr", "de", "und", "und", "und", "und",
    ]  # fmt: skip
    assert language_name("fr") == "Français" and language_name("en") == "English"
    assert language_alpha3("fr") == "fra" and language_alpha3("und") == "und"


def test_bitmap_subtitles_and_other_streams_are_skipped_with_their_reasons() -> None:
    streams = (
        audio(1, "en", default=True),
        text(2, "subrip"),
        text(3, "ass", "fr"),
        text(4, "hdmv_pgs_subtitle"),
        text(5, "dvb_subtitle", "de"),
        text(6, "dvd_subtitle"),
        StreamInfo(7, "attachment", "ttf"),
        StreamInfo(8, "data", "bin_data"),
    )
    tracks = plan_tracks(streams)
    assert [(t.type, t.index, t.codec) for t in tracks.kept] == [
        (TrackType.AUDIO, 1, "aac"), (TrackType.TEXT, 2, "subrip"), (TrackType.TEXT, 3, "ass"),
    ]  # fmt: skip
    assert [(s.index, s.type) for s in tracks.skipped] == [
        (4, "text"), (5, "text"), (6, "text"), (7, "attachment"), (8, "data"),
    ]  # fmt: skip
    assert all("OCR" in s.reason for s in tracks.skipped[:3])
    assert tracks.skipped[1].public() == {
        "type": "text",
        "codec": "dvb_subtitle",
        "language": "de",
        "reason": "bitmap subtitles (pictures of text) cannot become WebVTT without OCR",
    }


def test_tracks_over_the_limits_are_skipped_in_the_sources_order() -> None:
    streams = tuple(audio(i, "en") for i in range(1, 11)) + tuple(text(i) for i in range(11, 31))
    tracks = plan_tracks(streams)  # by default 8 audio and 16 text tracks
    assert [t.index for t in tracks.of(TrackType.AUDIO)] == list(range(1, 9))
    assert [t.index for t in tracks.of(TrackType.TEXT)] == list(range(11, 27))
    assert [(s.index, s.reason) for s in tracks.skipped] == [
        *((i, "more audio tracks than the limit of 8") for i in (9, 10)),
        *((i, "more text tracks than the limit of 16") for i in range(27, 31)),
    ]
    fewer = plan_tracks(streams, TrackLimits(max_audio_tracks=1, max_text_tracks=0))
    assert [t.index for t in fewer.kept] == [1] and len(fewer.skipped) == 29


def test_the_default_audio_track_is_the_sources_default_else_the_first() -> None:
    marked = plan_tracks((audio(1, "fr"), audio(2, "en", default=True), audio(3, "de")))
    assert [(t.index, t.default, t.roles) for t in marked.kept] == [
        (1, False, (Role.DUB,)), (2, True, (Role.MAIN,)), (3, False, (Role.DUB,)),
    ]  # fmt: skip
    unmarked = plan_tracks((audio(1, "fr"), audio(2, "en", visual_impaired=True)))
    assert [(t.default, t.roles) for t in unmarked.kept] == [
        (True, (Role.MAIN,)), (False, (Role.DESCRIPTION,)),
    ]  # fmt: skip
    assert [t.name for t in unmarked.kept] == ["Français", "English"]  # no title: the language's


BILINGUAL = replace(
    HD,
    container="matroska,webm",
    streams=(
        audio(1, "fr", title='Fran\u00e7ais "VF"\n#EXT-X-ENDLIST'),
        audio(2, "en", default=True, title="English"),
        audio(3, "en", visual_impaired=True, title="English"),  # same name: made unique
        text(4, "hdmv_pgs_subtitle"),
    ),
)


def master(plan: Any) -> str:
    stats = {name: RungStats("avc1.64001f", 1_000_000, 900_000) for name in
             [*(v.name for v in plan.video), *(a.name for a in plan.audio)]}  # fmt: skip
    return master_playlist(plan, stats)


def test_every_audio_group_has_every_track_with_its_hls_attributes() -> None:
    plan = plan_transcode(BILINGUAL, PRESETS)
    groups = sorted({a.group_id for a in plan.audio})
    assert len(plan.audio) == 3 * len(groups) and groups == ["audio_128k", "audio_96k"]
    assert [a.name for a in plan.audio if a.group_id == "audio_128k"] == [
        "audio_128k_fr",
        "audio_128k",
        "audio_128k_en",
    ]  # fmt: skip; the default track keeps the group's name: one-track sources are unchanged
    lines = master(plan).splitlines()
    media = [line for line in lines if line.startswith("#EXT-X-MEDIA:")]
    assert media[:3] == [
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio_128k",LANGUAGE="fr",'
        "NAME=\"Fran\u00e7ais 'VF' #EXT-X-ENDLIST\",DEFAULT=NO,AUTOSELECT=YES,"
        'CHANNELS="2",URI="audio_128k_fr/index.m3u8"',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio_128k",LANGUAGE="en",NAME="English",'
        'DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio_128k/index.m3u8"',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio_128k",LANGUAGE="en",NAME="English (2)",'
        'DEFAULT=NO,AUTOSELECT=YES,CHANNELS="2",'
        'CHARACTERISTICS="public.accessibility.describes-video",URI="audio_128k_en/index.m3u8"',
    ]
    assert sum("DEFAULT=YES" in line for line in media) == len(groups)  # one per group
    variants = [line for line in lines if line.startswith("#EXT-X-STREAM-INF:")]
    assert variants and all('AUDIO="audio_' in line for line in variants)
    assert not any(line.startswith("#EXT-X-ENDLIST") for line in lines)
    # the preview keeps the default track
    assert {f.audio.track for f in plan.files if f.audio} == {2}


@pytest.mark.parametrize(
    "hostile", ['a"b', "a\nb", "a\r\nb", "a\x00\x1b\x85b", '"' * 500, "\u2028"]
)
def test_quoted_attribute_values_cannot_break_out(hostile: str) -> None:
    value = quoted(hostile)
    assert value.startswith('"') and value.endswith('"') and '"' not in value[1:-1]
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value)
    assert len(value) <= 122


def test_one_decode_per_audio_track_and_one_dash_set_per_language(tmp_path: Path) -> None:
    plan = plan_transcode(BILINGUAL, PRESETS)
    graph = filter_graph(plan)
    for index in (1, 2, 3):
        assert graph.count(f"[0:{index}]asplit=") == 1
    assert "[0:a:0]" not in graph
    video = len(plan.video)
    # fr, en (main), en (description): the described track apart from the main one
    assert adaptation_sets(plan) == (
        f"id=0,streams=v id=1,streams={video},{video + 3} "
        f"id=2,streams={video + 1},{video + 4} id=3,streams={video + 2},{video + 5}"
    )
    args = build_command(plan, tmp_path / "in", tmp_path, ffmpeg="ffmpeg", x264_preset="fast")
    assert "language=fra" in args and "language=eng" in args


def test_a_source_without_tracks_listed_plans_as_before() -> None:
    """A probe from before tracks were listed (or a single-track source) keeps its names."""
    plan = plan_transcode(HD, PRESETS)
    assert [a.name for a in plan.audio] == ["audio_128k", "audio_96k"]
    assert "[0:a:0]asplit=" in filter_graph(plan)
    single = plan_transcode(replace(HD, streams=(audio(1, "ja"),)), PRESETS)
    assert [a.name for a in single.audio] == ["audio_128k", "audio_96k"]
    assert 'LANGUAGE="ja",NAME="日本語",DEFAULT=YES' in master(single)


def test_each_audio_rendition_expects_its_own_tracks_duration() -> None:
    dub = replace(HD, streams=(audio(1, "en", duration=12.0), audio(2, "fr", duration=9.5)))
    plan = plan_transcode(dub, PRESETS)
    assert {(a.track, a.duration) for a in plan.audio} == {(1, 12.0), (2, 9.5)}


def test_the_limits_come_from_the_rules() -> None:
    rules = PlanningRules(track_limits=TrackLimits(max_audio_tracks=1))
    plan = plan_transcode(BILINGUAL, PRESETS, rules)
    assert [(t.index, t.default) for t in plan.tracks] == [(1, True)]  # the default, now
    assert [s.index for s in plan.skipped] == [2, 3, 4]
    assert {a.track for a in plan.audio} == {1} and all(v.audio for v in plan.video)
    assert {f.audio.track for f in plan.files if f.audio} == {1}
    assert 'LANGUAGE="fr",NAME="Fran\u00e7ais \'VF\' #EXT-X-ENDLIST",DEFAULT=YES' in master(plan)


def test_the_asset_view_shows_its_tracks_and_what_was_skipped() -> None:
    plan = plan_transcode(BILINGUAL, PRESETS)
    asset = replace(
        Asset.from_item({"assetId": "a", "status": "COMPLETED", "createdAt": "t"}),
        tracks=plan.tracks,
        skipped=plan.skipped,
    )
    shown = AssetView(Asset.from_item(asset.to_item())).public()
    assert shown["kind"] == "video"
    assert [(t["language"], t["default"], t["roles"]) for t in shown["tracks"]] == [
        ("fr", False, ["dub"]), ("en", True, ["main"]), ("en", False, ["description"]),
    ]  # fmt: skip
    assert shown["tracks"][1] == {
        "type": "audio", "language": "en", "name": "English", "default": True,
        "forced": False, "kind": None, "roles": ["main"], "channels": 2, "source": "embedded",
    }  # fmt: skip
    assert [(s["codec"], s["type"]) for s in shown["skipped"]] == [("hdmv_pgs_subtitle", "text")]


def test_captions_in_the_video_frames_are_listed_as_a_text_track_of_the_video() -> None:
    side = SimpleNamespace(type="Type.A53_CC")
    (captions,) = _closed_captions(SimpleNamespace(side_data=[side]), 0)
    assert (captions.index, captions.type, captions.codec) == (0, "subtitle", "eia_608")
    assert _closed_captions(SimpleNamespace(side_data=[SimpleNamespace(type="SEI")]), 0) == ()
    (track,) = plan_tracks((captions,)).kept
    assert (track.type, track.kind, track.roles) == (TrackType.TEXT, "captions", (Role.CAPTION,))


def test_a_matroska_tracks_duration_comes_from_its_tag() -> None:
    def tagged(value: str) -> Any:
        return replace_ns(fake_stream(1, "audio", "aac", 0, DURATION=value), duration=None)

    def replace_ns(stream: Any, **changes: Any) -> Any:
        return SimpleNamespace(**{**vars(stream), **changes})

    durations = [
        s.duration
        for s in _streams(
            SimpleNamespace(
                streams=[tagged("01:02:03.500000000"), tagged("nonsense"), tagged("9" * 99)]
            )
        )
    ]
    assert durations == [3723.5, None, None]


def test_a_text_track_that_could_not_be_published_moves_to_skipped() -> None:
    media = replace(HD, streams=(audio(1, "en"), text(2, language="en"), text(3, "ass", "fr")))
    plan = plan_transcode(media, PRESETS)
    lost = Skipped("text", "ass", "fr", "the track holds no captions", index=3)
    made = plan.dropping([lost])
    assert [(t.type, t.language) for t in made.tracks] == [
        (TrackType.AUDIO, "en"), (TrackType.TEXT, "en"),
    ]  # fmt: skip
    assert made.skipped == (*plan.skipped, lost)
    assert plan.dropping([]) == plan


def test_a_description_is_never_the_default_and_a_second_track_of_one_language_is_no_dub() -> None:
    tracks = plan_tracks((
        audio(1, "en", visual_impaired=True, default=True),  # flagged default: still not it
        audio(2, "en", default=True),
        audio(3, "en", title="Commentary"),
        audio(4, "fr"),
    ))  # fmt: skip
    kept = tracks.of(TrackType.AUDIO)
    assert [t.default for t in kept] == [False, True, False, False]
    assert [t.roles for t in kept] == [
        (Role.DESCRIPTION,), (Role.MAIN,), (Role.ALTERNATE,), (Role.DUB,),
    ]  # fmt: skip


def test_an_audio_track_that_cannot_be_decoded_is_skipped_not_fatal() -> None:
    tracks = plan_tracks((
        audio(1, "en"),
        StreamInfo(2, "audio", "unknown", "fr", channels=2),
        StreamInfo(3, "audio", "aac", "de", channels=0),
    ))  # fmt: skip
    assert [t.language for t in tracks.of(TrackType.AUDIO)] == ["en"]
    assert [(s.language, s.reason.startswith("the audio track cannot be decoded"))
            for s in tracks.skipped] == [("fr", True), ("de", True)]  # fmt: skip


def test_a_language_read_back_from_a_message_is_never_a_path() -> None:
    forged = Track(TrackType.TEXT, "en", "English").to_dict() | {"language": "../../x"}
    assert Track.from_dict(forged).language == "und"


def test_mediaconvert_keeps_the_text_tracks_it_can_select_and_those_vodkit_converts() -> None:
    from vodkit.domain.ladder import converted_text
    from vodkit.domain.plan import MEDIACONVERT

    media = replace(HD, streams=(audio(1, "en"), text(2, language="en"), text(3, "ass", "fr")))
    plan = plan_transcode(media, PRESETS, PlanningRules(encoder=MEDIACONVERT))
    assert [(t.type, t.codec) for t in plan.tracks] == [
        (TrackType.AUDIO, "aac"), (TrackType.TEXT, "subrip"), (TrackType.TEXT, "ass"),
    ]  # fmt: skip
    assert plan.skipped == ()
    assert [t.index for t in converted_text(plan)] == [3]  # the ingest makes it WebVTT
    assert converted_text(plan_transcode(media, PRESETS)) == []  # FFmpeg reads ASS itself
