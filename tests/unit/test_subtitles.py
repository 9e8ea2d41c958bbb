"""Text tracks in the HLS master and the MPD: exactly the ones given, however often applied."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from vodkit.domain import layout
from vodkit.domain.subtitles import MPD_NS, SDH, TextRendition, with_text_tracks
from vodkit.domain.tracks import TextKind, Track, TrackType

MASTER = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio_128k",NAME="audio_128k",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio_128k/index.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",AUDIO="audio_128k"
720p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=854x480,CODECS="avc1.64001e,mp4a.40.2",AUDIO="audio_128k"
480p/index.m3u8
"""
MPD = f"""<?xml version='1.0' encoding='utf-8'?>
<MPD xmlns="{MPD_NS}" type="static" mediaPresentationDuration="PT8.0S">
\t<Period id="0" start="PT0.0S">
\t\t<AdaptationSet id="0" contentType="video"><Representation id="0" bandwidth="1"/></AdaptationSet>
\t\t<AdaptationSet id="1" contentType="audio" lang="und"><Representation id="1" bandwidth="1"/></AdaptationSet>
\t</Period>
</MPD>
"""


def _text(language: str, name: str, **options: object) -> Track:
    return Track(TrackType.TEXT, language, name, **options)  # type: ignore[arg-type]


TRACKS = [
    _text("en", "English", default=True, kind=TextKind.SUBTITLES),
    _text("fr", "Français (SDH)", kind=TextKind.CAPTIONS),
    _text("en", "English", forced=True, kind=TextKind.SUBTITLES),
]
RENDITIONS = [
    TextRendition(t, k)
    for t, k in zip(TRACKS, layout.captions([t.language for t in TRACKS]), strict=True)
]


def _adaptations(mpd: str) -> list[ET.Element]:
    root = ET.fromstring(mpd)
    return list(root.iter(f"{{{MPD_NS}}}AdaptationSet"))


def test_two_tracks_of_one_language_get_their_own_files() -> None:
    assert layout.captions(["en", "fr", "en", "en"]) == [
        "captions/en.vtt", "captions/fr.vtt", "captions/en.2.vtt", "captions/en.3.vtt",
    ]  # fmt: skip
    assert layout.caption_playlist("captions/en.2.vtt") == "captions/en.2.m3u8"
    assert layout.format_of("captions/en.vtt") is None  # no sprite, though a .vtt


def test_the_master_names_every_text_track_and_every_variant_its_group() -> None:
    result = with_text_tracks(MASTER, MPD, RENDITIONS, 8.0)
    media = [line for line in result.master.splitlines() if "TYPE=SUBTITLES" in line]
    assert media == [
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English",DEFAULT=YES,'
        'AUTOSELECT=YES,FORCED=NO,URI="../captions/en.m3u8"',
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="fr",NAME="Français (SDH)",'
        f'DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,CHARACTERISTICS="{SDH}",URI="../captions/fr.m3u8"',
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English (2)",DEFAULT=NO,'
        'AUTOSELECT=YES,FORCED=YES,URI="../captions/en.2.m3u8"',
    ]
    variants = [line for line in result.master.splitlines() if line.startswith("#EXT-X-STREAM-INF")]
    assert len(variants) == 2 and all(v.endswith(',SUBTITLES="subs"') for v in variants)
    assert 'CODECS="avc1.64001f,mp4a.40.2"' in variants[0]
    assert result.master.index("TYPE=SUBTITLES") < result.master.index("#EXT-X-STREAM-INF")
    assert result.playlists["captions/en.2.m3u8"] == (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:8\n#EXT-X-MEDIA-SEQUENCE:0\n"
        "#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:8.000,\nen.2.vtt\n#EXT-X-ENDLIST\n"
    )


