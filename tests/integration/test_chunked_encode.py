"""Split-and-stitch (issue 28): a real clip encoded chunk by chunk is the one-pass encode.

Big Buck Bunny looped to 32 s (720p, its sparse source keyframes force real seeks), chunked
at 12 s into 3 chunks, each encoded on its own into every video rung, then stitched into one
rung directory; judged against ``FfmpegTranscoder``'s one pass of the same plan by parsing
the fragments' boxes and decoding every frame.
"""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import av
import m3u8
import pytest

from tests.conftest import FFMPEG, real_clip
from tests.media_checks import joined
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.adapters.transcoder.chunk import ChunkEncoder, stitch_rung
from vodkit.adapters.transcoder.ffmpeg import FfmpegTranscoder
from vodkit.domain.chunks import plan_chunks
from vodkit.domain.ladder import plan_transcode
from vodkit.domain.plan import TranscodePlan, VideoRendition

pytestmark = pytest.mark.integration
CHUNK_SECONDS = 12
PRESETS = load_presets(default_presets_path())


@dataclass(frozen=True)
class Encoded:
    plan: TranscodePlan
    one_pass: Path  # the one pass's stream/ directory
    stitched: Path  # one directory per rung, stitched from the chunks
    chunks: int
    written: list[dict[str, Path]]  # each chunk's directories, by rung or file name


def encode_both(plan: TranscodePlan, source: Path, work: Path) -> Encoded:
    """The one pass of ``plan``, and its rungs stitched from chunks of CHUNK_SECONDS."""
    FfmpegTranscoder().transcode(plan, source, work / "one", lambda progress: None)
    encoder = ChunkEncoder(FFMPEG)
    chunks = plan_chunks(plan.duration, plan.segment_seconds, CHUNK_SECONDS)
    written = [encoder.encode(plan, c, source, work / "chunks" / str(c.index)) for c in chunks]
    for rung in plan.video:
        stitch_rung([rungs[rung.name] for rungs in written], work / "stitched" / rung.name)
    return Encoded(plan, work / "one" / "stream", work / "stitched", len(chunks), written)


@pytest.fixture(scope="module")
def encoded(tmp_path_factory: pytest.TempPathFactory) -> Encoded:
    work = tmp_path_factory.mktemp("chunked")
    source = work / "looped.mp4"
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-stream_loop", "5",
         "-i", str(real_clip("bigbuckbunny.mp4")), "-c", "copy", str(source)],
        check=True,
    )  # fmt: skip
    plan = plan_transcode(PyavProber().probe(source), PRESETS)
    # Two rungs, no preview: enough to prove the rungs of one decode, and quick.
    small = VideoRendition("240p", 426, 240, 400_000, audio=plan.video[-1].audio)
    return encode_both(replace(plan, video=(plan.video[-1], small), files=()), source, work)


@pytest.fixture(scope="module")
def ntsc(tmp_path_factory: pytest.TempPathFactory) -> Encoded:
    """40 s at 30000/1001: segment boundaries fall between frames."""
    work = tmp_path_factory.mktemp("ntsc")
    source = work / "ntsc.mp4"
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30000/1001:duration=40",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "300", "-pix_fmt", "yuv420p",
         str(source)],
        check=True,
    )  # fmt: skip
    plan = plan_transcode(PyavProber().probe(source), PRESETS)
    assert plan.frame_rate == Fraction(30000, 1001)
    return encode_both(plan, source, work)


def boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[str, int, int]]:
    """(type, payload start, end) of the boxes in ``data[start:end]``."""
    end = len(data) if end is None else end
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[start + 8 : start + 16])[0], 16
        size = size or end - start
        assert size >= header, "a malformed box"
        yield kind.decode("latin-1"), start + header, start + size
        start += size


def child(data: bytes, path: list[str], start: int = 0, end: int | None = None) -> tuple[int, int]:
    for kind, payload, stop in boxes(data, start, end):
        if kind == path[0]:
            return (payload, stop) if len(path) == 1 else child(data, path[1:], payload, stop)
    raise AssertionError(f"no {path[0]} box")


