"""Seams (issue 28): three minutes of real footage chunked at 30 s against the same source
in one pass with the same plan (``tests/seams.py`` makes both, once per session).

Judged by parsing the fragments' boxes, counting the frames, comparing the audio's packets
and scoring VMAF with the FFmpeg wheel's libvmaf; players are ``tests/e2e``'s.
"""

from __future__ import annotations

import json
import struct
import subprocess
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import av
import pytest

from tests.conftest import FFMPEG
from tests.integration.test_chunked_encode import child, frames, segments, timing, trex_duration
from tests.media_checks import audio_packets, joined
from tests.seams import CHUNK_SECONDS, RATE, SECONDS, Seams

pytestmark = pytest.mark.integration
MS = Fraction(1, 1000)
# libvmaf scores every 5th frame (5 a second, every join's second included): every frame
# costs minutes of CI for 4,500 frames twice; frame-exactness is the other tests' job.
VMAF_SUBSAMPLE = 5


def timescale(init: Path) -> int:
    """The track's ``mdhd`` timescale: the unit of its ``tfdt`` and sample durations."""
    data = init.read_bytes()
    a, _ = child(data, ["moov", "trak", "mdia", "mdhd"])
    at = a + (20 if data[a] == 1 else 12)  # version, flags, creation and modification times
    return int(struct.unpack(">I", data[at : at + 4])[0])


def timeline(rung: Path) -> list[tuple[Fraction, Fraction]]:
    """Each fragment's (start, end) in seconds: its ``tfdt``, plus its samples' durations."""
    unit = timescale(rung / "init.mp4")
    default = trex_duration(rung / "init.mp4")
    return [
        (Fraction(t, unit), Fraction(t + d, unit))
        for t, d in (timing(s, default) for s in segments(rung))
    ]


def test_the_source_is_three_minutes_in_30_s_chunks(seams: Seams) -> None:
    assert seams.plan.duration == SECONDS
    assert seams.joins == list(range(CHUNK_SECONDS, SECONDS, CHUNK_SECONDS))  # 6 chunks


def test_every_rung_has_exactly_the_one_pass_frame_count(seams: Seams, tmp_path: Path) -> None:
    for rung in seams.plan.video:
        one, ours = seams.one_pass / "stream" / rung.name, seams.stitched / "stream" / rung.name
        theirs = frames(joined(one / "init.mp4", segments(one), tmp_path / f"one-{rung.name}.mp4"))
        stitched = frames(joined(ours / "init.mp4", segments(ours), tmp_path / f"{rung.name}.mp4"))
        assert len(stitched) == len(theirs) == SECONDS * RATE, rung.name
        times = [t for t, _ in stitched]
        assert times == [t for t, _ in theirs], rung.name
        # presentation times rise by one frame each: no frame twice, none missing, at a join
        assert all(b - a == Fraction(1, RATE) for a, b in pairwise(times)), rung.name


def test_every_rung_s_fragments_follow_each_other_within_1_ms(seams: Seams) -> None:
    for rung in seams.plan.video:
        spans = timeline(seams.stitched / "stream" / rung.name)
        assert len(spans) == SECONDS // seams.plan.segment_seconds, rung.name
        assert spans[0][0] == 0
        for (start, end), (following, _) in pairwise(spans):
            assert start < end  # each fragment moves time forward
            assert abs(following - end) <= MS, (rung.name, float(end), float(following))
        starts = [start for start, _ in spans]
        for join in seams.joins:  # each chunk's first fragment starts where its join is
            assert Fraction(join) in starts, (rung.name, join)
        one = timeline(seams.one_pass / "stream" / rung.name)
        assert spans == one, rung.name  # and is the one pass's, fragment for fragment


def test_the_audio_is_one_continuous_encode_of_the_whole_source(
    seams: Seams, tmp_path: Path
) -> None:
    (sound,) = seams.plan.audio
    ours, one = seams.stitched / "stream" / sound.name, seams.one_pass / "stream" / sound.name
    spans = timeline(ours)
    for (_, end), (following, _) in pairwise(spans):
        assert following == end  # no join anywhere in the audio: not a sample's gap
    with av.open(str(seams.source)) as source:
        stream = source.streams.audio[0]
        assert stream.duration is not None and stream.time_base is not None
        length = Fraction(stream.duration) * stream.time_base
    frame = Fraction(1024, 48_000)  # one AAC frame: the encoder's priming and padding
    assert abs(spans[-1][1] - spans[0][0] - length) <= 2 * frame, float(spans[-1][1])
    # one encode of the whole source: packet for packet the one pass's audio
    stitched = audio_packets(joined(ours / "init.mp4", segments(ours), tmp_path / "ours.mp4"))
    reference = audio_packets(joined(one / "init.mp4", segments(one), tmp_path / "one.mp4"))
    assert stitched == reference


def vmaf(distorted: Path, reference: Path, log: Path) -> float:
    """libvmaf's pooled mean (``vmaf_v0.6.1``) over ``distorted``, every VMAF_SUBSAMPLE-th frame."""
    graph = (
        "[0:v]setpts=PTS-STARTPTS[d];[1:v]setpts=PTS-STARTPTS[r];"
        f"[d][r]libvmaf=model=version=vmaf_v0.6.1:n_subsample={VMAF_SUBSAMPLE}:n_threads=2:"
        f"log_fmt=json:log_path={log}"
    )
    done = subprocess.run(
        [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(distorted),
         "-i", str(reference), "-lavfi", graph, "-f", "null", "-"],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    scored = json.loads(log.read_text())
    assert len(scored["frames"]) == SECONDS * RATE // VMAF_SUBSAMPLE  # the whole title
    return float(scored["pooled_metrics"]["vmaf"]["mean"])


def test_the_top_rung_s_vmaf_is_within_half_a_point_of_the_one_pass(
    seams: Seams, tmp_path: Path
) -> None:
    top = seams.plan.video[0]
    scores = []
    for name, root in (("one", seams.one_pass), ("stitched", seams.stitched)):
        rung = root / "stream" / top.name
        whole = joined(rung / "init.mp4", segments(rung), tmp_path / f"{name}.mp4")
        scores.append(vmaf(whole, seams.source, tmp_path / f"{name}.json"))
    one, stitched = scores
    assert one > 50, scores  # a real picture was scored, not a blank
    assert abs(stitched - one) <= 0.5, scores
