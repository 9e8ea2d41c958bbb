"""One chunk's FFmpeg command: the one pass's frames, keyframes and segments, by arithmetic."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from tests.fakes import HD
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.sandbox import Finished
from vodkit.adapters.transcoder.chunk import (
    ChunkEncoder,
    build_command,
    first_frame,
    frame_step,
    keyframes,
    segment_cut,
)
from vodkit.domain.chunks import Chunk, plan_chunks
from vodkit.domain.errors import ConfigError, ErrorCode, TranscodeFailed, TransientError
from vodkit.domain.ladder import plan_transcode
from vodkit.domain.plan import TranscodePlan

PLAN = plan_transcode(HD, load_presets(default_presets_path()))
RATES = [25.0, 30.0, 50.0, 29.97, 23.976, 59.94, 12.0]


def at(fps: float) -> TranscodePlan:
    return replace(PLAN, fps=fps, duration=400.0)


def one_pass_keyframes(plan: TranscodePlan, frames: int) -> list[int]:
    """FFmpeg's ``gte(t,n_forced*G)`` over a whole title: t = index x frame duration."""
    step, forced, found = frame_step(plan), 0, []
    for n in range(frames):
        if n * step >= forced * plan.gop_seconds:
            found.append(n)
            forced += 1
    return found


def chunk_keyframes(plan: TranscodePlan, chunk: Chunk, frames: range) -> list[int]:
    """The chunk's expression, ``gte((n+N0)*step,(n_forced+K0)*G)``, n counted in the chunk."""
    n0, step, forced, found = frames.start, frame_step(plan), 0, []
    assert f"(n+{n0})*{step!r}" in keyframes(plan, chunk)
    k0 = chunk.start // plan.gop_seconds
    assert f"(n_forced+{k0})*{plan.gop_seconds}" in keyframes(plan, chunk)
    for n in range(len(frames)):
        if (n + n0) * step >= (forced + k0) * plan.gop_seconds:
            found.append(n + n0)
            forced += 1
    return found


def hls_cuts(plan: TranscodePlan, chunk: Chunk, keys: list[int]) -> list[int]:
    """Where FFmpeg's HLS muxer starts segments: the first keyframe at or past k x
    ``-hls_time`` after the chunk's first frame (``end_pts = hls_time * number``)."""
    cut = Fraction(segment_cut(plan, chunk))
    starts, number = [keys[0]], 1
    for key in keys[1:]:
        if (key - keys[0]) / plan.frame_rate >= cut * number:
            starts.append(key)
            number += 1
    return starts


@pytest.mark.parametrize("fps", RATES)
def test_first_frame_is_the_first_at_or_after_the_time(fps: float) -> None:
    plan = at(fps)
    step = frame_step(plan)
    for seconds in range(0, 400, 6):
        index = first_frame(plan, seconds)
        assert index * step >= seconds and (index == 0 or (index - 1) * step < seconds)


@pytest.mark.parametrize("fps", RATES)
def test_chunks_force_the_one_pass_keyframes_and_cut_its_segments(fps: float) -> None:
    plan = at(fps)
    total = first_frame(plan, plan.duration)
    keys = one_pass_keyframes(plan, total)
    # the one pass's segments: the first keyframe at or past each multiple of 6 s
    segments = [next(k for k in keys if k >= first_frame(plan, s)) for s in range(0, 400, 6)]
    stitched_keys: list[int] = []
    stitched_segments: list[int] = []
    for chunk in plan_chunks(plan.duration, plan.segment_seconds, 60):
        end = total if chunk.end >= plan.duration else first_frame(plan, chunk.end)
        chunk_keys = chunk_keyframes(plan, chunk, range(first_frame(plan, chunk.start), end))
        stitched_keys += chunk_keys
        stitched_segments += hls_cuts(plan, chunk, chunk_keys)
    assert stitched_keys == keys
    assert stitched_segments == segments


def test_segments_cut_at_their_length_where_it_is_whole_frames() -> None:
    chunk = Chunk(1, 60, 120, 11)
    assert segment_cut(at(25.0), chunk) == "6"
    assert segment_cut(at(29.97), chunk) == "5.966633"  # 6 s less one 1001/30000 s frame


