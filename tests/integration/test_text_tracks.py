"""An upload's text tracks become WebVTT beside its CMAF stream (real FFmpeg, real footage)."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.captioned import EXPECTED, captioned_sources
from tests.cea608 import SHOWN, TEXT, cea608_clip
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.transcoder.ffmpeg import FfmpegTranscoder
from vodkit.adapters.transcoder.text import NO_CUES, SKIP_BITMAP, cmaf_mpegts, write_text_tracks
from vodkit.domain import layout
from vodkit.domain.captions import parse_captions
from vodkit.domain.ladder import PlanningRules, plan_transcode
from vodkit.domain.plan import TranscodePlan
from vodkit.domain.subtitles import MPD_NS
from vodkit.domain.tracks import TextKind, Track, TrackType

pytestmark = pytest.mark.integration
# the MKV flags its English default: not forced, so not shown unasked (README)
ENGLISH = Track(TrackType.TEXT, "en", "English", kind=TextKind.SUBTITLES, codec="subrip", index=3)
FRENCH = Track(TrackType.TEXT, "fr", "Français", kind=TextKind.CAPTIONS, codec="ass", index=4)


def _plan(source: Path) -> TranscodePlan:
    return plan_transcode(
        PyavProber().probe(source), load_presets(default_presets_path()), PlanningRules()
    )


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return captioned_sources(tmp_path_factory.mktemp("captioned"))


@pytest.fixture(scope="module")
def output(
    sources: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[str]]:
    """The MKV transcoded once, its SubRip and ASS tracks handed to the transcoder."""
    work = tmp_path_factory.mktemp("out")
    result = FfmpegTranscoder().transcode(
        _plan(sources["mkv"]), sources["mkv"], work, lambda p: None
    )
    return work, list(result.files)


def test_each_text_track_is_a_webvtt_download_with_its_cues_at_their_source_times(
    output: tuple[Path, list[str]],
) -> None:
    work, files = output
    for language, (start, text) in EXPECTED.items():
        vtt = (work / f"captions/{language}.vtt").read_bytes()
        assert vtt.startswith(b"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n")
        cues = parse_captions(vtt)
        assert (cues[0].start, cues[0].text) == (start, text)
    assert [c.start for c in parse_captions((work / "captions/en.vtt").read_bytes())] == [1.0, 3.0]
    # published: the WebVTT and its playlist before the manifests that name them
    order = [f for f in files if f.startswith("captions/") or f in (layout.MASTER, layout.MPD)]
    assert order[:4] == sorted(
        ["captions/en.m3u8", "captions/en.vtt", "captions/fr.m3u8", "captions/fr.vtt"]
    )
    assert order[-2:] == [layout.MPD, layout.MASTER]


def test_the_manifests_name_the_text_tracks(output: tuple[Path, list[str]]) -> None:
    work, _ = output
    master = (work / layout.MASTER).read_text()
    assert 'TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English",DEFAULT=NO' in master
    assert "DEFAULT=YES,AUTOSELECT=YES,FORCED" not in master  # subtitles off unless asked
    assert 'LANGUAGE="fr",NAME="Français",DEFAULT=NO' in master
    assert "public.accessibility.transcribes-spoken-dialog" in master
    assert 'SUBTITLES="subs"' in master.split("#EXT-X-STREAM-INF:", 1)[1]
    playlist = (work / "captions/fr.m3u8").read_text()
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in playlist and "\nfr.vtt\n" in playlist
    root = ET.parse(work / layout.MPD).getroot()
    text = [a for a in root.iter(f"{{{MPD_NS}}}AdaptationSet") if a.get("contentType") == "text"]
    assert [(a.get("lang"), a.get("mimeType")) for a in text] == [
        ("en", "text/vtt"),
        ("fr", "text/vtt"),
    ]


def test_the_timestamp_map_is_measured_from_the_cmaf_output(output: tuple[Path, list[str]]) -> None:
    # vodkit's CMAF starts at media time 0 (an edit list cancels the B-frame delay), which
    # is what hls.js takes as initPTS: cue time 0 is MPEGTS 0, not 900000 (MPEG-TS's 10 s)
    assert cmaf_mpegts(output[0]) == 0


def test_mov_text_becomes_webvtt_and_what_cannot_is_skipped_with_its_reason(
    sources: dict[str, Path], output: tuple[Path, list[str]], tmp_path: Path
) -> None:
    work = tmp_path / "out"
    shutil.copytree(output[0], work)
    tracks = [
        Track(TrackType.TEXT, "en", "English", codec="mov_text", index=2),
        Track(TrackType.TEXT, "en", "Commentary", codec="mov_text", index=2),
        Track(TrackType.TEXT, "de", "Deutsch", codec="subrip", index=1),  # the audio stream
        Track(TrackType.TEXT, "ja", "PGS", codec="hdmv_pgs_subtitle", index=2),
        Track(TrackType.TEXT, "en", "608", codec="eia_608", index=0),  # the video has none
    ]
    outcome = write_text_tracks(
        FfmpegTranscoder().ffmpeg, _plan(sources["mp4"]), sources["mp4"], work, tracks
    )
    assert [r.key for r in outcome.renditions] == ["captions/en.vtt", "captions/en.2.vtt"]
    cues = parse_captions((work / "captions/en.2.vtt").read_bytes())
    assert [(c.start, c.end) for c in cues] == [(1.0, 2.5), (3.0, 3.9)]
    assert cues[0].text.startswith("Hello <i>world</i>") and "<script>" not in cues[0].text
    assert [(s.language, s.reason) for s in outcome.skipped] == [
        ("ja", SKIP_BITMAP), ("de", "FFmpeg could not extract this text track"), ("en", NO_CUES),
    ]  # fmt: skip
    master = (work / layout.MASTER).read_text()
    assert master.count("TYPE=SUBTITLES") == 2 and "fr.m3u8" not in master  # replaced


def test_cea608_captions_in_the_h264_become_webvtt_through_subcc_in_the_cage(
    output: tuple[Path, list[str]], tmp_path: Path
) -> None:
    source = cea608_clip(tmp_path / "cc.mp4")
    work = tmp_path / "out"
    shutil.copytree(output[0], work)
    track = Track(
        TrackType.TEXT, "en", "English CC", kind=TextKind.CAPTIONS, codec="eia_608", index=0
    )
    outcome = write_text_tracks(FfmpegTranscoder().ffmpeg, _plan(source), source, work, [track])
    assert outcome.skipped == () and [r.key for r in outcome.renditions] == ["captions/en.vtt"]
    (cue,) = parse_captions((work / "captions/en.vtt").read_bytes())
    assert (cue.start, cue.end, cue.text) == (*SHOWN, TEXT)


EMPTY_ASS = """[Script Info]
ScriptType: v4.00+

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
"""


def test_a_track_found_empty_at_extraction_is_listed_skipped_on_the_asset(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    """Planned as kept at ingest; the transcode finds no cue in it: the completed asset
    lists it in ``skipped`` with the reason, and keeps the track that was published."""
    from tests.conftest import FFMPEG
    from vodkit.config import load_settings
    from vodkit.domain.asset import AssetStatus
    from vodkit.footprints.embedded import EmbeddedSettings, bootstrap

    (tmp_path / "empty.ass").write_text(EMPTY_ASS)
    source = tmp_path / "two.mkv"
    subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(sources["mkv"]), "-i", str(tmp_path / "empty.ass"),
         "-map", "0:v", "-map", "0:a", "-map", "0:s:0", "-map", "1", "-c", "copy",
         "-metadata:s:s:1", "language=fra", str(source)],
        check=True,
    )  # fmt: skip
    app = bootstrap(load_settings(EmbeddedSettings, data_dir=tmp_path / "data", retry_backoff=0))
    asset_id = app.assets.upload_file(source, "alice", "two.mkv").asset_id
    app.processing.worker().drain()
    asset = app.catalog.get(asset_id)
    assert asset is not None and asset.status is AssetStatus.COMPLETED, asset
    shown = app.assets.view(asset).public()
    assert [(t["type"], t["language"]) for t in shown["tracks"]] == [
        ("audio", "en"),
        ("audio", "fr"),
        ("text", "en"),
    ]
    assert [(s["type"], s["language"], s["reason"]) for s in shown["skipped"]] == [
        ("text", "fr", NO_CUES)
    ]
