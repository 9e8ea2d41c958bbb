"""Audio-only uploads through the embedded pipeline (SQLite, PyAV, FFmpeg): the sound of real
footage as MP3 (with cover art), FLAC, WAV, M4A, raw AAC and Ogg/Opus, each an asset of kind
"audio" with an audio-only HLS/DASH ladder, an M4A download and a PNG waveform, no sprite;
a still image and playlists in a sound file's name still refused. One drain, many checks."""

from __future__ import annotations

import struct
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from tests.api_server import serve
from tests.conftest import FFMPEG, real_clip
from tests.media_checks import decode, hls_tracks, joined
from vodkit.adapters.presets.file import load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.transcoder.base import Progress
from vodkit.adapters.transcoder.ffmpeg import FfmpegTranscoder
from vodkit.adapters.transcoder.waveform import draw_waveform
from vodkit.config import load_settings
from vodkit.domain.asset import Asset, AssetStatus
from vodkit.domain.errors import InvalidInput
from vodkit.domain.ladder import plan_transcode
from vodkit.footprints.base import App
from vodkit.footprints.embedded import EmbeddedSettings, bootstrap

pytestmark = pytest.mark.integration
MPD = "urn:mpeg:dash:schema:mpd:2011"
# name -> FFmpeg's output arguments for the film's sound
SOUNDS = {
    "song.mp3": ("-c:a", "libmp3lame", "-b:a", "128k"),
    "song.flac": ("-c:a", "flac"),
    "song.wav": ("-c:a", "pcm_s16le"),
    "song.m4a": ("-c:a", "copy"),
    "song.aac": ("-c:a", "copy", "-f", "adts"),
    "song.ogg": ("-c:a", "libopus", "-b:a", "96k", "-f", "ogg"),
    "low.mp3": ("-c:a", "libmp3lame", "-b:a", "64k"),
}
# the ladder stops at the source's bitrate (lossless: every rung); the lowest rung stays.
# Opus at 96k averages about 84 kb/s on the film's sound.
RUNGS = {"song.ogg": ["audio_96k"], "low.mp3": ["audio_96k"]}
FULL_LADDER = ["audio_128k", "audio_96k"]
REFUSED = {  # name -> (content, the code it fails with)
    "playlist.mp3": (b"#EXTM3U\n#EXTINF:10,\n/etc/passwd\n#EXT-X-ENDLIST\n", "Playlist"),
    "list.mp3": (b"ffconcat version 1.0\nfile '/etc/passwd'\n", "Playlist"),
    "paths.mp3": (b"/etc/passwd\nhttp://127.0.0.1:9/a.mp3\n" * 50, "NotMedia"),
}


def sound_of_the_film(directory: Path, name: str) -> Path:
    """Big Buck Bunny's AAC track, re-encoded (or copied) into ``name``'s format; the MP3
    carries the film's first frame as its cover art (an attached picture: no video)."""
    film = real_clip("bigbuckbunny.mp4")
    target = directory / name
    cover: list[str] = []
    if name.endswith(".mp3"):
        picture = directory / "cover.jpg"
        subprocess.run(
            [FFMPEG, "-v", "error", "-y", "-i", str(film), "-frames:v", "1", str(picture)],
            check=True,
        )  # fmt: skip
        cover = ["-i", str(picture), "-map", "1:v", "-c:v", "copy",
                 "-disposition:v", "attached_pic"]  # fmt: skip
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-i", str(film), *cover,
         "-map", "0:a:0", *SOUNDS[name], str(target)],
        check=True,
    )  # fmt: skip
    return target


