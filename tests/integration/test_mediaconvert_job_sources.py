"""The MediaConvert job for real sources (bigbuckbunny, made with FFmpeg and probed with
PyAV), as the AWS footprint plans it: the issue's MKV, an MP4 with ``mov_text``, and an
MP4 whose H.264 carries CEA-608; every job valid for botocore's model."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.captioned import ASS, SRT, captioned_sources
from tests.cea608 import cea608_clip
from tests.conftest import FFMPEG, real_clip
from tests.unit.test_mediaconvert_captions import captions_in, job_of
from vodkit.adapters.presets.file import default_presets_path, load_presets
from vodkit.adapters.probe.pyav import PyavProber
from vodkit.domain.ladder import PlanningRules, plan_transcode
from vodkit.domain.plan import MEDIACONVERT, TranscodePlan

pytestmark = pytest.mark.integration


def _plan(source: Path) -> TranscodePlan:
    return plan_transcode(
        PyavProber().probe(source),
        load_presets(default_presets_path()),
        PlanningRules(encoder=MEDIACONVERT),
    )


def _issue_mkv(directory: Path) -> Path:
    """Video, English (default) and French audio, English SubRip and French ASS."""
    (directory / "en.srt").write_text(SRT)
    (directory / "fr.ass").write_text(ASS)
    target = directory / "issue.mkv"
    subprocess.run(
        [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
         "-t", "3", "-i", str(real_clip("bigbuckbunny.mp4")),
         "-f", "lavfi", "-t", "3", "-i", "sine=frequency=440:sample_rate=48000",
         "-i", str(directory / "en.srt"), "-i", str(directory / "fr.ass"),
         "-map", "0:v", "-map", "0:a", "-map", "1:a", "-map", "2", "-map", "3",
         "-vf", "scale=320:180", "-c:v", "libx264", "-preset", "ultrafast",
         "-c:a", "aac", "-ac", "2", "-b:a", "64k", "-c:s:0", "srt", "-c:s:1", "ass",
         "-metadata:s:a:0", "language=eng", "-disposition:a:0", "default",
         "-metadata:s:a:1", "language=fra", "-disposition:a:1", "0",
         "-metadata:s:s:0", "language=eng", "-metadata:s:s:1", "language=fra",
         str(target)],
        check=True,
    )  # fmt: skip
    return target


def _sources(params: dict[str, Any]) -> list[dict[str, Any]]:
    selectors, _ = captions_in(params)
    return [s["SourceSettings"] for s in selectors.values()]


def test_the_issues_mkv(tmp_path: Path) -> None:
    plan = _plan(_issue_mkv(tmp_path))
    params = job_of(plan)  # validated against botocore's model, enums and patterns too
    assert len(params["Settings"]["Inputs"][0]["AudioSelectors"]) == 2
    # stream 3 (video 0, audio 1 and 2): the file's fourth track; the ASS one (stream 4) is
    # read from the WebVTT the ingest makes of it (test_mediaconvert_captions_s3)
    assert _sources(params) == [
        {"SourceType": "SRT", "TrackSourceSettings": {"StreamNumber": 4}},
        {
            "SourceType": "WEBVTT",
            "FileSourceSettings": {"SourceFile": "s3://out/asset-1/captions/fr.vtt"},
        },
    ]
    _, outputs = captions_in(params)
    assert [o["CaptionDescriptions"][0]["CustomLanguageCode"] for o in outputs] == ["en", "fr"]
    assert plan.skipped == ()


def test_mov_text_and_cea_608(tmp_path: Path) -> None:
    mp4 = captioned_sources(tmp_path)["mp4"]
    assert _sources(job_of(_plan(mp4))) == [
        {"SourceType": "TT_3GPP", "TrackSourceSettings": {"StreamNumber": 3}}
    ]
    embedded = _sources(job_of(_plan(cea608_clip(tmp_path / "cc.mp4"))))
    assert [s["SourceType"] for s in embedded] == ["EMBEDDED"]