def timing(segment: Path, default_duration: int) -> tuple[int, int]:
    """A one-track media segment's ``moof/traf/tfdt`` decode time and the sum of its
    samples' durations (``trun``, else ``tfhd``'s default, else the init's ``trex``)."""
    data = segment.read_bytes()
    traf = child(data, ["moof", "traf"])
    a, _ = child(data, ["tfdt"], *traf)
    version = data[a]
    tfdt = struct.unpack(">Q" if version else ">I", data[a + 4 : a + (12 if version else 8)])[0]
    a, _ = child(data, ["tfhd"], *traf)
    flags = int.from_bytes(data[a + 1 : a + 4], "big")
    at = a + 8 + (8 if flags & 0x1 else 0) + (4 if flags & 0x2 else 0)
    if flags & 0x8:
        default_duration = struct.unpack(">I", data[at : at + 4])[0]
    a, _ = child(data, ["trun"], *traf)
    flags = int.from_bytes(data[a + 1 : a + 4], "big")
    count = struct.unpack(">I", data[a + 4 : a + 8])[0]
    at = a + 8 + (4 if flags & 0x1 else 0) + (4 if flags & 0x4 else 0)
    fields = [bit for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit]
    total = 0
    for i in range(count):
        row = at + i * 4 * len(fields)
        total += struct.unpack(">I", data[row : row + 4])[0] if flags & 0x100 else default_duration
    return tfdt, total


def trex_duration(init: Path) -> int:
    data = init.read_bytes()
    a, _ = child(data, ["moov", "mvex", "trex"])
    return int(struct.unpack(">I", data[a + 12 : a + 16])[0])


def segments(rung: Path) -> list[Path]:
    return [rung / s.uri for s in m3u8.load(str(rung / "index.m3u8")).segments]


