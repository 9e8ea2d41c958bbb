"""The FFmpeg command is built from the plan and constants only."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from tests.fakes import HD
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.transcoder.base import Progress
from vodkit.adapters.transcoder.ffmpeg import (
    FfmpegTranscoder,
    _ProgressReader,
    _tee_slave,
    build_command,
    ffmpeg_executable,
)
from vodkit.domain.errors import ConfigError
from vodkit.domain.ladder import plan_transcode

PLAN = plan_transcode(HD, load_presets(default_presets_path()))


def test_the_input_is_forced_local_and_neutral(tmp_path: Path) -> None:
    args = build_command(
        PLAN, tmp_path / "input", tmp_path, ffmpeg="ffmpeg", x264_preset="veryfast"
    )
    i = args.index("-i")
    assert args[i + 1] == f"file:{tmp_path / 'input'}"
    assert args[i - 4 : i] == ["-protocol_whitelist", "file", "-f", "mov"]
    assert args.count("-i") == 1


def test_rungs_share_keyframes_and_get_their_bitrates(tmp_path: Path) -> None:
    args = build_command(PLAN, tmp_path / "input", tmp_path, ffmpeg="ffmpeg", x264_preset="fast")
    joined = " ".join(args)
    assert "-force_key_frames expr:gte(t,n_forced*2)" in joined
    assert "-sc_threshold 0" in joined
    assert "-b:v:0 2000000" in joined and "-b:v:1 1000000" in joined
    assert "-b:v:2 1500000" in joined  # the preview
    slaves = args[args.index("tee") + 1]
    assert "hls_playlist=1" in slaves and "seg_duration=6" in slaves
    assert "setdar=16/9" in args[args.index("-filter_complex") + 1]
    assert args.count("-preset") == 1 and "fast" in args  # one output: every encode alike


def test_the_preview_reuses_the_stream_audio_encode(tmp_path: Path) -> None:
    """The preview's 128k AAC is encoded like the 720p rung's: one encode, two muxers."""
    assert [a.bitrate for a in PLAN.audio] == [128_000, 96_000]
    assert PLAN.audio_encodes == PLAN.audio
    assert PLAN.audio_source(PLAN.files[0]) == 0
    args = build_command(PLAN, tmp_path / "input", tmp_path, ffmpeg="ffmpeg", x264_preset="fast")
    assert "asplit=2" in args[args.index("-filter_complex") + 1]
    assert [a for a in args if a.startswith("-b:a")] == ["-b:a:0", "-b:a:1"]
    dash, preview = args[args.index("tee") + 1].split("|")
    assert r"select=v\\:0,v\\:1,a\\:0,a\\:1" in dash
    assert r"select=v\\:2,a\\:0" in preview and preview.endswith(f"{tmp_path}/mp4/preview.mp4")


def test_a_preview_with_its_own_audio_encoding_gets_its_own_encode(tmp_path: Path) -> None:
    own = replace(PLAN.files[0], audio=replace(PLAN.audio[0], name="mp4_64k", bitrate=64_000))
    plan = replace(PLAN, files=(own,))
    assert plan.audio_encodes == (*PLAN.audio, own.audio)
    assert plan.audio_source(own) == 2
    args = build_command(plan, tmp_path / "input", tmp_path, ffmpeg="ffmpeg", x264_preset="fast")
    assert "-b:a:2 64000" in " ".join(args)
    assert r"select=v\\:2,a\\:2" in args[args.index("tee") + 1]


def test_tee_slaves_escape_what_the_tee_would_split_on() -> None:
    slave = _tee_slave("/work/a|b's/x.mp4", f="mp4", select="v:0,a:1", movflags="+faststart")
    # Once for the list of slaves, once for the options: "|" and "'" are escaped once,
    # ":" inside a value twice (its backslash is escaped by the list's pass).
    assert slave == r"[f=mp4:select=v\\:0,a\\:1:movflags=+faststart]/work/a\|b\'s/x.mp4"


def test_the_ffmpeg_setting(tmp_path: Path) -> None:
    bundled = ffmpeg_executable("bundled")
    assert os.access(bundled, os.X_OK)
    link = tmp_path / "my-ffmpeg"
    link.symlink_to(bundled)
    assert ffmpeg_executable(str(link)) == str(link)
    with pytest.raises(ConfigError, match="cannot find"):
        ffmpeg_executable(str(tmp_path / "missing"))


def test_an_ffmpeg_without_the_needed_encoders_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "ffmpeg"
    fake.write_text("#!/bin/sh\necho ' V..... mpeg4 MPEG-4 part 2'\n")
    fake.chmod(0o755)
    with pytest.raises(ConfigError, match="libx264, aac, mjpeg"):
        FfmpegTranscoder(str(fake)).check()
    FfmpegTranscoder("bundled").check()


def test_progress_only_moves_forward_and_its_eta_is_never_negative() -> None:
    seen: list[Progress] = []
    reader = _ProgressReader(10.0, seen.append)
    for microseconds in (-5, 2_000_000, 5_000_000, 4_000_000, 10_300_000, "N/A"):
        reader(f"out_time_us={microseconds}")
    assert [round(p.percent, 1) for p in seen] == [0.0, 20.0, 50.0, 50.0, 99.9]
    assert seen[0].eta_seconds is None  # nothing done yet: no speed to judge by
    assert all(p.eta_seconds is not None and p.eta_seconds >= 0 for p in seen[1:])
    assert seen[-1].eta_seconds == 0.0  # audio ran past the video's end
