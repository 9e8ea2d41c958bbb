"""Every audio track of a real source through the embedded pipeline (SQLite, PyAV, FFmpeg):
an HLS group member and a DASH AdaptationSet each, with its language; the text and bitmap
tracks listed on the asset, kept and skipped. One transcode, many checks."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import av
import m3u8
import numpy as np
import pytest

from tests.api_server import serve
from tests.conftest import FFMPEG
from tests.media_checks import dash_tracks, hls_tracks, joined
from tests.multitrack import FRENCH_TONE, bilingual_mkv
from vodkit.adapters.probe.pyav import MAX_TITLE, PyavProber
from vodkit.config import load_settings
from vodkit.domain.asset import Asset, AssetStatus
from vodkit.footprints.base import App
from vodkit.footprints.embedded import EmbeddedSettings, bootstrap

pytestmark = pytest.mark.integration
MPD = "urn:mpeg:dash:schema:mpd:2011"


@dataclass(frozen=True)
class Done:
    app: App
    asset: Asset
    root: Path  # the asset's outputs
    data: Path  # the footprint's data directory

    def path(self, key: str) -> Path:
        return Path(self.app.outputs.locate(self.asset.outputs[key]))


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> Done:
    work = tmp_path_factory.mktemp("tracks")
    app = bootstrap(load_settings(EmbeddedSettings, data_dir=work / "data", retry_backoff=0))
    asset_id = app.assets.upload_file(bilingual_mkv(work), "alice", "bilingual.mkv").asset_id
    app.processing.worker().drain()
    asset = app.catalog.get(asset_id)
    assert asset is not None and asset.status is AssetStatus.COMPLETED, asset
    master = Path(app.outputs.locate(asset.outputs["hls"]))
    return Done(app, asset, master.parent, work / "data")


def tone_share(path: Path) -> float:
    """How much of a decoded audio track's energy is the French tone's (0 to 1)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = np.concatenate([f.to_ndarray()[0] for f in container.decode(stream)])
        rate = stream.codec_context.sample_rate
    power = np.abs(np.fft.rfft(samples)) ** 2
    near = np.abs(np.fft.rfftfreq(len(samples), 1 / rate) - FRENCH_TONE) < 10
    return float(power[near].sum() / power.sum())


def test_hls_lists_both_languages_in_every_group_english_by_default(done: Done) -> None:
    playlist, tracks = hls_tracks(done.path("hls"))
    audio = [m for m in playlist.media if m.type == "AUDIO"]
    groups = {m.group_id for m in audio}
    assert groups and {p.stream_info.audio for p in playlist.playlists} <= groups
    for group in groups:
        members = [(m.language, m.name, m.default, m.autoselect) for m in audio
                   if m.group_id == group]  # fmt: skip
        assert members == [("en", "English", "YES", "YES"), ("fr", "Français", "NO", "YES")]
    # each member is its own track: the French one plays the tone, the English one the film
    for media in audio:
        name = media.uri.split("/")[0]
        track = tracks[name]
        share = tone_share(joined(track.init, track.segments, done.root / f"{name}.mp4"))
        assert share > 0.9 if media.language == "fr" else share < 0.1, (name, share)
        # the dub is a second shorter, as its source track: kept so, not failed as truncated
        lasts = sum(s.duration for s in m3u8.load(str(done.root / media.uri)).segments)
        assert lasts == pytest.approx(3.0 if media.language == "fr" else 4.0, abs=0.1)


def test_dash_has_one_audio_set_per_language_with_lang_and_role(done: Done) -> None:
    manifest, tracks = dash_tracks(done.path("dash"))
    sets = [a for a in manifest.periods[0].adaptation_sets if a.content_type == "audio"]
    assert [(a.lang, [r.value for r in a.roles]) for a in sets] == [
        ("en", ["main"]), ("fr", ["dub"]),
    ]  # fmt: skip
    labels = [
        label.text
        for adaptation in ET.parse(done.path("dash")).getroot().iter(f"{{{MPD}}}AdaptationSet")
        if adaptation.get("contentType") == "audio"
        for label in adaptation.iter(f"{{{MPD}}}Label")
    ]
    assert labels == ["English", "Fran\u00e7ais"]
    hls, _ = hls_tracks(done.path("hls"))
    per_set = [sorted(r.id for r in a.representations) for a in sets]
    audio = [m for m in hls.media if m.type == "AUDIO"]
    assert len(per_set[0]) == len(per_set[1]) == len({m.group_id for m in audio})
    assert len(tracks) == len(hls.playlists) + len(audio)  # the same CMAF segments


