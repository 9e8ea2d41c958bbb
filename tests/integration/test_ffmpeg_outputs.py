"""Real FFmpeg on real and generated clips; outputs judged by parsers and by decoding."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path

import m3u8
import pytest

from tests.conftest import make_clip, real_clip
from tests.media_checks import audio_packets, dash_tracks, decode, hls_tracks, joined, luma
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.transcoder.base import TranscodeOutput
from vodkit.adapters.transcoder.ffmpeg import FfmpegTranscoder
from vodkit.domain.ladder import PlanningRules, plan_transcode
from vodkit.domain.media import MediaInfo
from vodkit.domain.plan import TranscodePlan

pytestmark = pytest.mark.integration
PRESETS = load_presets(default_presets_path())

SOURCES = {
    # name: (how to get it, expected rung sizes, has audio)
    "16x9": (lambda d: make_clip(d / "s.mp4", size="1280x720", seconds=3), [(1280, 720), (854, 480)], True),
    "cinema": (lambda d: make_clip(d / "s.mp4", size="1692x720", seconds=3, audio=None), [(1280, 544), (854, 364)], False),
    "small-4x3": (lambda d: make_clip(d / "s.mp4", size="320x240", seconds=2), [(320, 240)], True),
    "bigbuckbunny-5.1": (lambda d: real_clip("bigbuckbunny.mp4"), [(1280, 720), (854, 480)], True),
    "bikes-no-audio": (lambda d: real_clip("bikes.mp4"), [(640, 272)], False),
    "rotated-phone": (lambda d: make_clip(d / "s.mp4", size="1280x720", seconds=3, rotation=90), [(720, 1280), (480, 854)], True),
    # 768x576 displayed: between the 480p and 720p rungs, so its own size on top
    "anamorphic-mono": (lambda d: make_clip(d / "s.mp4", size="720x576", seconds=3, audio="mono", extra=("-vf", "setsar=16/15")), [(768, 576), (640, 480)], True),
    "in-between-540p": (lambda d: make_clip(d / "s.mp4", size="960x540", seconds=2), [(960, 540), (854, 480)], True),
    "120fps-7.1": (lambda d: make_clip(d / "s.mp4", size="320x240", seconds=2, rate=120, audio="7.1"), [(320, 240)], True),
    # black for its first and last seconds: the poster must come from the middle
    "fades": (lambda d: make_clip(d / "s.mp4", size="640x360", seconds=8, extra=("-vf", "fade=in:st=0:d=3,fade=out:st=5:d=3")), [(640, 360)], True),
}  # fmt: skip


@dataclass(frozen=True)
class Transcoded:
    source: Path
    media: MediaInfo
    plan: TranscodePlan
    out: Path
    output: TranscodeOutput
    sizes: list[tuple[int, int]]  # the rungs expected
    has_audio: bool


@pytest.fixture(scope="module", params=sorted(SOURCES))
def transcoded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Transcoded:
    make, sizes, has_audio = SOURCES[request.param]
    work = tmp_path_factory.mktemp(request.param)
    source = make(work)
    media = PyavProber().probe(source)
    plan = plan_transcode(media, PRESETS)
    out = work / "out"
    output = FfmpegTranscoder().transcode(plan, source, out, lambda p: None)
    return Transcoded(source, media, plan, out, output, sizes, has_audio)


def test_the_ladder_is_what_the_source_allows(transcoded: Transcoded) -> None:
    t = transcoded
    assert [(v.width, v.height) for v in t.plan.video] == t.sizes
    assert t.media.video is not None
    source_w, source_h = t.media.video.display_size
    for width, height in t.sizes:
        assert width <= source_w and height <= source_h
        assert abs(width / height - source_w / source_h) / (source_w / source_h) < 0.015


def test_both_manifests_list_every_rendition_over_one_set_of_segments(
    transcoded: Transcoded,
) -> None:
    t = transcoded
    stream = t.out / "stream"
    master, hls = hls_tracks(stream / "master.m3u8")
    _, dash = dash_tracks(stream / "manifest.mpd")
    assert [p.stream_info.resolution for p in master.playlists] == t.sizes
    assert bool(master.media) == t.has_audio
    assert sorted(hls) == sorted(dash)  # the same renditions...
    for name, track in hls.items():
        _, dash_track = dash[name]
        assert track == dash_track  # ...and the very same files
    for media in (m3u8.load(str(stream / name / "index.m3u8")) for name in hls):
        durations = [segment.duration for segment in media.segments]
        assert all(abs(d - t.plan.segment_seconds) < 0.05 for d in durations[:-1]), durations
        assert durations[-1] <= t.plan.segment_seconds + 0.05
        assert track.init.is_file()
        assert track.segments and all(s.is_file() for s in track.segments)
    video_reps = [rep for (a, rep), _ in dash.values() if a.content_type == "video"]  # type: ignore[attr-defined]
    audio_reps = [rep for (a, rep), _ in dash.values() if a.content_type == "audio"]  # type: ignore[attr-defined]
    assert sorted((r.width, r.height) for r in video_reps) == sorted(t.sizes)  # type: ignore[attr-defined]
    assert bool(audio_reps) == t.has_audio
    assert t.media.video is not None
    expected_fps = min(t.media.video.fps, 60.0)
    audio_bitrates = {a.name: a.bitrate for a in t.plan.audio}
    for variant, rung in zip(master.playlists, t.plan.video, strict=True):
        info = variant.stream_info
        assert info.average_bandwidth and info.bandwidth >= info.average_bandwidth
        assert info.codecs.startswith("avc1.")
        assert ("mp4a.40.2" in info.codecs) == t.has_audio
        assert abs(info.frame_rate - expected_fps) < 0.01  # kept, up to the 60 fps cap
        planned = rung.bitrate + audio_bitrates.get(rung.audio or "", 0)
        assert info.average_bandwidth <= planned * 1.15  # the encoder kept to the plan
        source_rate = t.media.video.bitrate
        if source_rate:
            assert rung.bitrate <= source_rate  # never more than the source carries


def test_every_rendition_decodes_with_the_sources_duration(
    transcoded: Transcoded, tmp_path: Path
) -> None:
    t = transcoded
    _, hls = hls_tracks(t.out / "stream" / "master.m3u8")
    source_duration = decode(t.source).duration
    for rung, (width, height) in zip(t.plan.video, t.sizes, strict=True):
        track = hls[rung.name]
        decoded = decode(joined(track.init, track.segments, tmp_path / f"{rung.name}.mp4"))
        assert (decoded.width, decoded.height) == (width, height)
        assert decoded.codec == "h264"
        assert abs(decoded.frames / decoded.duration - min(t.media.video.fps, 60)) < 1.5
        assert abs(decoded.duration - source_duration) <= 0.2, (rung.name, decoded.duration)
    for audio in t.plan.audio:
        track = hls[audio.name]
        decoded = decode(joined(track.init, track.segments, tmp_path / f"{audio.name}.mp4"))
        assert decoded.audio_channels == 2  # 5.1 is downmixed
        assert abs(decoded.duration - source_duration) <= 0.2
    assert bool(t.plan.audio) == t.has_audio


def test_the_preview_and_poster(transcoded: Transcoded) -> None:
    t = transcoded
    preview = decode(t.out / t.output.outputs["mp4"])
    assert abs(preview.duration - decode(t.source).duration) <= 0.2
    assert preview.audio_channels == (2 if t.has_audio else None)
    assert t.media.video is not None and preview.width is not None
    assert preview.width <= t.media.video.display_size[0]
    # the default preview's box is the top rung's: the embed snippet (the top rung's size)
    # and the preview agree, in-between sources included
    assert (preview.width, preview.height) == t.sizes[0]
    shared = [a for a in t.plan.audio if a.bitrate == 128_000]  # as the preview's
    if shared:  # the preview's audio is that stream rendition's encode, byte for byte
        _, hls = hls_tracks(t.out / "stream" / "master.m3u8")
        stream_audio = hls[shared[0].name]
        joined_audio = joined(stream_audio.init, stream_audio.segments, t.out.parent / "a.mp4")
        assert audio_packets(joined_audio) == audio_packets(t.out / t.output.outputs["mp4"])
    poster = decode(t.out / t.output.outputs["poster"])
    assert (poster.width, poster.height) == t.sizes[0]
    assert (t.out / t.output.outputs["poster"]).read_bytes()[:2] == b"\xff\xd8"  # JPEG
    mean, spread = luma(t.out / t.output.outputs["poster"])
    assert 30 < mean < 230 and spread > 20, (mean, spread)  # not a black, white or flat frame


def sprite_cues(vtt: Path) -> list[tuple[str, ...]]:
    text = vtt.read_text()
    assert text.startswith("WEBVTT")
    cues = re.findall(
        r"(\d\d):(\d\d):(\d\d\.\d{3}) --> (\d\d):(\d\d):(\d\d\.\d{3})\n(\S+)#xywh=(\d+),(\d+),(\d+),(\d+)",
        text,
    )
    assert cues
    return cues


def test_the_scrub_sprite_and_its_cues(transcoded: Transcoded) -> None:
    t = transcoded
    vtt = t.out / t.output.outputs["sprite"]
    cues = sprite_cues(vtt)
    seconds = [
        (int(h1) * 3600 + int(m1) * 60 + float(s1), int(h2) * 3600 + int(m2) * 60 + float(s2))
        for h1, m1, s1, h2, m2, s2, *_ in cues
    ]
    assert seconds[0][0] == 0
    assert all(a[1] == b[0] for a, b in pairwise(seconds))  # contiguous
    assert abs(seconds[-1][1] - decode(t.source).duration) < 0.25
    assert max(end - start for start, end in seconds) <= 5  # a tile every 5 s
    images = {cue[6] for cue in cues}
    assert images == {"sprite.jpg"}
    sheet = decode(vtt.parent / "sprite.jpg")  # the image the cues name exists
    assert sheet.width and sheet.height
    for *_, x, y, w, h in cues:
        assert int(x) + int(w) <= sheet.width and int(y) + int(h) <= sheet.height
        assert abs(int(w) / int(h) - t.sizes[0][0] / t.sizes[0][1]) < 0.05


def test_keyframes_line_up_across_rungs(transcoded: Transcoded, tmp_path: Path) -> None:
    t = transcoded
    _, hls = hls_tracks(t.out / "stream" / "master.m3u8")
    keyframes = {
        rung.name: decode(
            joined(hls[rung.name].init, hls[rung.name].segments, tmp_path / f"{rung.name}.mp4")
        ).keyframes
        for rung in t.plan.video
    }
    first = next(iter(keyframes.values()))
    assert len(first) >= 2 or t.plan.duration <= t.plan.gop_seconds
    assert all(k == first for k in keyframes.values())
    gaps = {round(b - a, 1) for a, b in pairwise(first)}
    assert gaps <= {float(t.plan.gop_seconds)}


def test_progress_flows_during_the_transcode_with_an_eta(
    clips: dict[str, Path], tmp_path: Path
) -> None:
    from vodkit.adapters.transcoder.base import Progress

    source = make_clip(tmp_path / "s.mp4", size="1280x720", seconds=8)
    plan = plan_transcode(PyavProber().probe(source), PRESETS)
    seen: list[Progress] = []
    FfmpegTranscoder(x264_preset="medium").transcode(plan, source, tmp_path / "out", seen.append)
    middle = [p for p in seen if 0 < p.percent < 100]
    assert len(middle) >= 3, seen  # reported while it runs, not only at the end
    assert middle[0].percent < 50
    assert all(a.percent <= b.percent for a, b in pairwise(middle))
    assert all(p.eta_seconds is not None and p.eta_seconds >= 0 for p in middle)
    assert seen[-1].percent == 100.0


def test_a_work_directory_with_characters_the_tee_muxer_splits_on(tmp_path: Path) -> None:
    source = make_clip(tmp_path / "s.mp4", size="320x240", seconds=2)
    plan = plan_transcode(PyavProber().probe(source), PRESETS)
    out = tmp_path / "a|b's [c]:d"
    output = FfmpegTranscoder().transcode(plan, source, out, lambda p: None)
    assert decode(out / output.outputs["mp4"]).audio_channels == 2
    assert (out / "stream" / "manifest.mpd").is_file()


def test_a_long_video_fills_several_sprite_sheets(tmp_path: Path) -> None:
    """Sheets hold 10x10 tiles; 2x2 here, so that a 6 s clip (a tile a second) needs two."""
    source = make_clip(tmp_path / "s.mp4", size="320x240", seconds=6)
    plan = plan_transcode(PyavProber().probe(source), PRESETS, PlanningRules(sprite_interval=1))
    plan = replace(plan, sprite=replace(plan.sprite, columns=2, rows=2))
    output = FfmpegTranscoder().transcode(plan, source, tmp_path / "out", lambda p: None)
    thumbs = tmp_path / "out" / "thumbs"
    assert sorted(p.name for p in thumbs.glob("*.jpg")) == [
        "poster.jpg",
        "sprite-2.jpg",
        "sprite.jpg",
    ]
    assert f"thumbs/{plan.sprite.sheet_name(1)}" in output.files
    cues = sprite_cues(thumbs / "sprite.vtt")
    assert [cue[6] for cue in cues] == ["sprite.jpg"] * 4 + ["sprite-2.jpg"] * 2
    tile = (plan.sprite.tile_width, plan.sprite.tile_height)
    assert [tuple(map(int, cue[7:9])) for cue in cues[3:5]] == [tile, (0, 0)]  # last cell, first
    for name in ("sprite.jpg", "sprite-2.jpg"):
        sheet = decode(thumbs / name)
        assert (sheet.width, sheet.height) == (
            2 * plan.sprite.tile_width,
            2 * plan.sprite.tile_height,
        )