@dataclass(frozen=True)
class Done:
    app: App
    assets: dict[str, Asset]  # by upload name
    data: Path

    def path(self, name: str, output: str) -> Path:
        return Path(self.app.outputs.locate(self.assets[name].outputs[output]))


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> Done:
    work = tmp_path_factory.mktemp("audio")
    app = bootstrap(load_settings(EmbeddedSettings, data_dir=work / "data", retry_backoff=0))
    ids = {n: app.assets.upload_file(sound_of_the_film(work, n), "alice", n).asset_id
           for n in SOUNDS}  # fmt: skip
    still = work / "still.png"
    subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(real_clip("bigbuckbunny.mp4")), "-frames:v", "1",
         str(still)],
        check=True,
    )  # fmt: skip
    ids["still.png"] = app.assets.upload_file(still, "alice", "still.png").asset_id
    for name, (content, _) in REFUSED.items():
        (work / name).write_bytes(content)
        ids[name] = app.assets.upload_file(work / name, "alice", name).asset_id
    app.processing.worker().drain()
    assets = {name: app.catalog.get(asset_id) for name, asset_id in ids.items()}
    return Done(app, {n: a for n, a in assets.items() if a is not None}, work / "data")


@pytest.mark.parametrize("name", SOUNDS)
def test_a_sound_file_becomes_an_audio_asset_with_its_outputs(done: Done, name: str) -> None:
    asset = done.assets[name]
    assert asset.status is AssetStatus.COMPLETED, asset.errors
    assert asset.kind == "audio"
    assert asset.duration == pytest.approx(5.3, abs=0.25)  # raw AAC: estimated from its rate
    assert {k: v.removeprefix(f"{asset.asset_id}/") for k, v in asset.outputs.items()} == {
        "hls": "stream/master.m3u8",
        "dash": "stream/manifest.mpd",
        "m4a": "mp4/preview.m4a",
        "poster": "thumbs/poster.png",
    }
    rungs = RUNGS.get(name, FULL_LADDER)
    assert [(r["name"], r["kind"], r["width"]) for r in asset.renditions] == [
        *((rung, "stream", None) for rung in rungs), ("preview", "m4a", None),
    ]  # fmt: skip
    # the download never exceeds the ladder's top (the same encode)
    assert asset.renditions[-1]["audioBitrate"] == int(rungs[0].split("_")[1][:-1]) * 1000
    (track,) = asset.tracks
    assert track.type == "audio" and track.default
    thumbs = done.path(name, "poster").parent
    assert sorted(p.name for p in thumbs.iterdir()) == ["poster.png"]  # no sprite


@pytest.mark.parametrize("name", SOUNDS)
def test_the_ladder_is_audio_only_in_hls_and_dash_as_long_as_the_source(
    done: Done, name: str, tmp_path: Path
) -> None:
    playlist, tracks = hls_tracks(done.path(name, "hls"))
    rungs = RUNGS.get(name, FULL_LADDER)
    assert [p.uri for p in playlist.playlists] == [f"{rung}/index.m3u8" for rung in rungs]
    for variant in playlist.playlists:
        assert variant.stream_info.codecs == "mp4a.40.2"
        assert variant.stream_info.resolution is None and variant.stream_info.bandwidth > 0
    for rung, track in tracks.items():
        decoded = decode(joined(track.init, track.segments, tmp_path / f"{rung}.mp4"))
        assert decoded.width is None and decoded.audio_channels == 2
        assert decoded.duration == pytest.approx(5.3, abs=0.2), rung
    sets = ET.parse(done.path(name, "dash")).getroot().iter(f"{{{MPD}}}AdaptationSet")
    assert [(s.get("contentType"), s.get("lang")) for s in sets] == [("audio", "und")]


@pytest.mark.parametrize("name", SOUNDS)
def test_the_m4a_is_sound_only_and_plays_while_it_loads(done: Done, name: str) -> None:
    path = done.path(name, "m4a")
    with av.open(str(path)) as container:
        assert [s.type for s in container.streams] == ["audio"]
        assert container.streams.audio[0].codec_context.name == "aac"
    assert decode(path).duration == pytest.approx(5.3, abs=0.2)
    boxes = top_level_boxes(path.read_bytes())
    assert boxes[0] == "ftyp" and boxes.index("moov") < boxes.index("mdat")  # +faststart