def test_chunks_too_long_for_a_slow_fractional_rate_are_refused() -> None:
    with pytest.raises(ConfigError, match="too long"):
        segment_cut(at(4.995), Chunk(1, 60, 120, 11))


def test_the_command_seeks_early_and_cuts_by_frame_index(tmp_path: Path) -> None:
    chunk = Chunk(1, 12, 24, 3)
    plan = replace(PLAN, duration=100.0)
    args = build_command(
        plan, chunk, tmp_path / "input", tmp_path, ffmpeg="ffmpeg", x264_preset="veryfast"
    )
    joined = " ".join(args)
    assert args[args.index("-ss") + 1] == "10.000000" and args.index("-ss") < args.index("-i")
    assert "-copyts -start_at_zero" in joined
    graph = args[args.index("-filter_complex") + 1]
    rate = plan.frame_rate
    assert f"fps={rate.numerator}/{rate.denominator},trim=start_pts=" in graph
    assert f"trim=start_pts={first_frame(plan, 12)}:end_pts={first_frame(plan, 24)}," in graph
    assert args.count("-force_key_frames") == 1 and keyframes(plan, chunk) in args
    assert "-start_number 3" in joined and "-hls_segment_type fmp4" in joined
    assert "movflags=+frag_discont" in args and "-avoid_negative_ts disabled" in joined
    assert args[args.index("-var_stream_map") + 1] == "v:0,name:720p v:1,name:480p v:2,name:preview"
    assert "-b:v:0 2000000" in joined and "-b:v:2 1500000" in joined  # the preview's video
    assert "[a0]" not in joined and "0:a" not in joined  # video only: audio is encoded whole
    assert "[poster]" not in graph and "[sprite]" not in graph
    labels = [f"[v{i}]" for i in range(3)]
    assert [graph.count(label) for label in labels] == [1, 1, 1]  # each made once...
    assert [args.count(label) for label in labels] == [1, 1, 1]  # ...and mapped once


def test_the_last_chunk_runs_to_the_source_s_end(tmp_path: Path) -> None:
    plan = replace(PLAN, duration=31.84)
    last = Chunk(2, 24, plan.duration, 5)
    graph = build_command(plan, last, tmp_path, tmp_path, ffmpeg="f", x264_preset="fast")
    assert f"trim=start_pts={first_frame(plan, 24)}," in " ".join(graph)
    assert "end_pts" not in " ".join(graph)


@pytest.mark.parametrize("name", ["7 20p", "a:b", "a,b", "%v", "", "x" * 65])
def test_rung_names_unsafe_for_the_muxer_are_refused(name: str, tmp_path: Path) -> None:
    plan = replace(PLAN, video=(replace(PLAN.video[0], name=name),))
    with pytest.raises(ConfigError):
        build_command(plan, Chunk(0, 0, 10, 1), tmp_path, tmp_path, ffmpeg="f", x264_preset="f")


def test_a_plan_without_a_constant_rate_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="frame rate"):
        build_command(
            replace(PLAN, fps=0.0), Chunk(0, 0, 10, 1), tmp_path, tmp_path, ffmpeg="f",
            x264_preset="f",
        )  # fmt: skip


def test_a_rung_and_the_preview_may_not_share_a_name(tmp_path: Path) -> None:
    plan = replace(PLAN, video=(replace(PLAN.video[0], name="preview"),))
    with pytest.raises(ConfigError, match="named apart"):
        build_command(plan, Chunk(0, 0, 10, 1), tmp_path, tmp_path, ffmpeg="f", x264_preset="f")


def test_failures_say_which_chunk_and_whose_fault(tmp_path: Path) -> None:
    encoder = ChunkEncoder("ffmpeg", timeout=5)
    chunk = Chunk(3, 36, 48, 7)
    full = Finished(1, "", "x\n[out] No space left on device\n", timed_out=False)
    assert isinstance(encoder._failure(chunk, full), TransientError)
    late = encoder._failure(chunk, Finished(-9, "", "", timed_out=True))
    assert isinstance(late, TranscodeFailed) and late.code == ErrorCode.TIMEOUT
    broken = encoder._failure(chunk, Finished(1, "", "Invalid data found\n", timed_out=False))
    assert isinstance(broken, TranscodeFailed) and "chunk 3: Invalid data found" in str(broken)