def test_the_preview_keeps_the_default_track_tagged_with_its_language(done: Done) -> None:
    with av.open(str(done.path("mp4"))) as container:
        (audio,) = container.streams.audio
        assert audio.metadata.get("language") == "eng"
    assert tone_share(done.path("mp4")) < 0.1


def test_the_asset_lists_its_tracks_and_what_was_skipped(done: Done) -> None:
    shown = done.app.assets.view(done.asset).public()
    assert shown["status"] == "COMPLETED" and shown["kind"] == "video"
    assert [(t["type"], t["language"], t["name"], t["default"]) for t in shown["tracks"]] == [
        ("audio", "en", "English", True),
        ("audio", "fr", "Français", False),
        ("text", "en", "English", False),  # kept: the text tracks become WebVTT
    ]
    assert shown["tracks"][0]["channels"] == 2 and shown["tracks"][0]["roles"] == ["main"]
    assert shown["skipped"] == [
        {
            "type": "text",
            "codec": "hdmv_pgs_subtitle",
            "language": "en",
            "reason": "bitmap subtitles (pictures of text) cannot become WebVTT without OCR",
        }
    ]
    assert not shown["errors"]  # skipped tracks do not fail the asset


def test_the_api_shows_the_tracks_and_what_was_skipped(done: Done) -> None:
    with serve(done.data, worker=False) as served:
        reply = served.client("alice").get(f"/v1/assets/{done.asset.asset_id}")
    assert reply.status_code == 200
    shown = reply.json()
    assert shown["kind"] == "video"
    assert [(t["language"], t["roles"], t["source"]) for t in shown["tracks"]] == [
        ("en", ["main"], "embedded"), ("fr", ["dub"], "embedded"), ("en", ["subtitle"], "embedded"),
    ]  # fmt: skip
    assert [s["codec"] for s in shown["skipped"]] == ["hdmv_pgs_subtitle"]


def test_a_title_that_is_not_utf8_is_read_and_made_safe(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.mkv"
    title = b'\xe9t\xe9 "x"\x01\x1b\n' + b"A" * 500  # Latin-1, quotes, controls, too long
    subprocess.run(
        [FFMPEG.encode(), b"-hide_banner", b"-loglevel", b"error", b"-y",
         b"-i", bytes(bilingual_mkv(tmp_path, seconds=2)), b"-map", b"0", b"-c", b"copy",
         b"-metadata:s:a:1", b"title=" + title, b"-metadata:s:a:1", b"language=fre",
         bytes(hostile)],
        check=True,
    )  # fmt: skip
    streams = PyavProber().probe(hostile).streams
    french = streams[1]
    assert french.language == "fr" and len(french.title) == MAX_TITLE
    assert french.title.startswith('\ufffdt\ufffd "x" AAA')


def test_a_dvb_bitmap_track_in_mpeg_ts_is_skipped_with_its_reason(tmp_path: Path) -> None:
    """Broadcast's bitmap subtitles (DVB, in MPEG-TS; MP4 carries neither PGS nor DVB): the
    asset completes, its English audio kept, the DVB track listed as skipped and why."""
    from tests.conftest import real_clip
    from tests.multitrack import pgs

    source = tmp_path / "broadcast.ts"
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
         "-t", "3", "-i", str(real_clip("bigbuckbunny.mp4")), "-i", str(pgs(tmp_path / "s.sup")),
         "-map", "0:v", "-map", "0:a", "-map", "1", "-vf", "scale=320:180",
         "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-ac", "2",
         "-c:s", "dvbsub", "-metadata:s:a:0", "language=eng", "-metadata:s:s:0", "language=deu",
         str(source)],
        check=True,
    )  # fmt: skip
    app = bootstrap(load_settings(EmbeddedSettings, data_dir=tmp_path / "data", retry_backoff=0))
    asset_id = app.assets.upload_file(source, "alice", source.name).asset_id
    app.processing.worker().drain()
    asset = app.catalog.get(asset_id)
    assert asset is not None and asset.status is AssetStatus.COMPLETED, asset
    shown = app.assets.view(asset).public()
    assert [(t["type"], t["language"]) for t in shown["tracks"]] == [("audio", "en")]
    assert shown["skipped"] == [
        {
            "type": "text",
            "codec": "dvb_subtitle",
            "language": "de",
            "reason": "bitmap subtitles (pictures of text) cannot become WebVTT without OCR",
        }
    ]