@pytest.mark.parametrize("name", SOUNDS)
def test_the_poster_is_a_png_waveform_of_the_sound(done: Done, name: str) -> None:
    path = done.path(name, "poster")
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
    pixels = frame.to_ndarray(format="rgba")
    assert pixels.shape == (240, 1280, 4)
    drawn = pixels[..., 3] > 0
    # the film's sound is loud and quiet: the wave is drawn across the width, not as a block
    assert drawn.any(axis=0).mean() > 0.5
    heights = drawn.sum(axis=0)
    assert heights.std() > 5 and heights.max() < 240


def test_the_aws_status_function_draws_the_same_waveform_from_the_m4a(
    done: Done, tmp_path: Path
) -> None:
    """MediaConvert draws no waveform: its status function runs the same filter chain
    through PyAV (``waveform``), in a sandboxed child, on the job's M4A."""
    png = tmp_path / "poster.png"
    draw_waveform(done.path("song.mp3", "m4a"), png, (1280, 240), 5.3)
    pictures = []
    for path in (png, done.path("song.mp3", "poster")):
        with av.open(str(path)) as container:
            pictures.append(next(container.decode(video=0)).to_ndarray(format="rgba"))
    ours, ffmpegs = pictures
    assert ours.shape == ffmpegs.shape == (240, 1280, 4)
    # one chain, two FFmpeg builds (PyAV's libraries, the CLI): the same picture, give or
    # take the odd pixel of a column's peak
    differs = (ours[..., 3] > 0) != (ffmpegs[..., 3] > 0)
    assert differs.mean() < 0.01 and (ours[..., 3] > 0).any(axis=0).mean() > 0.5


def test_a_still_image_is_refused_as_one(done: Done) -> None:
    asset = done.assets["still.png"]
    assert asset.status is AssetStatus.FAILED
    (error,) = asset.errors
    assert error.code == "NotMedia" and "still images are not supported" in error.message


@pytest.mark.parametrize("name", REFUSED)
def test_a_playlist_named_as_a_sound_file_is_refused(done: Done, name: str) -> None:
    asset = done.assets[name]
    assert asset.status is AssetStatus.FAILED
    (error,) = asset.errors
    assert error.code == REFUSED[name][1], error


def test_the_api_and_playback_serve_an_audio_asset(done: Done) -> None:
    asset = done.assets["song.mp3"]
    with serve(done.data, worker=False) as served:
        shown = served.client("alice").get(f"/v1/assets/{asset.asset_id}").json()
        assert shown["kind"] == "audio" and shown["status"] == "COMPLETED"
        playback = shown["playback"]
        assert {k for k, v in playback.items() if v} == {"hls", "dash", "m4a", "poster"}
        anyone = served.client(None)
        types = {k: anyone.get(playback[k]).headers["content-type"] for k in ("m4a", "poster")}
        master = anyone.get(playback["hls"]).text
    assert types == {"m4a": "audio/mp4", "poster": "image/png"}
    assert 'CODECS="mp4a.40.2"' in master


def test_progress_is_reported_while_the_sound_is_encoded(tmp_path: Path) -> None:
    source = sound_of_the_film(tmp_path, "song.flac")
    plan = plan_transcode(PyavProber().probe(source), load_presets())
    seen: list[Progress] = []
    FfmpegTranscoder().transcode(plan, source, tmp_path / "work", seen.append)
    percents = [p.percent for p in seen]
    assert percents[-1] == 100.0 and any(0 < p < 100 for p in percents)
    assert percents == sorted(percents)


def top_level_boxes(data: bytes) -> list[str]:
    names, at = [], 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        names.append(kind.decode("latin-1"))
        if size == 1:
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        at += size or len(data)
    return names


def test_a_picture_in_a_sound_only_container_is_refused(tmp_path: Path) -> None:
    theora = tmp_path / "film.ogg"
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "testsrc2=s=160x90:d=1", "-c:v", "libtheora", str(theora)],
        check=True,
    )  # fmt: skip
    with pytest.raises(InvalidInput, match="accepted for sound only") as refused:
        PyavProber().probe(theora)
    assert refused.value.code == "UnsupportedContainer"