def frames(path: Path) -> list[tuple[Fraction, bool]]:
    """Every video frame's presentation time (edit list applied), in presentation order,
    and whether it is a keyframe: from the packets (H.264 in MP4: one frame each), as the
    player gets them; decoding is the playlist test's."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.time_base is not None
        found = [
            (Fraction(packet.pts) * stream.time_base, packet.is_keyframe)
            for packet in container.demux(stream)
            if packet.pts is not None and packet.size
        ]
        return sorted(found)


def test_the_clip_is_cut_into_three_chunks(encoded: Encoded) -> None:
    assert encoded.chunks == 3 and encoded.plan.duration > 30


def test_each_rung_has_the_one_pass_segments_with_the_same_durations(encoded: Encoded) -> None:
    for rung in encoded.plan.video:
        one = m3u8.load(str(encoded.one_pass / rung.name / "index.m3u8"))
        stitched = m3u8.load(str(encoded.stitched / rung.name / "index.m3u8"))
        assert [s.uri for s in stitched.segments] == [s.uri for s in one.segments]
        assert len(one.segments) == 6
        for ours, theirs in zip(stitched.segments, one.segments, strict=True):
            assert ours.duration == pytest.approx(theirs.duration, abs=1e-3)
        assert stitched.is_endlist and stitched.playlist_type == "vod"
        assert stitched.media_sequence == one.media_sequence == 1


def test_every_segment_decode_time_is_the_one_pass_and_continues(encoded: Encoded) -> None:
    for rung in encoded.plan.video:
        one, ours = encoded.one_pass / rung.name, encoded.stitched / rung.name
        default = trex_duration(ours / "init.mp4")
        stitched = [timing(s, default) for s in segments(ours)]
        reference = [timing(s, trex_duration(one / "init.mp4")) for s in segments(one)]
        assert [t for t, _ in stitched] == [t for t, _ in reference], rung.name
        assert stitched == reference  # the same samples' durations in every segment, too
        for (start, duration), (following, _) in pairwise(stitched):
            assert start + duration == following  # no gap, no overlap at any join


def test_every_frame_is_the_one_pass_s_at_the_same_time(encoded: Encoded, tmp_path: Path) -> None:
    step = 1 / encoded.plan.frame_rate
    for rung in encoded.plan.video:
        one, ours = encoded.one_pass / rung.name, encoded.stitched / rung.name
        theirs = frames(joined(one / "init.mp4", segments(one), tmp_path / f"one-{rung.name}.mp4"))
        stitched = frames(joined(ours / "init.mp4", segments(ours), tmp_path / f"{rung.name}.mp4"))
        times = [t for t, _ in stitched]
        assert times == [t for t, _ in theirs]  # same count, same presentation times
        assert len(times) == round(encoded.plan.duration * encoded.plan.frame_rate)
        assert all(b - a == step for a, b in pairwise(times))  # no duplicate, none dropped
        assert [t for t, key in stitched if key] == [t for t, key in theirs if key]


def test_each_segment_starts_on_a_keyframe(encoded: Encoded, tmp_path: Path) -> None:
    for rung in encoded.plan.video:
        ours = encoded.stitched / rung.name
        for segment in segments(ours):
            alone = joined(ours / "init.mp4", [segment], tmp_path / f"{segment.name}.mp4")
            with av.open(str(alone)) as container:
                first = next(container.demux(container.streams.video[0]))
                assert first.is_keyframe, (rung.name, segment.name)


def test_the_stitched_playlist_decodes_end_to_end(encoded: Encoded) -> None:
    for rung in encoded.plan.video:
        played = subprocess.run(
            [FFMPEG, "-hide_banner", "-nostdin", "-v", "error", "-xerror",
             "-i", str(encoded.stitched / rung.name / "index.m3u8"), "-f", "null", "-"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert played.returncode == 0 and not played.stderr.strip(), played.stderr[-500:]


def test_at_a_fractional_rate_frames_keyframes_and_decode_times_are_the_one_pass_s(
    ntsc: Encoded, tmp_path: Path
) -> None:
    (rung,) = ntsc.plan.video
    one, ours = ntsc.one_pass / rung.name, ntsc.stitched / rung.name
    theirs = frames(joined(one / "init.mp4", segments(one), tmp_path / "one.mp4"))
    stitched = frames(joined(ours / "init.mp4", segments(ours), tmp_path / "ours.mp4"))
    assert stitched == theirs  # every frame at its time, keyframes on the same frames
    timings = [timing(s, trex_duration(ours / "init.mp4")) for s in segments(ours)]
    for (start, duration), (following, _) in pairwise(timings):
        assert start + duration == following
    # every segment starts at the first frame at or after a multiple of 6 s
    timescale = 30000  # the init's: 1001/30000 s frames
    starts = [Fraction(t, timescale) for t, _ in timings]
    frame = Fraction(1001, 30000)
    assert all(6 * i <= start < 6 * i + frame for i, start in enumerate(starts)), starts
    played = subprocess.run(
        [FFMPEG, "-hide_banner", "-nostdin", "-v", "error", "-xerror",
         "-i", str(ours / "index.m3u8"), "-f", "null", "-"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert played.returncode == 0 and not played.stderr.strip(), played.stderr[-500:]


def test_at_a_fractional_rate_the_segments_are_the_one_pass_s(ntsc: Encoded) -> None:
    (rung,) = ntsc.plan.video
    one, ours = ntsc.one_pass / rung.name, ntsc.stitched / rung.name
    default = trex_duration(ours / "init.mp4")
    assert [timing(s, default) for s in segments(ours)] == [
        timing(s, default) for s in segments(one)
    ]


def test_the_chunks_preview_video_has_the_one_pass_preview_s_frames(
    ntsc: Encoded, tmp_path: Path
) -> None:
    """The preview's video comes out of the chunks as fragments, for the stitch to remux."""
    (preview,) = ntsc.plan.files
    fragments = stitch_rung([w[preview.name] for w in ntsc.written], tmp_path / "preview")
    ours = joined(
        tmp_path / "preview" / "init.mp4",
        [tmp_path / "preview" / name for name in fragments],
        tmp_path / "fragments.mp4",
    )
    mp4 = ntsc.one_pass.parent / "mp4" / f"{preview.name}.mp4"
    assert frames(ours) == frames(mp4)
