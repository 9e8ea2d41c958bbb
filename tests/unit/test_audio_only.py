"""Audio-only assets: what is planned for a source without pictures, where its outputs live,
its HLS master and the FFmpeg command that makes them (no FFmpeg run here)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.fakes import fake_app, upload
from vodkit.adapters.catalog.memory import MemoryCatalog
from vodkit.adapters.events.memory import RecordingEventBus
from vodkit.adapters.presets.file import load_presets
from vodkit.adapters.probe.memory import MemoryProber
from vodkit.adapters.storage.memory import MemoryObjectStore
from vodkit.adapters.transcoder.cmaf import RungStats, master_playlist
from vodkit.adapters.transcoder.ffmpeg import build_command, filter_graph, waveform_command
from vodkit.adapters.transcoder.memory import MemoryJobSubmitter
from vodkit.domain import layout
from vodkit.domain.asset import AssetStatus
from vodkit.domain.events import ObjectCreated
from vodkit.domain.ladder import PlanningRules, plan_transcode
from vodkit.domain.media import AudioInfo, MediaInfo, StreamInfo
from vodkit.domain.plan import AUDIO, MEDIACONVERT, TranscodePlan
from vodkit.services.ingest import IngestOrchestrator

PRESETS = load_presets()
SONG = b"a song"


def song(container: str = "mp3", *streams: StreamInfo) -> MediaInfo:
    return MediaInfo(
        container=container,
        duration=181.5,
        size=3_000_000,
        bitrate=128_000,
        video=None,
        audio=AudioInfo(codec="mp3float", channels=2, sample_rate=44100, duration=181.4),
        streams=streams or (StreamInfo(0, "audio", "mp3", channels=2, duration=181.4),),
    )


def test_a_sound_file_gets_an_audio_ladder_an_m4a_and_a_waveform_and_no_sprite() -> None:
    plan = plan_transcode(song(), PRESETS)
    assert plan.kind == AUDIO and plan.audio_only and plan.demuxer == "mp3"
    assert plan.video == () and plan.files == () and plan.sprite is None
    # the presets' audio bitrates (their hls and dash outputs), highest first
    assert [(a.name, a.bitrate) for a in plan.audio] == [
        ("audio_128k", 128_000), ("audio_96k", 96_000),
    ]  # fmt: skip
    assert all(a.track == 0 and a.sample_rate == 48000 for a in plan.audio)
    (download,) = plan.downloads  # the MP4 preset's: its name and audio settings
    assert download.name == "preview" and download.audio.bitrate == 128_000
    assert plan.audio_encodes == plan.audio  # the M4A reuses the 128k encode
    assert (plan.poster.width, plan.poster.height) == (1280, 240)
    assert plan.duration == 181.4 and plan.audio_duration == 181.4  # the sound's own
    assert plan.per_title is None and plan.interlaced is False


def test_an_audio_only_assets_outputs_are_the_contract() -> None:
    plan = plan_transcode(song(), PRESETS)
    assert layout.outputs(plan) == {
        "hls": "stream/master.m3u8",
        "dash": "stream/manifest.mpd",
        "m4a": "mp4/preview.m4a",
        "poster": "thumbs/poster.png",
    }
    assert layout.format_of("a1/mp4/preview.m4a") == "m4a"
    assert layout.format_of("a1/thumbs/poster.png") == "poster"
    rows = plan.summary()
    assert [(r["name"], r["kind"], r["audioBitrate"]) for r in rows] == [
        ("audio_128k", "stream", 128_000), ("audio_96k", "stream", 96_000),
        ("preview", "m4a", 128_000),
    ]  # fmt: skip
    assert all(r["width"] is None and r["videoBitrate"] is None for r in rows)


def test_an_audio_only_plan_survives_the_queue() -> None:
    plan = plan_transcode(song(), PRESETS)
    assert TranscodePlan.from_dict(plan.to_dict()) == plan


def test_every_container_without_pictures_is_planned_as_sound() -> None:
    for container in ("wav", "flac", "ogg", "aac", "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm"):
        assert plan_transcode(song(container), PRESETS).kind == AUDIO


def test_mediaconvert_plans_audio_only_as_ffmpeg_does() -> None:
    plan = plan_transcode(song(), PRESETS, PlanningRules(encoder=MEDIACONVERT))
    assert plan.audio_only and plan.encoder == MEDIACONVERT
    assert replace(plan, encoder="x264") == plan_transcode(song(), PRESETS)


def low_rate(codec: str = "mp3float", bitrate: int | None = 64_000) -> MediaInfo:
    media = song()
    audio = replace(media.audio, codec=codec, bitrate=bitrate) if media.audio else None
    return replace(media, audio=audio, bitrate=None)


def test_audio_rungs_above_the_sources_bitrate_are_dropped_but_one_stays() -> None:
    plan = plan_transcode(low_rate(bitrate=64_000), PRESETS)
    assert [a.name for a in plan.audio] == ["audio_96k"]  # all above 64k: the lowest stays
    (download,) = plan.downloads
    assert download.audio.bitrate == 96_000  # the kept rung's, not the preset's 128k
    assert plan.audio_encodes == plan.audio  # one encode still serves both
    assert [a.name for a in plan_transcode(low_rate(bitrate=112_000), PRESETS).audio] == [
        "audio_96k"
    ]
    # a VBR "128k" MP3 averages a little under it: it keeps its rung
    assert [a.name for a in plan_transcode(low_rate(bitrate=126_500), PRESETS).audio] == [
        "audio_128k", "audio_96k",
    ]  # fmt: skip


def test_the_containers_rate_stands_in_when_the_stream_does_not_say() -> None:
    media = replace(low_rate(bitrate=None), bitrate=100_000)
    assert [a.name for a in plan_transcode(media, PRESETS).audio] == ["audio_96k"]
    unknown = low_rate(bitrate=None)
    assert [a.name for a in plan_transcode(unknown, PRESETS).audio] == [
        "audio_128k", "audio_96k",
    ]  # fmt: skip


@pytest.mark.parametrize("codec", ["flac", "pcm_s16le", "pcm_s24le", "alac"])
def test_a_lossless_source_keeps_every_rung_whatever_its_rate(codec: str) -> None:
    plan = plan_transcode(low_rate(codec=codec, bitrate=64_000), PRESETS)
    assert [a.name for a in plan.audio] == ["audio_128k", "audio_96k"]
    assert plan.downloads[0].audio.bitrate == 128_000


def test_every_audio_track_is_kept_and_text_is_skipped() -> None:
    plan = plan_transcode(
        song(
            "matroska,webm",
            StreamInfo(1, "audio", "flac", "en", default=True, channels=2),
            StreamInfo(2, "audio", "flac", "fr", channels=6),
            StreamInfo(3, "subtitle", "subrip", "en"),
        ),
        PRESETS,
    )
    assert [(a.name, a.group_id, a.track) for a in plan.audio] == [
        ("audio_128k", "audio_128k", 1), ("audio_128k_fr", "audio_128k", 2),
        ("audio_96k", "audio_96k", 1), ("audio_96k_fr", "audio_96k", 2),
    ]  # fmt: skip
    assert [t.language for t in plan.tracks] == ["en", "fr"]
    (lost,) = plan.skipped
    assert lost.type == "text" and "audio-only" in lost.reason
    assert plan.downloads[0].audio.track == 1  # the default track


def _stats(plan: TranscodePlan) -> dict[str, RungStats]:
    return {a.name: RungStats("mp4a.40.2", a.bitrate + 2000, a.bitrate) for a in plan.audio}


def test_one_tracks_master_lists_its_bitrates_as_audio_variants() -> None:
    plan = plan_transcode(song(), PRESETS)
    master = master_playlist(plan, _stats(plan))
    assert master.splitlines() == [
        "#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-STREAM-INF:BANDWIDTH=130000,AVERAGE-BANDWIDTH=128000,CODECS="mp4a.40.2"',
        "audio_128k/index.m3u8",
        '#EXT-X-STREAM-INF:BANDWIDTH=98000,AVERAGE-BANDWIDTH=96000,CODECS="mp4a.40.2"',
        "audio_96k/index.m3u8",
    ]  # fmt: skip
    assert "RESOLUTION" not in master and "EXT-X-MEDIA" not in master


def test_several_tracks_form_a_group_per_bitrate_the_variant_playing_the_default() -> None:
    plan = plan_transcode(
        song(
            "matroska,webm",
            StreamInfo(1, "audio", "flac", "fr", channels=2),
            StreamInfo(2, "audio", "flac", "en", default=True, channels=2),
        ),
        PRESETS,
    )
    lines = master_playlist(plan, _stats(plan)).splitlines()
    media = [line for line in lines if line.startswith("#EXT-X-MEDIA:")]
    assert len(media) == 4  # two tracks in each of two groups
    default = [line for line in media if "DEFAULT=YES" in line]
    assert len(default) == 2 and all('LANGUAGE="en"' in line for line in default)
    assert all("URI=" not in line for line in default)  # the variant's own media
    assert all("URI=" in line for line in media if line not in default)
    variants = [i for i, line in enumerate(lines) if line.startswith("#EXT-X-STREAM-INF:")]
    # the default track keeps the group's name, the French one is audio_128k_fr
    assert [lines[i + 1] for i in variants] == ["audio_128k/index.m3u8", "audio_96k/index.m3u8"]
    assert 'AUDIO="audio_128k"' in lines[variants[0]]


def test_the_ffmpeg_command_encodes_sound_only(tmp_path: Path) -> None:
    plan = plan_transcode(song(), PRESETS)
    graph = filter_graph(plan)
    assert "0:v" not in graph and graph.startswith("[0:0]asplit=2")
    args = build_command(plan, tmp_path / "input", tmp_path, ffmpeg="ffmpeg", x264_preset="fast")
    assert "libx264" not in args and "-flags:v" not in args and "[poster]" not in args
    assert args[args.index("-f") + 1] == "mp3"  # the probed demuxer, forced
    assert args[args.index("-protocol_whitelist") + 1] == "file"
    tee = args[-1]
    assert "adaptation_sets=id=0,streams=0,1:" in tee  # one set: the one track's bitrates
    assert "f=ipod" in tee and "preview.m4a" in tee and "+faststart" in tee
    drawn = waveform_command(plan, tmp_path / "input", tmp_path, ffmpeg="ffmpeg")
    assert drawn[drawn.index("-i") + 1] == f"file:{tmp_path / 'mp4/preview.m4a'}"  # our own
    assert "showwavespic=s=1280x240" in drawn[drawn.index("-filter_complex") + 1]
    assert drawn[-1] == str(tmp_path / "thumbs/poster.png")


def test_ingest_records_an_audio_asset(tmp_path: Path) -> None:
    app = fake_app(tmp_path)
    prober = app.orchestrator.prober
    assert isinstance(prober, MemoryProber)
    prober.answers[SONG] = song()
    app.orchestrator.handle(upload(app, "uploads/alice/song.mp3", SONG))
    (asset,) = app.catalog.query()
    assert asset.status is AssetStatus.PROCESSING and asset.kind == "audio"
    assert asset.formats == ("hls", "dash", "m4a", "poster")
    app.processing.worker().drain()
    done = app.catalog.get(asset.asset_id)
    assert done is not None and done.status is AssetStatus.COMPLETED and done.kind == "audio"
    assert set(done.outputs) == {"hls", "dash", "m4a", "poster"}
    assert done.outputs["poster"].endswith("/thumbs/poster.png")


def test_the_aws_footprint_submits_an_audio_upload() -> None:
    uploads = MemoryObjectStore("uploads")
    catalog = MemoryCatalog()
    submitter = MemoryJobSubmitter()
    orchestrator = IngestOrchestrator(
        uploads=uploads,
        catalog=catalog,
        prober=MemoryProber({SONG: song()}),
        submitter=submitter,
        presets=PRESETS,
        bus=RecordingEventBus(),
        rules=PlanningRules(encoder=MEDIACONVERT),
    )
    info = uploads.put_bytes("uploads/alice/song.mp3", SONG)
    asset = orchestrator.handle(
        ObjectCreated(bucket="uploads", key="uploads/alice/song.mp3", size=info.size,
                      etag=info.etag)
    )  # fmt: skip
    assert asset.status is not AssetStatus.FAILED and submitter.submissions == 1
    assert asset.kind == AUDIO
