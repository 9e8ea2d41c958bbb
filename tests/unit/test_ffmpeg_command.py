"""The FFmpeg command is built from the plan and constants only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakes import HD
from vodkit.adapters.transcoder.ffmpeg import FfmpegTranscoder, build_command, ffmpeg_executable
from vodkit.bootstrap import default_presets_path
from vodkit.domain.errors import ConfigError
from vodkit.domain.planning import plan_transcode
from vodkit.domain.presets import load_presets

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
    assert "-b:v 1500000" in joined  # the preview
    assert "-hls_playlist 1" in joined and "-seg_duration 6" in joined
    assert "setdar=16/9" in args[args.index("-filter_complex") + 1]
    assert args.count("-preset") == 2 and "fast" in args


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
