"""Split-and-stitch's pure parts (issue 28): the task message, scratch keys, when to chunk,
and progress as chunk-seconds done."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests.fakes import HD
from vodkit.adapters.chunks.base import Piece, progress_of
from vodkit.adapters.presets.file import load_presets
from vodkit.adapters.transcoder.ffmpeg import adaptation_sets, with_video_cut
from vodkit.domain.chunks import ChunkTask, scratch_prefix, scratch_root
from vodkit.domain.errors import InvalidEvent
from vodkit.domain.jobs import TranscodeJob
from vodkit.domain.ladder import plan_transcode
from vodkit.domain.plan import TranscodePlan
from vodkit.domain.tracks import Track, TrackType
from vodkit.services.chunked import chunkable


@pytest.fixture
def sample_plan() -> TranscodePlan:
    return plan_transcode(HD, load_presets())  # 6 s segments, a constant rate


@pytest.fixture
def job(sample_plan: TranscodePlan) -> TranscodeJob:
    return TranscodeJob("job-1", "asset-1", "up", "uploads/a/b.mp4", sample_plan)


def test_a_task_round_trips_and_says_its_chunks(job: TranscodeJob) -> None:
    long = replace(job, plan=replace(job.plan, duration=100.0))
    for piece in (0, 3, -1, -2, None):
        task = ChunkTask(long, 30, piece)
        again = ChunkTask.from_dict(json.loads(task.to_json()))
        assert again == task
    assert [c.start for c in ChunkTask(long, 30, 0).chunks] == [0, 30, 60]


@pytest.mark.parametrize(
    "change",
    [
        {"piece": "0"},
        {"piece": -3},
        {"piece": 10**9},
        {"piece": True},
        {"chunkSeconds": 0},
        {"chunkSeconds": "60"},
        {"job": {"jobId": "j"}},
    ],
)
def test_a_malformed_task_is_refused(job: TranscodeJob, change: dict[str, object]) -> None:
    data = {**json.loads(ChunkTask(job, 30, 0).to_json()), **change}
    with pytest.raises(InvalidEvent):
        ChunkTask.from_dict(data)


def test_each_run_of_each_piece_has_keys_of_its_own() -> None:
    keys = {
        scratch_prefix("a", "j", piece, attempt) for piece in (0, 1, -1, -2) for attempt in (1, 2)
    }
    assert len(keys) == 8
    assert all(k.startswith(scratch_root("a", "j")) and k.startswith("scratch/") for k in keys)
    assert scratch_prefix("a", "j", 3, 2) == "scratch/a/j/chunks/3/a2/"


def test_only_long_constant_rate_videos_without_text_tracks_are_chunked(
    sample_plan: TranscodePlan,
) -> None:
    long = replace(sample_plan, duration=61.0)
    assert chunkable(long, 30)
    assert not chunkable(replace(long, duration=60.0), 30)  # not longer than two chunks
    assert not chunkable(long, 7)  # not a multiple of the segment length
    assert not chunkable(replace(long, video=()), 30)  # audio only
    assert not chunkable(replace(long, fps=0.0), 30)
    text = Track(TrackType.TEXT, "en", "English", codec="subrip", index=3)
    assert not chunkable(replace(long, tracks=(text,)), 30)
    preview = long.files[0]
    twin = replace(preview, video=replace(preview.video, name=long.video[0].name))
    assert not chunkable(replace(long, files=(twin,)), 30)  # a file's video named as a rung


def test_progress_is_the_share_of_chunk_seconds_with_an_eta_from_their_speed() -> None:
    def piece(n: int, seconds: float, state: str, runs: int = 1) -> Piece:
        return Piece(n, seconds, state, runs, 1 if state == "done" else 0, 100.0, None)

    pieces = [piece(0, 60, "done"), piece(1, 60, "running", 2), piece(2, 30, "pending", 0)]
    pieces += [piece(-1, 0, "done"), piece(-2, 0, "running")]  # not chunks: not counted
    shown = progress_of(pieces, now=130.0)
    assert (shown.count, shown.done, shown.running, shown.retried) == (3, 1, 1, 1)
    assert shown.seconds_done / shown.seconds == pytest.approx(60 / 150)
    assert shown.eta_seconds == pytest.approx(90 * 30 / 60)  # 60 s of media in 30 s
    assert progress_of(pieces[1:], now=130.0).eta_seconds is None  # nothing done: no speed


def test_the_one_pass_cuts_video_a_frame_early_where_segments_are_not_whole_frames(
    sample_plan: TranscodePlan,
) -> None:
    def video_set(fps: float) -> str:
        plan = replace(sample_plan, fps=fps)
        return with_video_cut(plan, adaptation_sets(plan)).split(" ")[0]

    assert video_set(29.97) == "id=0,seg_duration=5.966633,streams=v"
    assert video_set(30.0) == video_set(25.0) == "id=0,streams=v"