def test_the_mpd_gets_a_text_adaptation_set_per_track_and_still_parses() -> None:
    result = with_text_tracks(MASTER, MPD, RENDITIONS, 8.0)
    text = [a for a in _adaptations(result.mpd) if a.get("contentType") == "text"]
    assert [(a.get("id"), a.get("lang"), a.get("mimeType")) for a in text] == [
        ("2", "en", "text/vtt"), ("3", "fr", "text/vtt"), ("4", "en", "text/vtt"),
    ]  # fmt: skip
    roles = [[r.get("value") for r in a.iter(f"{{{MPD_NS}}}Role")] for a in text]
    assert roles == [["subtitle"], ["caption"], ["subtitle", "forced-subtitle"]]
    assert {r.get("schemeIdUri") for a in text for r in a.iter(f"{{{MPD_NS}}}Role")} == {
        "urn:mpeg:dash:role:2011"
    }
    urls = [a.find(f"{{{MPD_NS}}}Representation/{{{MPD_NS}}}BaseURL") for a in text]
    assert [u.text for u in urls if u is not None] == [
        "../captions/en.vtt", "../captions/fr.vtt", "../captions/en.2.vtt",
    ]  # fmt: skip


def test_applying_twice_is_applying_once_and_no_tracks_removes_them_all() -> None:
    once = with_text_tracks(MASTER, MPD, RENDITIONS, 8.0)
    assert with_text_tracks(once.master, once.mpd, RENDITIONS, 8.0) == once
    fewer = with_text_tracks(once.master, once.mpd, RENDITIONS[1:2], 8.0)
    assert fewer.master.count("TYPE=SUBTITLES") == 1 and 'LANGUAGE="en"' not in fewer.master
    none = with_text_tracks(fewer.master, fewer.mpd, [], 8.0)
    assert none.master == MASTER and none.playlists == {}
    assert [a.get("contentType") for a in _adaptations(none.mpd)] == ["video", "audio"]


def test_hostile_names_and_languages_cannot_break_out_of_their_attribute() -> None:
    hostile = _text('x" ,DEFAULT=YES', 'a",URI="http://evil/\n#EXT-X-ENDLIST</Label><x>&')
    result = with_text_tracks(MASTER, MPD, [TextRendition(hostile, "captions/und.vtt")], 8.0)
    (media,) = [line for line in result.master.splitlines() if "TYPE=SUBTITLES" in line]
    assert 'LANGUAGE="und"' in media and media.count('"') % 2 == 0
    assert "NAME=\"a',URI='http://evil/ #EXT-X-ENDLIST</Label><x>&\"" in media  # one attribute
    assert "#EXT-X-ENDLIST" not in [line[:14] for line in result.master.splitlines()]
    assert media.count('URI="') == 1 and media.count("DEFAULT=") == 1
    (text,) = [a for a in _adaptations(result.mpd) if a.get("contentType") == "text"]
    assert text.get("lang") == "und"
    # the same name as in HLS (quotes made single there, and so unique as written)
    assert text.findtext(f"{{{MPD_NS}}}Label") == "a',URI='http://evil/ #EXT-X-ENDLIST</Label><x>&"
    assert "<x>" not in result.mpd and "&lt;x&gt;&amp;" in result.mpd


def test_an_audio_track_named_like_a_subtitle_line_is_never_taken_for_one() -> None:
    """Earlier text tracks are found by their TYPE attribute, not by text in a NAME."""
    audio = '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="TYPE=SUBTITLES",DEFAULT=YES,URI="a.m3u8"'
    master = MASTER.replace("#EXT-X-STREAM-INF:", audio + "\n#EXT-X-STREAM-INF:", 1)
    result = with_text_tracks(master, MPD, RENDITIONS, 8.0)
    assert audio in result.master.splitlines()
    assert with_text_tracks(result.master, result.mpd, [], 8.0).master == master


def test_names_are_unique_as_written_and_the_label_precedes_the_role() -> None:
    twins = [_text("en", 'Director"s cut'), _text("en", "Director's cut")]
    result = with_text_tracks(MASTER, MPD, [TextRendition(t, f"captions/{i}.vtt") for i, t in
                                             enumerate(twins)], 8.0)  # fmt: skip
    names = [line.split("NAME=")[1].split(",")[0] for line in result.master.splitlines()
             if "TYPE=SUBTITLES" in line]  # fmt: skip
    assert names == ['"Director\'s cut"', '"Director\'s cut (2)"']
    for text in (a for a in _adaptations(result.mpd) if a.get("contentType") == "text"):
        tags = [child.tag.split("}")[1] for child in text]
        assert tags.index("Label") < tags.index("Role")
